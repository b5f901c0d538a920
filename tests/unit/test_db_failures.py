"""How database failures are sorted (wait, degrade, configuration error) and what the health
state makes of them: outages once each way, degradations alerted, repeated and cleared."""

from __future__ import annotations

import asyncpg
import pytest
from structlog.testing import capture_logs

from irpd.control.handlers import translate_error
from irpd.db import failures
from irpd.db.conflicts import CONFLICT_RETRY
from irpd.engine.health import DatabaseHealth


@pytest.mark.parametrize(
    ("error", "expected", "reason"),
    [
        (ConnectionRefusedError(111, "refused"), failures.DatabaseUnavailable, "unreachable"),
        (TimeoutError(), failures.DatabaseUnavailable, "unreachable"),
        (
            asyncpg.TooManyConnectionsError("sorry, too many clients"),
            failures.DatabaseUnavailable,
            "",
        ),
        (asyncpg.CannotConnectNowError("the database system is starting up"), None, ""),
        (asyncpg.AdminShutdownError("terminating connection"), None, ""),
        (
            asyncpg.ReadOnlySQLTransactionError("read-only transaction"),
            failures.DatabaseReadOnly,
            "",
        ),
        (asyncpg.TargetServerAttributeNotMatched("no host"), failures.DatabaseReadOnly, ""),
        (asyncpg.InsufficientPrivilegeError("permission denied"), failures.DatabaseDegraded, ""),
        (asyncpg.UndefinedTableError("relation does not exist"), failures.DatabaseDegraded, ""),
        (asyncpg.ForeignKeyViolationError("violates foreign key"), failures.DatabaseDegraded, ""),
        (asyncpg.CheckViolationError("violates check"), failures.DatabaseDegraded, ""),
        (asyncpg.UniqueViolationError("duplicate key"), failures.UniqueViolation, ""),
    ],
)
def test_translation(error: BaseException, expected: type | None, reason: str) -> None:
    translated = failures.translate(error, "job_update")
    assert isinstance(translated, expected or failures.DatabaseUnavailable)
    if reason:
        assert getattr(translated, "reason", None) == reason


def test_degraded_names_the_statement_and_its_sqlstate() -> None:
    error = failures.translate(
        asyncpg.InsufficientPrivilegeError("permission denied for irp_job"), "q"
    )
    assert isinstance(error, failures.DatabaseDegraded)
    assert error.query == "q"
    assert error.sqlstate == "42501"
    assert "42501" in str(error)
    assert "permission denied" in str(error)


def test_bugs_are_not_translated() -> None:
    assert failures.translate(asyncpg.PostgresSyntaxError("syntax error"), "q") is None
    assert failures.translate(ZeroDivisionError(), "q") is None


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (asyncpg.InvalidPasswordError("password authentication failed"), "rejected"),
        (asyncpg.InvalidAuthorizationSpecificationError("no pg_hba.conf entry"), "pg_hba"),
        (asyncpg.InvalidCatalogNameError('database "x" does not exist'), "does not exist"),
        (asyncpg.ClientConfigurationError("bad sslmode"), "not valid"),
        (ValueError("invalid literal for int()"), "not valid"),
    ],
)
def test_configuration_errors_at_connect(error: BaseException, words: str) -> None:
    wrong = failures.connect_error(error)
    assert isinstance(wrong, failures.DatabaseConfigError)
    assert words in str(wrong)
    assert "database.dsn" in str(wrong)


def test_outages_are_not_configuration_errors() -> None:
    assert failures.connect_error(ConnectionRefusedError(111, "refused")) is None
    assert failures.connect_error(asyncpg.TooManyConnectionsError("too many")) is None


def test_sessions_are_writable() -> None:
    assert failures.session_attrs("postgresql://h1,h2/irpd") == "read-write"
    assert failures.session_attrs("postgresql://h1,h2/irpd?target_session_attrs=read-write") is None
    assert failures.session_attrs("postgresql://h/irpd?target_session_attrs=primary") is None
    with pytest.raises(failures.DatabaseConfigError, match="target_session_attrs=standby"):
        failures.session_attrs("postgresql://h/irpd?target_session_attrs=standby")


