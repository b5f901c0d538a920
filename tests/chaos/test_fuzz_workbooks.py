"""Hostile workbooks through ``irpctl config load`` against a live daemon: every one is refused
with its problems listed and nothing is stored; randomly damaged workbooks (hypothesis) are
either refused with problems or accepted, never crash the daemon, and a dry run never writes."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from . import dbtools
from .conftest import ChaosRun, Processes
from .harness import Daemon, DaemonSettings, call, irpctl
from .hostile import answer, exchange
from .workbooks import HOSTILE_WORKBOOKS, sample_bytes

pytestmark = pytest.mark.chaos

CYCLE = "workbook-fuzz"


def _daemon(procs: Processes, dsn: str) -> Daemon:
    daemon = procs.daemon(DaemonSettings(dsn, procs.fake(4).base_url, procs.workdir))
    call(daemon.socket_path, "cycle.create", name=CYCLE)
    return daemon


def test_hostile_workbooks_are_refused_with_problems_and_store_nothing(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    daemon = _daemon(procs, db_dsn)
    before = dbtools.fingerprint(db_dsn)
    sample = procs.workdir / "sample.xlsx"
    sample.write_bytes(sample_bytes())
    dry = irpctl(daemon.socket_path, "config", "load", sample, "--cycle", CYCLE, "--dry-run")
    assert dry.rc == 0, dry
    assert dry.json.get("valid", True) is not False, dry
    seen: dict[str, int] = {}
    for name, build, codes in HOSTILE_WORKBOOKS:
        path = procs.workdir / f"{name}.xlsx"
        path.write_bytes(build())
        done = irpctl(daemon.socket_path, "config", "load", path, "--cycle", CYCLE)
        assert done.rc == 1, f"{name}: not refused: {done}"
        problems = done.json["error"]["details"]["problems"]
        listed = {p["code"] for p in problems}
        assert listed & set(codes), f"{name}: problems {sorted(listed)} lack {codes}"
        assert all(p.get("message") for p in problems), f"{name}: a problem without message"
        assert dbtools.fingerprint(db_dsn) == before, f"{name}: the refusal changed the database"
        seen[name] = len(problems)
    assert daemon.running
    chaos.report(f"refused with problems listed, nothing stored: {seen}")


def _damaged(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    damaged = bytearray(data)
    for position, value in edits:
        damaged[position % len(damaged)] = value
    return bytes(damaged[:cut] if cut else damaged)


def test_damaged_workbooks_are_refused_or_loaded_never_crash(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    daemon = _daemon(procs, db_dsn)
    original = sample_bytes()
    outcomes: dict[str, int] = {}
    baseline = [dbtools.fingerprint(db_dsn)]

    def load(content: bytes, dry_run: bool) -> dict[str, object]:
        line = (
            b'{"v":1,"id":1,"command":"config.load","args":{"cycle":"' + CYCLE.encode()
            + b'","filename":"fuzz.xlsx","dry_run":' + (b"true" if dry_run else b"false")
            + b',"content_b64":"' + base64.b64encode(content) + b'"}}\n'
        )
        return answer(exchange(daemon.socket_path, line, timeout=60))

    @seed(chaos.settings.seed)
    @settings(
        max_examples=max(10, chaos.settings.fuzz_examples // 5),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        edits=st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)),
                       max_size=8),
        cut=st.none() | st.integers(1, len(original)),
        dry_run=st.booleans(),
    )
    def probe(edits: list[tuple[int, int]], cut: int | None, dry_run: bool) -> None:
        response = load(_damaged(original, edits, cut), dry_run)
        error = response.get("error")
        if isinstance(error, dict):
            assert error.get("type") != "InternalError", response
            details = error.get("details")
            assert isinstance(details, dict), response
            assert details.get("problems"), response
            assert dbtools.fingerprint(db_dsn) == baseline[-1], "a refused workbook was stored"
            outcomes["refused"] = outcomes.get("refused", 0) + 1
            return
        result = response["result"]
        assert isinstance(result, dict)
        if dry_run or result.get("valid") is False:
            assert dbtools.fingerprint(db_dsn) == baseline[-1], "a dry run wrote"
            outcomes["dry-run"] = outcomes.get("dry-run", 0) + 1
        else:
            baseline.append(dbtools.fingerprint(db_dsn))
            outcomes["loaded"] = outcomes.get("loaded", 0) + 1

    probe()
    assert call(daemon.socket_path, "ping") == {"pong": True}
    chaos.report(f"damaged workbooks: {outcomes}")
