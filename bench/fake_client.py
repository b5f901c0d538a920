"""The harness's handle on the fake Moody's process (:mod:`bench.fake_server`)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.fake_server import LISTENING
from bench.stopping import stop_process

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """What the fake saw between two instants."""

    last_seq: int
    requests: int
    routes: dict[str, int]
    ids_requested: int
    non_2xx: int
    first_wall: float | None
    last_wall: float | None

    def count(self, route: str) -> int:
        """Requests of one route (``"GET /riskmodeler/v1/workflows"``)."""
        return self.routes.get(route, 0)


@dataclass(frozen=True, slots=True)
class LedgerSummary:
    """Submissions the fake received after a mark."""

    last_seq: int
    accepted: int
    replays: int
    refused: int


STATUS_LIST = "GET /riskmodeler/v1/workflows"
USER_WORKFLOW = "POST /riskmodeler/v1/workflows"


class FakeProcess:
    """Start, drive and stop ``python -m bench.fake_server``."""

    def __init__(self, log_path: Path, seed: int = 1) -> None:
        self._log_path = log_path
        self._seed = seed
        self._process: subprocess.Popen[bytes] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.base_url = ""

    @property
    def pid(self) -> int:
        """The fake's process id."""
        assert self._process is not None
        return self._process.pid

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self._log_path.open("wb") as stderr:
            return subprocess.Popen(
                [sys.executable, "-m", "bench.fake_server", "--seed", str(self._seed)],
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )

    async def start(self, timeout: float = 30.0) -> str:
        """Start the process and wait for its listening line; return its base URL."""
        self._process = self._spawn()
        stdout = self._process.stdout
        assert stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(stdout.readline), timeout)
        text = line.decode().strip()
        if not text.startswith(LISTENING):
            await self.stop()
            raise RuntimeError(f"the fake did not start (see {self._log_path}): {text!r}")
        self.base_url = text.removeprefix(LISTENING)
        self._session = aiohttp.ClientSession(self.base_url)
        return self.base_url

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self._session is not None
        async with self._session.request(method, path, **kwargs) as response:
            response.raise_for_status()
            return await response.json()

    async def create_workflows(self, count: int, name_prefix: str = "irpd-bench-") -> int:
        """Create ``count`` workflows; the first one's id (ids are consecutive)."""
        body = {"count": count, "name_prefix": name_prefix}
        answer = await self._json("POST", "/__fake__/bench/workflows", json=body)
        return int(answer["first_id"])

    async def set_latency(self, seconds: float) -> None:
        """Add ``seconds`` to every request the fake answers (a fault rule of latency only)."""
        rules = [{"latency_seconds": seconds}] if seconds > 0 else []
        await self._json("POST", "/__fake__/faults", json={"rules": rules})

    async def advance(self, seconds: float) -> None:
        """Move the fake's simulated clock forward."""
        await self._json("POST", "/__fake__/clock", json={"seconds": seconds})

    async def requests(self, since: int = 0, until: float | None = None) -> RequestSummary:
        """Requests after sequence ``since`` that arrived before ``until`` (epoch)."""
        params = {"since": str(since)}
        if until is not None:
            params["until"] = repr(until)
        data = await self._json("GET", "/__fake__/bench/requests", params=params)
        return RequestSummary(**data)

    async def ledger(self, since: int = 0) -> LedgerSummary:
        """Submissions after ledger sequence ``since``."""
        data = await self._json("GET", "/__fake__/bench/ledger", params={"since": str(since)})
        return LedgerSummary(**data)

    async def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s)."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        await asyncio.to_thread(stop_process, process, signal.SIGTERM, 10.0)
        if process.stdout is not None:
            process.stdout.close()
