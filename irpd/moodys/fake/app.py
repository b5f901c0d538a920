"""``FakeMoodys``: build the aiohttp app, run it on a port, and drive it in-process.

async with FakeMoodys.running(FakeSettings(seed=1, time_scale=0)) as fake:
    fake.base_url, fake.api_key
    fake.set_faults(Faults(error_rate=0.2))
    fake.script("ANALYSIS_X", outcome="FAILED", message="Invalid treaty")
    fake.advance(3600)
    fake.ledger, fake.requests
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from irpd.moodys.fake import (
    routes_admin,
    routes_lookup,
    routes_platform,
    routes_submissions,
    routes_treaties,
    routes_workflows,
)
from irpd.moodys.fake.catalogue import Catalogue
from irpd.moodys.fake.clock import SimClock, parse_start_time
from irpd.moodys.fake.context import CONTEXT, FakeContext
from irpd.moodys.fake.faults import FaultEngine
from irpd.moodys.fake.idempotency import IdempotencyStore
from irpd.moodys.fake.ledger import Ledger, LedgerEntry, RequestLog, RequestRecord
from irpd.moodys.fake.middleware import MIDDLEWARES
from irpd.moodys.fake.rawjson import materialise
from irpd.moodys.fake.registry import Registry
from irpd.moodys.fake.render import View, render_platform_job, render_workflow
from irpd.moodys.fake.settings import FakeSettings, Faults, ScriptedOutcome
from irpd.moodys.fake.simulation import Simulation
from irpd.moodys.fake.timeline import FAILED

#: seconds ``stop()`` waits for in-flight handlers
SHUTDOWN_TIMEOUT = 2.0


def build_context(settings: FakeSettings, catalogue: Catalogue | None = None) -> FakeContext:
    """Fresh state for one fake tenant."""
    if catalogue is None:
        catalogue = (
            Catalogue.from_file(settings.catalogue_path)
            if settings.catalogue_path
            else Catalogue.default()
        )
    clock = SimClock(settings.time_scale, parse_start_time(settings.start_time))
    simulation = Simulation(settings, clock)
    return FakeContext(
        settings=settings,
        clock=clock,
        simulation=simulation,
        registry=Registry(simulation, catalogue, settings.strict_references),
        catalogue=catalogue,
        ledger=Ledger(),
        requests=RequestLog(settings.request_log_limit),
        idempotency=IdempotencyStore(settings.idempotency_ttl_seconds),
        faults=FaultEngine(settings.faults, settings.seed),
    )


def build_app(context: FakeContext) -> web.Application:
    """The aiohttp application serving *context*."""
    app = web.Application(middlewares=list(MIDDLEWARES), client_max_size=64 * 1024 * 1024)
    app[CONTEXT] = context
    for module in (
        routes_workflows,
        routes_submissions,
        routes_lookup,
        routes_platform,
        routes_treaties,
        routes_admin,
    ):
        module.add_routes(app)
    return app


class FakeMoodys:
    """A fake Moody's IRP tenant served over HTTP."""

    def __init__(
        self, settings: FakeSettings | None = None, *, catalogue: Catalogue | None = None
    ) -> None:
        self.settings = settings or FakeSettings()
        self.context = build_context(self.settings, catalogue)
        self.app = build_app(self.context)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ----------------------------------------------------------------------

    @classmethod
    @asynccontextmanager
    async def running(
        cls, settings: FakeSettings | None = None, *, catalogue: Catalogue | None = None
    ) -> AsyncIterator[FakeMoodys]:
        """Serve on ``settings.host:settings.port`` (port 0: a free one) for the block."""
        fake = cls(settings, catalogue=catalogue)
        await fake.start()
        try:
            yield fake
        finally:
            await fake.stop()

    async def start(self) -> None:
        """Bind and start serving."""
        runner = web.AppRunner(
            self.app,
            handler_cancellation=True,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            max_line_size=self.settings.max_request_line,
            max_field_size=self.settings.max_request_line,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])

    async def stop(self) -> None:
        """Release hanging requests and stop serving."""
        self.context.shutdown.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The bound port."""
        if self._port is None:
            raise RuntimeError("the fake is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://host:port`` to give the client."""
        host = self.settings.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def api_key(self) -> str:
        """The first accepted API key."""
        return self.settings.api_key

    # -- driving ------------------------------------------------------------------------

    def set_faults(self, faults: Faults | Iterable[Faults] | None) -> None:
        """Replace the fault rules (None or () removes them)."""
        if faults is None:
            rules: tuple[Faults, ...] = ()
        elif isinstance(faults, Faults):
            rules = (faults,)
        else:
            rules = tuple(faults)
        self.context.faults.replace(rules)

    @property
    def faults(self) -> tuple[Faults, ...]:
        """The active fault rules."""
        return self.context.faults.rules

    def script(
        self,
        name: str,
        outcome: str = FAILED,
        message: str | None = None,
        times: int | None = None,
    ) -> int:
        """Force the outcome of workflows named *name*; returns how many live ones changed."""
        return self.context.simulation.script(ScriptedOutcome(name, outcome, message, times))

    def advance(self, seconds: float) -> float:
        """Move simulated time forward; returns simulated now (epoch seconds)."""
        return self.context.simulation.advance(seconds)

    def now(self) -> float:
        """Simulated now (epoch seconds)."""
        return self.context.simulation.now()

    def set_quota(self, quota: int | None) -> None:
        """Concurrency quota from now on (None: unlimited)."""
        self.context.simulation.set_quota(quota)

    def pause(self) -> None:
        """Stop admitting workflows (quota 0, DS-521 message on QUEUED ones)."""
        self.set_quota(0)

    def resume(self, quota: int | None = None) -> None:
        """Admit again, with *quota* (default: the configured one)."""
        self.set_quota(quota if quota is not None else self.settings.quota)

    # -- observing ----------------------------------------------------------------------

    @property
    def ledger(self) -> list[LedgerEntry]:
        """Every submission received, oldest first."""
        return self.context.ledger.entries()

    def submissions(self, name: str | None = None) -> list[LedgerEntry]:
        """Accepted first-time submissions (no replays), optionally of one name."""
        return [
            e
            for e in self.context.ledger.entries()
            if e.accepted and not e.replay and (name is None or e.name == name)
        ]

    @property
    def requests(self) -> list[RequestRecord]:
        """The request log, oldest first."""
        return self.context.requests.records()

    def state(self) -> dict[str, int]:
        """Number of workflows and jobs per status now."""
        return self.context.simulation.counts()

    def workflow(self, workflow_id: int | str) -> dict[str, Any] | None:
        """The JSON view of a workflow or Platform job now (None when unknown)."""
        record = self.context.simulation.get(int(workflow_id))
        if record is None:
            return None
        view = View(
            now=self.now(),
            base_url=self.base_url if self._port else "",
            tenant=self.settings.tenant_name,
            user=self.settings.user_name,
            paused=self.context.simulation.paused,
        )
        render = render_workflow if record.api is None else render_platform_job
        result: dict[str, Any] = materialise(render(record, view))
        return result
