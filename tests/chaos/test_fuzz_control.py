"""Fuzzing the control socket of a live daemon: hostile requests get a clear error and change
nothing; oversized lines, clients that never write and crowds of clients do not stop it from
serving others; peers off the allow-list are refused."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings

from . import dbtools
from .conftest import ChaosRun, Processes
from .cycle import jobs_workbook
from .harness import Daemon, DaemonSettings, call
from .hostile import Hostile, answer, exchange, hostile_requests
from .verdict import wait_settled

pytestmark = pytest.mark.chaos

MAX_REQUEST_BYTES = 65536
IDLE_TIMEOUT = 2.0
MAX_CLIENTS = 16
CONTROL_ENV = {
    "IRPD_CONTROL_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES),
    "IRPD_CONTROL_REQUEST_TIMEOUT": str(IDLE_TIMEOUT),
    "IRPD_CONTROL_MAX_CLIENTS": str(MAX_CLIENTS),
}


def populated_daemon(procs: Processes, dsn: str, **env: str) -> Daemon:
    """A daemon whose database holds a settled batch (so ids exist), idle afterwards."""
    fake = procs.fake(1)
    daemon = procs.daemon(
        DaemonSettings(dsn, fake.base_url, procs.workdir, extra_env={**CONTROL_ENV, **env})
    )
    call(daemon.socket_path, "cycle.create", name="fuzz-cycle")
    loaded = call(
        daemon.socket_path, "config.load", cycle="fuzz-cycle", filename="fuzz.xlsx",
        content_b64=base64.b64encode(jobs_workbook(10)).decode(),
    )
    batch = call(daemon.socket_path, "batch.create", batch_type="multi_job",
                 configuration_id=loaded["configuration_id"])
    batch_id = int(batch.get("batch_id", batch.get("id")))
    call(daemon.socket_path, "batch.submit", batch_id=batch_id)
    wait_settled(dsn, [batch_id], timeout=60)
    return daemon


def _check_refusal(request: Hostile, raw: bytes) -> None:
    response = answer(raw)
    assert response.get("v") == 1, response
    error = response.get("error") or {}
    if request.must_be_protocol_error:
        assert response.get("ok") is False, f"{request.kind} {request.line[:120]!r} -> {response}"
        assert error.get("type") == "ProtocolError", f"{request.line[:120]!r} -> {response}"
    elif response.get("ok") is not False:
        assert request.command in READ_ONLY_OK, f"{request.line[:200]!r} was accepted: {response}"
    assert error.get("type") != "InternalError", f"{request.line[:200]!r} crashed: {response}"
    if response.get("ok") is False:
        assert str(error.get("message", "")).strip(), f"no message: {response}"


#: read-only commands may answer an absent id with an empty result (listings and reports;
#: ``report.batches`` takes its cycle id as an optional filter)
READ_ONLY_OK = frozenset(
    {"batch.jobs", "batch.configs", "report.batches", "report.jobs", "job.tracking"}
)


def test_hostile_requests_are_refused_and_change_nothing(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    daemon = populated_daemon(procs, db_dsn)
    before = dbtools.fingerprint(db_dsn)
    kinds: dict[str, int] = {}

    @seed(chaos.settings.seed)
    @settings(
        max_examples=chaos.settings.fuzz_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=hostile_requests())
    def probe(request: Hostile) -> None:
        kinds[request.kind] = kinds.get(request.kind, 0) + 1
        _check_refusal(request, exchange(daemon.socket_path, request.line))
        assert call(daemon.socket_path, "ping") == {"pong": True}

    probe()
    assert dbtools.fingerprint(db_dsn) == before, "a refused request changed the database"
    assert daemon.running
    chaos.report(f"{sum(kinds.values())} hostile requests refused, db unchanged: {kinds}")


def test_oversized_idle_and_crowding_clients_do_not_stop_service(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    daemon = procs.daemon(
        DaemonSettings(db_dsn, procs.fake(2).base_url, procs.workdir, extra_env=CONTROL_ENV)
    )
    path = daemon.socket_path
    before = dbtools.fingerprint(db_dsn)

    huge = b'{"v":1,"command":"cycle.create","args":{"name":"' + b"x" * 200_000 + b'"}}\n'
    refused = answer(exchange(path, huge))
    assert refused["ok"] is False, refused
    assert "larger than" in refused["error"]["message"], refused

    idle = [_connect(path) for _ in range(MAX_CLIENTS // 2)]
    started = time.monotonic()
    assert call(path, "status")["pid"] == daemon.proc.pid
    for sock in idle:
        assert sock.recv(1) == b"", "an idle client was not disconnected"
    waited = time.monotonic() - started
    for sock in idle:
        sock.close()

    answers = _crowd(path, clients=MAX_CLIENTS * 3)
    kinds = {kind for kind in answers}
    assert kinds <= {"ok", "Busy", "ProtocolError"}, answers
    assert answers.count("ok") >= 1
    assert call(path, "ping") == {"pong": True}
    assert dbtools.fingerprint(db_dsn) == before, "refused requests changed the database"
    chaos.report(
        f"200 kB line refused; {len(idle)} idle clients cut after {waited:.1f} s "
        f"(idle timeout {IDLE_TIMEOUT:g} s) while status answered; crowd of {len(answers)}: "
        f"{ {k: answers.count(k) for k in sorted(kinds)} }"
    )


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(IDLE_TIMEOUT + 10)
    sock.connect(str(path))
    return sock


def _crowd(path: Path, clients: int) -> list[str]:
    """Many clients at once, half sending garbage: the kind of every answer."""
    results: list[str] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        line = b'{"v":1,"command":"status"}\n' if index % 2 else b"garbage{\n"
        try:
            response = answer(exchange(path, line, timeout=30))
            kind = "ok" if response.get("ok") else str(response["error"]["type"])
        except OSError as exc:
            kind = f"{type(exc).__name__}"
        with lock:
            results.append(kind)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


#: run as another user: a refused peer is told so at once; an admitted one would create a cycle
PEER_SCRIPT = """
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
sock.settimeout(1.0)
try:
    data = sock.recv(65536)
except socket.timeout:
    sock.settimeout(10)
    sock.sendall(b'{"v":1,"command":"cycle.create","args":{"name":"intruder"}}\\n')
    data = sock.recv(65536)
sys.stdout.write(data.decode())
"""


def test_peers_off_the_allow_list_are_refused(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    system_python = shutil.which("python3", path="/usr/bin:/bin")
    if os.geteuid() != 0 or system_python is None:
        pytest.skip("needs root (to connect as another user) and a system python3")
    procs.workdir.chmod(0o755)
    daemon = procs.daemon(
        DaemonSettings(
            db_dsn, procs.fake(3).base_url, procs.workdir,
            extra_env={**CONTROL_ENV, "IRPD_CONTROL_SOCKET_MODE": "0o666"},
        )
    )
    before = dbtools.fingerprint(db_dsn)
    done = subprocess.run(
        [system_python, "-c", PEER_SCRIPT, str(daemon.socket_path)],
        user=65534, group=65534, extra_groups=[], capture_output=True, text=True, timeout=30,
        check=False, cwd="/", env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    assert response["ok"] is False, response
    assert response["error"]["type"] == "PermissionDenied", response
    assert dbtools.fingerprint(db_dsn) == before
    refusals = daemon.events("control_peer_refused")
    assert refusals, "the refused peer was not logged"
    assert refusals[-1]["uid"] == 65534, refusals
    chaos.report(f"uid 65534 refused: {response['error']['message']!r}; logged; db unchanged")
