"""The console's pure parts: sessions, CSRF, accounts, proxy trust, the override editor's
parsing, page cursors, the OpenAPI document, the live hub's fan-out, charts, and the client's
error mapping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from irpd.client.calls import ApiError, Unavailable, raise_for
from irpd.config import WebConfig
from irpd.errors import BatchError, ConfigError, ConfigurationError, JobError
from irpd.web import charts
from irpd.web.api import ROUTES, openapi
from irpd.web.auth import (
    Accounts,
    AuthSettings,
    Signer,
    hash_password,
    new_session,
    proxy_identity,
    token_digest,
)
from irpd.web.live import Hub
from irpd.web.pages import DomainErrorForField, override_from_form, parse_field
from irpd.web.reads import JobsQuery, config_diff, decode_cursor, encode_cursor


def test_signed_sessions_reject_tampering_and_expiry() -> None:
    signer = Signer(b"k" * 32)
    token = signer.dumps({"sid": "abc", "exp": time.time() + 60, "role": "viewer"})
    assert signer.loads(token) == {
        "sid": "abc",
        "exp": pytest.approx(time.time() + 60, abs=5),
        "role": "viewer",
    }
    body, _, mac = token.partition(".")
    forged = Signer(b"k" * 32).dumps({"sid": "abc", "exp": time.time() + 60, "role": "operator"})
    assert signer.loads(forged.partition(".")[0] + "." + mac) is None
    assert signer.loads(body + ".x") is None
    assert Signer(b"other" * 8).loads(token) is None
    assert signer.loads(signer.dumps({"sid": "a", "exp": time.time() - 1})) is None
    assert signer.csrf("a") != signer.csrf("b")
    assert signer.csrf("a") == Signer(b"k" * 32).csrf("a")


def test_new_sessions_have_distinct_ids() -> None:
    assert new_session(1)["sid"] != new_session(1)["sid"]


def _accounts(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_accounts_log_in_with_argon2_and_tokens(tmp_path: Path) -> None:
    hashed = hash_password("s3cret-pass")
    path = _accounts(
        tmp_path,
        f'[users.ann]\nrole = "operator"\npassword_hash = "{hashed}"\n'
        f'[tokens.nb]\nrole = "viewer"\ntoken_sha256 = "{token_digest("tok")}"\n',
    )
    accounts = Accounts.load(str(path))
    ann = accounts.login("ann", "s3cret-pass")
    assert ann is not None
    assert ann.can_act
    assert accounts.login("ann", "wrong") is None
    assert accounts.login("nobody", "s3cret-pass") is None
    token = accounts.bearer("tok")
    assert token is not None
    assert (token.user, token.role, token.can_act) == ("token:nb", "viewer", False)
    assert accounts.bearer("other") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[users.x]\nrole = "admin"\npassword_hash = "$argon2id$x"\n', "role must be"),
        ('[users.x]\nrole = "viewer"\npassword_hash = "plain"\n', "argon2 hash"),
        ('[tokens.t]\nrole = "viewer"\ntoken_sha256 = "short"\n', "sha256"),
        ("[groups]\n", "unknown section"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_accounts_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Accounts.load(str(_accounts(tmp_path, text)))


def test_proxy_headers_are_believed_only_from_trusted_proxies() -> None:
    settings = AuthSettings.from_config(
        WebConfig(
            proxy_user_header="X-User",
            proxy_role_header="X-Role",
            trusted_proxies=("127.0.0.1", "10.1.0.0/16"),
        )
    )
    headers = {"X-User": "pat", "X-Role": "operator"}
    who = proxy_identity(settings, "10.1.2.3", headers)
    assert who is not None
    assert (who.user, who.role, who.via) == ("pat", "operator", "proxy")
    assert proxy_identity(settings, "192.0.2.9", headers) is None
    viewer = proxy_identity(settings, "127.0.0.1", {"X-User": "pat", "X-Role": "admin"})
    assert viewer is not None
    assert viewer.role == "viewer"
    assert proxy_identity(settings, "127.0.0.1", {}) is None


def test_web_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="anonymous_role"):
        AuthSettings.from_config(WebConfig(anonymous_role="admin"))
    with pytest.raises(ConfigError, match="trusted_proxies"):
        AuthSettings.from_config(WebConfig(proxy_user_header="X-User"))
    with pytest.raises(ConfigError, match="trusted_proxies"):
        AuthSettings.from_config(WebConfig(proxy_user_header="X", trusted_proxies=("nope",)))


def test_override_editor_keeps_types_and_only_changed_parameters() -> None:
    original = {"name": "a", "n": 3, "x": 0.5, "on": True, "tags": ["t"], "same": "s"}
    form = {
        "param:name": "a",
        "param:n": "4",
        "param:x": "0.5",
        "param:on": "false",
        "param:tags": '["t", "u"]',
    }
    merged, changed = override_from_form(original, form)
    assert changed == ["n", "on", "tags"]
    assert merged == {**original, "n": 4, "on": False, "tags": ["t", "u"]}
    with pytest.raises(DomainErrorForField, match="'n'"):
        override_from_form(original, {"param:n": "four"})
    assert parse_field(1.5, " 2 ") == 2.0
    with pytest.raises(ValueError, match="finite"):
        parse_field(1.5, "nan")
    with pytest.raises(ValueError, match="true or false"):
        parse_field(True, "maybe")


def test_config_diff_lists_changed_added_and_removed_keys() -> None:
    assert config_diff({"a": 1, "b": 2, "c": None}, {"a": 1, "b": 3, "d": 4}) == [
        {"key": "b", "before": 2, "after": 3},
        {"key": "c", "before": None, "after": None},
        {"key": "d", "before": None, "after": 4},
    ]


@pytest.mark.parametrize(
    ("sort", "row"),
    [
        ("id", {"id": 7}),
        ("-id", {"id": 7}),
        ("status", {"id": 7, "status": "FAILED"}),
        ("-changed", {"id": 7, "status_changed_ts": "2026-01-02T03:04:05.123456+00:00"}),
    ],
)
def test_page_cursors_round_trip(sort: str, row: dict[str, Any]) -> None:
    job_id, value = decode_cursor(encode_cursor(row, sort), sort)
    assert job_id == 7
    if sort == "status":
        assert value == "FAILED"
    if sort == "-changed":
        assert value.isoformat() == row["status_changed_ts"]


@pytest.mark.parametrize("cursor", ["", "!!", "bm90LWFuLWlk", "MH4="])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BatchError, match="Invalid after"):
        decode_cursor(cursor or "x", "status")


def test_jobs_queries_are_validated() -> None:
    with pytest.raises(BatchError, match="Invalid status"):
        JobsQuery(1, status="NOPE").validated()
    with pytest.raises(BatchError, match="Invalid sort"):
        JobsQuery(1, sort="name").validated()
    with pytest.raises(BatchError, match="Invalid limit"):
        JobsQuery(1, limit=0).validated()
    with pytest.raises(BatchError, match="batch_id"):
        JobsQuery(0).validated()


def test_openapi_describes_every_route_once() -> None:
    doc = openapi()
    operations = [op for path in doc["paths"].values() for op in path.values()]
    assert len(operations) == len(ROUTES)
    assert len({op["operationId"] for op in operations}) == len(ROUTES)
    skip = doc["paths"]["/api/v1/jobs/{job_id}/skip"]["post"]
    body = skip["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["reason"]
    assert "job_id" not in body["properties"]  # given by the path
    assert {"200", "400", "401", "403", "404", "422", "503"} <= set(skip["responses"])


async def test_the_hub_reads_once_per_burst_for_every_subscriber() -> None:
    reads: list[Sequence[int]] = []

    async def read(ids: Sequence[int]) -> list[dict[str, Any]]:
        reads.append(list(ids))
        return [{"batch_id": i, "status": "ACTIVE"} for i in ids]

    hub = Hub(read, interval=0.01)
    queues = [hub.subscribe() for _ in range(50)]
    task = asyncio.create_task(hub.run())
    try:
        for payload in ("3", "1", "3", "junk", "1"):
            hub.notified(payload)
        events = [await asyncio.wait_for(q.get(), 5) for q in queues]
    finally:
        task.cancel()
    assert reads == [[1, 3]]
    assert len(set(events)) == 1
    assert events[0].startswith("event: batches\n")
    assert '"batch_id":1' in events[0]
    hub.unsubscribe(queues[0])
    assert hub.subscribers == 49


def test_charts_segments_and_svg_have_text() -> None:
    segs = charts.segments({"FINISHED": 3, "FAILED": 1, "ERROR": 1})
    assert [(s["name"], s["n"]) for s in segs] == [("finished", 3), ("failed", 2)]
    svg = charts.histogram_svg([{"bucket": 1, "n": 2}, {"bucket": 3, "n": 1}], 4, 10.0, 50.0)
    assert 'role="img"' in svg
    assert "3 finished jobs" in svg
    assert "No finished" in charts.histogram_svg([], 4, None, None)


def test_the_client_raises_the_specs_errors() -> None:
    with pytest.raises(BatchError, match="Batch 9 not found"):
        raise_for(404, {"error": {"type": "BatchError", "message": "Batch 9 not found."}})
    with pytest.raises(ConfigurationError) as rejected:
        raise_for(
            422,
            {
                "error": {
                    "type": "ConfigurationError",
                    "message": "bad",
                    "details": {"problems": [{"code": "X"}]},
                }
            },
        )
    assert rejected.value.problems == [{"code": "X"}]  # type: ignore[attr-defined]
    with pytest.raises(JobError):
        raise_for(422, {"error": {"type": "JobError", "message": "no"}})
    with pytest.raises(ApiError) as denied:
        raise_for(403, {"error": {"type": "PermissionDenied", "message": "viewer"}})
    assert denied.value.status == 403
    with pytest.raises(Unavailable):
        raise_for(503, {"error": {"type": "DatabaseUnavailable", "message": "down"}})
    with pytest.raises(Unavailable):
        raise_for(502, "<html>bad gateway</html>")


def test_chart_axis_labels_are_as_precise_as_the_span_needs() -> None:
    short = charts.time_labels("2026-12-07T03:23:10+00:00", "2026-12-07T03:24:20+00:00")
    assert short == ["2026-12-07 03:23:10", "03:23:45", "03:24:20"]  # a short batch: seconds
    long = charts.time_labels("2026-12-07T03:00:00+00:00", "2026-12-07T09:00:00+00:00")
    assert long == ["2026-12-07 03:00", "06:00", "09:00"]
    assert charts.time_labels("2026-12-07T03:00:00+00:00", "2026-12-07T03:00:00+00:00") == [
        "2026-12-07 03:00"
    ]
    timeline = {
        "buckets": 2,
        "start": "2026-12-07T03:23:10+00:00",
        "end": "2026-12-07T03:23:40+00:00",
        "counts": [{"bucket": 1, "status": "FINISHED", "n": 2}],
    }
    svg = charts.timeline_svg(timeline)
    assert ">2026-12-07 03:23:10<" in svg
    assert ">03:23:25<" in svg
    assert ">03:23:40<" in svg
    edges = charts.duration_labels([125.0, 150.0])
    assert edges == ["2.1 min", "2.5 min"]
    histogram = charts.histogram_svg([{"bucket": 1, "n": 1}], 1, 125.0, 150.0)
    assert ">2.1 min<" in histogram
    assert ">2.5 min<" in histogram
