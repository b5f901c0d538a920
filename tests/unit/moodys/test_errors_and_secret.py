"""Error classification by HTTP status and the Secret wrapper."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from irpd.errors import ConfigError, PermanentError, RetryableError
from irpd.moodys import errors
from irpd.moodys.errors import ErrorDetails, error_for_status
from irpd.moodys.secret import RedactedHeaderValue, Secret, scrub


@pytest.mark.parametrize(
    ("status", "expected", "retryable"),
    [
        (429, errors.MoodysRateLimited, True),
        (409, errors.MoodysRequestInFlight, True),
        (500, errors.MoodysServerError, True),
        (502, errors.MoodysServerError, True),
        (503, errors.MoodysServerError, True),
        (504, errors.MoodysServerError, True),
        (408, errors.MoodysServerError, True),
        (400, errors.MoodysBadRequest, False),
        (401, errors.MoodysAuthenticationError, False),
        (403, errors.MoodysForbidden, False),
        (404, errors.MoodysNotFound, False),
        (405, errors.MoodysBadRequest, False),
    ],
)
def test_status_classification(status: int, expected: type, retryable: bool) -> None:
    error = error_for_status(status, method="GET", path="/p", details=ErrorDetails())
    assert type(error) is expected
    assert isinstance(error, RetryableError) is retryable
    assert isinstance(error, PermanentError) is not retryable


def test_403_naming_a_rate_limit_is_retryable() -> None:
    details = ErrorDetails(code="IAM-429", message="Request rate limit exceeded")
    error = error_for_status(403, method="GET", path="/p", details=details, retry_after=3.0)
    assert isinstance(error, errors.MoodysRateLimited)
    assert error.retry_after == 3.0


def test_error_carries_moodys_fields_and_renders_them() -> None:
    details = ErrorDetails(code="WORKFLOW-511", message="Invalid workflow id: 9", log_id="e5c4")
    error = error_for_status(404, method="GET", path="/riskmodeler/v1/workflows/9", details=details)
    assert (error.code, error.moodys_message, error.log_id) == (
        "WORKFLOW-511",
        "Invalid workflow id: 9",
        "e5c4",
    )
    assert (error.http_status, error.method, error.path) == (
        404,
        "GET",
        "/riskmodeler/v1/workflows/9",
    )
    assert str(error) == (
        "request rejected; GET /riskmodeler/v1/workflows/9 -> 404; "
        "WORKFLOW-511: Invalid workflow id: 9; logId=e5c4"
    )


def test_error_without_json_shows_the_excerpt() -> None:
    error = error_for_status(
        502, method="POST", path="/x", details=ErrorDetails(excerpt="Bad Gateway")
    )
    assert "body: 'Bad Gateway'" in str(error)


def test_kinds_are_distinct() -> None:
    kinds = {
        cls.kind
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.MoodysError)
    }
    assert len(kinds) >= 17


def test_unresolved_reference_names_the_name() -> None:
    error = errors.UnresolvedReference("model profile", "DLM X", scope="EDM 'E'")
    assert str(error) == "model profile 'DLM X' not found in EDM 'E'"
    assert isinstance(error, PermanentError)


def test_secret_never_shows_its_value() -> None:
    secret = Secret("s3cr3t-key")
    for rendering in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>5}",
        repr([secret]),
        repr({"k": secret}),
    ):
        assert "s3cr3t" not in rendering
    assert secret.reveal() == "s3cr3t-key"
    assert secret == Secret("s3cr3t-key")
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_secret_from_env_and_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IRPD_TEST_KEY", "  k1  ")
    assert Secret.from_env("IRPD_TEST_KEY").reveal() == "k1"
    monkeypatch.delenv("IRPD_TEST_KEY")
    with pytest.raises(ConfigError, match="IRPD_TEST_KEY"):
        Secret.from_env("IRPD_TEST_KEY")
    path = tmp_path / "key"
    path.write_text("\n  k2\nignored\n")
    assert Secret.from_file(path).reveal() == "k2"
    path.write_text("\n\n")
    with pytest.raises(ConfigError, match="empty"):
        Secret.from_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        Secret.from_file(tmp_path / "missing")


def test_empty_secret_is_rejected() -> None:
    with pytest.raises(ConfigError):
        Secret("")


def test_redacted_header_value_hides_in_repr_but_not_on_the_wire() -> None:
    value = RedactedHeaderValue("raw-key")
    assert repr(value) == "'***'"
    assert repr({"Authorization": value}) == "{'Authorization': '***'}"
    assert value == "raw-key"
    assert value.encode() == b"raw-key"


def test_scrub() -> None:
    assert scrub("echo raw-key back", "raw-key", "") == "echo *** back"