def _degraded(query: str = "job_update") -> failures.DatabaseDegraded:
    error = failures.translate(asyncpg.InsufficientPrivilegeError("permission denied"), query)
    assert isinstance(error, failures.DatabaseDegraded)
    return error


def test_a_degradation_is_alerted_once_then_at_the_interval() -> None:
    health = DatabaseHealth()
    with capture_logs() as logs:
        for _ in range(5):
            health.record("job_update", _degraded())
        health.record("ping", None)  # other statements succeeding do not clear it
    alerts = [e for e in logs if e["event"] == "database_degraded"]
    assert len(alerts) == 1
    assert alerts[0]["sqlstate"] == "42501"
    assert alerts[0]["query"] == "job_update"
    snap = health.snapshot()
    assert snap["available"] is True
    assert snap["state"] == "degraded"
    assert snap["degraded"][0]["refusals"] == 5
    assert snap["degraded"][0]["sqlstate"] == "42501"

    health.alert_interval = 0.0  # every refusal is past the interval now
    with capture_logs() as logs:
        health.record("job_update", _degraded())
    assert [e["refusals"] for e in logs if e["event"] == "database_degraded"] == [6]


def test_a_degradation_clears_when_the_statement_succeeds() -> None:
    health = DatabaseHealth()
    health.record("job_update", _degraded())
    with capture_logs() as logs:
        health.record("job_update", None)
    assert [e["event"] for e in logs] == ["database_degradation_cleared"]
    assert health.snapshot()["state"] == "ok"
    assert health.snapshot()["degraded"] == []


def test_retry_now_forgets_degradations() -> None:
    health = DatabaseHealth()
    health.record("a", _degraded("a"))
    with capture_logs() as logs:
        health.retry_now()
    assert logs[0]["event"] == "database_degradation_reset"
    assert logs[0]["queries"] == ["a"]
    assert health.state == "ok"


def test_read_only_is_an_outage_with_its_reason() -> None:
    health = DatabaseHealth()
    error = failures.translate(asyncpg.ReadOnlySQLTransactionError("cannot execute UPDATE"), "q")
    assert error is not None
    with capture_logs() as logs:
        health.record("q", error)
        health.record("q", error)
    assert [e["event"] for e in logs] == ["database_unavailable"]
    assert logs[0]["reason"] == "read_only"
    snap = health.snapshot()
    assert snap["available"] is False
    assert snap["reason"] == "read_only"
    assert snap["sqlstate"] == "25006"
    assert snap["state"] == "unavailable"


def test_operators_see_the_refusal_and_its_sqlstate() -> None:
    kind, message, details = translate_error(_degraded("batch_queue_jobs")) or ("", "", None)
    assert kind == "DatabaseDegraded"
    assert "batch_queue_jobs" in message
    assert "nothing was changed" in message
    assert details == {"sqlstate": "42501"}
    read_only = failures.translate(asyncpg.ReadOnlySQLTransactionError("read-only"), "q")
    assert read_only is not None
    kind, message, _ = translate_error(read_only) or ("", "", None)
    assert kind == "DatabaseReadOnly"
    assert "(read_only)" in message


def test_the_conflict_retry_pauses_at_most_as_documented() -> None:
    """docs/operations.md: 6 tries, pauses of up to 20 ms × 2ⁿ⁻¹ between them, ~0.6 s in all."""
    retry = CONFLICT_RETRY
    assert (retry.attempts, retry.first_delay, retry.max_delay) == (6, 0.02, 1.0)
    caps = [min(retry.max_delay, retry.first_delay * 2 ** (n - 1)) for n in range(1, 6)]
    assert sum(caps) == pytest.approx(0.62)
