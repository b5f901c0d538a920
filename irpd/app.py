"""The composition root: builds every part of the daemon, runs it, and shuts it down.

``irpd run`` calls :func:`run_daemon`. Nothing else in irpd constructs long-lived objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import functools
import gc
import hashlib
import os
import signal
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import structlog

import irpd
from irpd.config import Config, describe, expected_run_times, load_config
from irpd.control.handlers import Handlers, translate_error
from irpd.control.peers import PeerPolicy
from irpd.control.server import ControlServer, Handler
from irpd.control.starting import starting_handlers
from irpd.db.bootstrap import OpenedDatabase, open_database
from irpd.db.engine_store import EngineStore
from irpd.db.failures import DatabaseUnavailable
from irpd.engine.engine import Engine
from irpd.engine.supervisor import Supervisor
from irpd.errors import ConfigError
from irpd.excel.loader import load_workbook
from irpd.logs import set_level
from irpd.moodys.client import MoodysClient
from irpd.moodys.preflight import ReferenceChecker
from irpd.notify.service import Notifications
from irpd.ops.facade import Operations
from irpd.plans.runner import PlanRunner
from irpd.reload import plan_reload, reloaded
from irpd.startup import StartingUp, open_when_ready
from irpd.systemd import Notifier, watchdog_interval, watchdog_loop
from irpd.transformers.catalogue import builtin_registry
from irpd.transformers.registry import load_entry_points
from irpd.wiring import circuit_settings, import_file_uploader, moodys_settings

if TYPE_CHECKING:  # prometheus_client is imported only when metrics.listen is set
    from irpd.monitoring.service import MetricsService

log = structlog.get_logger("irpd.app")

#: how long the database may be unreachable before the watchdog is withheld
WATCHDOG_DB_GRACE = 600.0


class AlreadyRunningError(ConfigError):
    """Another irpd holds the state directory's lock."""

    kind = "AlreadyRunningError"


def lock_state_dir(state_dir: Path) -> IO[str]:
    """Create the state dir and hold its lock for the life of the process (one daemon each)."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    handle = (state_dir / "irpd.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunningError(
            f"another irpd is running with state directory {state_dir}"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def worker_id(config: Config) -> str:
    """``engine.worker_id``, else a name stable across restarts of this installation."""
    if config.engine.worker_id:
        return config.engine.worker_id
    digest = hashlib.sha256(str(config.state.dir.resolve()).encode()).hexdigest()[:10]
    return f"{socket.gethostname()}:{digest}"


@dataclass
class Daemon:
    """A running irpd: its parts and its stop signals."""

    config: Config
    config_path: Path | None
    opened: OpenedDatabase
    moodys: MoodysClient
    ops: Operations
    engine: Engine
    control: ControlServer
    plans: PlanRunner
    notifications: Notifications
    #: the control socket's handlers once ready (``control`` answers start-up's until then)
    commands: Mapping[str, Handler] = field(default_factory=dict)
    metrics: MetricsService | None = None
    supervisor: Supervisor = field(default_factory=Supervisor)
    notifier: Notifier = field(default_factory=Notifier)
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = field(default_factory=time.monotonic)

    async def healthy(self) -> bool:
        """For the watchdog: the loop runs this, and the database answers (or an outage is
        being ridden out for less than :data:`WATCHDOG_DB_GRACE` seconds)."""
        if await self.opened.db.ping():
            return True
        return time.monotonic() - self.engine.health.last_ok < WATCHDOG_DB_GRACE

    async def serve_commands(self) -> None:
        """Answer every command on the control socket from now on (bound since start-up,
        answering only ``status`` until now)."""
        await self.control.start()
        self.control.serve(self.commands)

    def status_line(self) -> str:
        """One-line summary for systemd's STATUS=."""
        snap = self.engine.snapshot()
        db = "db ok" if snap["database"]["available"] else "DB UNAVAILABLE"
        return (
            f"{db}; tracking {snap['tracked_jobs']} jobs; "
            f"{snap['dispatch_in_flight']} submissions in flight; shards {snap['shards_owned']}"
        )

    def status(self) -> dict[str, Any]:
        """What ``irpctl status`` shows."""
        return {
            "state": "ready",
            "version": irpd.__version__,
            "pid": os.getpid(),
            "uptime_seconds": round(time.monotonic() - self.started, 1),
            "worker_id": self.engine.store.worker_id,
            "database": {"mode": self.opened.description, **self.engine.health.snapshot()},
            "moodys": {
                "base_url": self.config.moodys.base_url,
                **self.engine.tracker.moodys_health.snapshot(),
                **dataclasses.asdict(self.moodys.stats()),
                # every request's view (reachability, circuit, authentication) over the
                # tracker's: last_error only while it is current, with since when
                **self.moodys.health.snapshot(),
                "adaptive": self.moodys.adaptive_limits(),
            },
            "engine": self.engine.snapshot(),
            "metrics_url": None if self.metrics is None else self.metrics.url,
            "tasks": self.supervisor.running(),
        }

    def reload(self) -> None:
        """SIGHUP: re-read the configuration, apply what can change at run time (the log level
        and interval, every ``[engine]`` key but ``worker_id`` and ``lease_ttl``, Moody's
        circuit breaker; through the same mappings as at start) and log what changed and what
        needs a restart;
        reconnect to the database and retry at once what it refused (degraded writes)."""
        self.engine.retry_database_now()
        try:
            fresh = load_config(self.config_path)
        except ConfigError as exc:
            log.error("config_reload_failed", error=str(exc))
            return
        plan = plan_reload(self.config, fresh)
        self.config = reloaded(self.config, fresh)
        set_level(self.config.logging.level)
        self.engine.reconfigure(
            self.config.engine, log_interval=self.config.logging.aggregate_interval
        )
        self.moodys.health.reconfigure(circuit_settings(self.config.moodys))
        log.info(
            "config_reloaded",
            applied=plan.apply or "none",
            restart_needed=plan.restart_needed or "none",
        )


async def build_daemon(
    config: Config,
    config_path: Path | None,
    opened: OpenedDatabase | None = None,
    notifier: Notifier | None = None,
    control: ControlServer | None = None,
) -> Daemon:
    """Connect (unless ``opened`` is given) and construct every part (nothing runs yet);
    ``control``: the socket bound during start-up (it answers the daemon's commands once
    :func:`run_daemon` serves ``Daemon.commands``)."""
    if opened is None:
        opened = await open_database(config.database, config.state.dir)
    try:
        # a listing's first page must not wait for a new connection (docs/performance.md)
        try:
            await opened.db.open_reader()
        except DatabaseUnavailable as exc:  # opened on first use instead
            log.warning("db_read_pool_deferred", error=str(exc))
        worker = worker_id(config)
        moodys = MoodysClient(
            moodys_settings(config.moodys, worker_id=worker),
            uploader=import_file_uploader(config.moodys),
        )
        registry = builtin_registry()
        load_entry_points(registry)
        ops = Operations(opened.db, registry, load_workbook)
        store = EngineStore(opened.db, worker)
        plans = PlanRunner(opened.db, ops, registry, checker=ReferenceChecker(moodys))
        engine = Engine(
            store,
            moodys,
            config.engine,
            reconcile=plans.following(
                functools.partial(ops.recon.recon_batch, only_on_change=True)
            ),
            submit_concurrency=config.moodys.submit_concurrency,
            status_batch_size=config.moodys.status_batch_size,
            log_interval=config.logging.aggregate_interval,
            moodys_health=moodys.health,
        )
        notifications = Notifications.build(
            config.notifications,
            opened.db,
            engine,
            moodys=moodys.health,
            worker_id=worker,
            public_url=config.web.public_url,
        )
        holder: dict[str, Daemon] = {}
        handlers = Handlers(
            ops,
            engine,
            moodys,
            status=lambda: holder["daemon"].status(),  # noqa: PLW0108 (late binding)
            batch_types=registry.describe,
            notifications=notifications.admin,
        )
        handlers.wake_plans = plans.wake
        commands = handlers.as_mapping()
        control = control or control_server(config, commands)
    except BaseException:
        await opened.close()
        raise
    daemon = Daemon(
        config, config_path, opened, moodys, ops, engine, control, plans, notifications, commands
    )
    if config.metrics.listen:
        from irpd.monitoring.service import MetricsService
        from irpd.monitoring.stuck import RunTimeExpectations

        daemon.metrics = MetricsService(
            config.metrics.listen,
            engine,
            moodys,
            opened.db,
            database_refresh=config.metrics.database_refresh,
            expectations=RunTimeExpectations(
                config.metrics.expected_run_time, expected_run_times(config.metrics)
            ),
        )
        daemon.metrics.add(notifications.outbox.metric_families)
    if notifier is not None:
        daemon.notifier.close()
        daemon.notifier = notifier
    engine.tracker.budget.follow(control.activity)
    holder["daemon"] = daemon
    return daemon


def control_server(config: Config, handlers: Mapping[str, Handler]) -> ControlServer:
    """The control socket as ``[control]`` configures it."""
    return ControlServer(
        config.socket_path,
        handlers,
        policy=PeerPolicy(config.control.allowed_uids, config.control.allowed_groups),
        mode=config.control.socket_mode,
        max_request_bytes=config.control.max_request_bytes,
        idle_timeout=config.control.request_timeout,
        max_clients=config.control.max_clients,
        translate_error=translate_error,
    )


def starting_status(config: Config, starting: StartingUp) -> dict[str, Any]:
    """``status`` before the daemon is ready: ``state: starting`` and why (docs/control.md)."""
    opened = starting.phase == "starting the engine"
    return {
        "state": "starting",
        "version": irpd.__version__,
        "pid": os.getpid(),
        "uptime_seconds": round((datetime.now(UTC) - starting.since).total_seconds(), 1),
        "worker_id": worker_id(config),
        "starting": starting.snapshot(),
        "database": {
            "available": True if opened else (False if starting.last_error else None),
            "state": "ok" if opened else "starting",
            "reason": None if opened else starting.reason,
            "last_error": None if opened else starting.last_error,
            "sqlstate": None if opened else starting.sqlstate,
        },
    }


async def _periodic_stats(daemon: Daemon, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        daemon.notifier.status(daemon.status_line())
        log.info("engine_stats", **daemon.engine.snapshot())


#: allocations between young-generation collections in the daemon
YOUNG_GC_THRESHOLD = 10_000


async def _wait_and_build(
    config: Config, config_path: Path | None, stop: asyncio.Event
) -> Daemon | None:
    """Bind the control socket (it answers ``status`` with start-up's progress, and
    ``NotReady`` to everything else), wait for the database (:mod:`irpd.startup`), then build
    the daemon; None when ``stop`` was set during the wait."""
    starting = StartingUp()
    control = control_server(
        config, starting_handlers(functools.partial(starting_status, config, starting))
    )
    notifier = Notifier()
    try:
        await control.start()
        opened = await open_when_ready(config, notifier, stop, starting=starting)
        if opened is not None:
            return await build_daemon(config, config_path, opened, notifier, control)
    except BaseException:
        notifier.close()
        await control.stop()
        raise
    notifier.close()
    await control.stop()
    return None


async def _start_tasks(daemon: Daemon) -> None:
    """Start the engine, the command server and every supervised task; return once the
    tracker has loaded what is in flight."""
    await daemon.engine.start(daemon.supervisor)
    await daemon.serve_commands()
    daemon.notifications.start(daemon.supervisor)
    if daemon.metrics is not None:
        await daemon.metrics.start(daemon.supervisor)
    interval = watchdog_interval()
    if interval is not None:
        daemon.supervisor.start(
            "watchdog", watchdog_loop(daemon.notifier, interval, daemon.healthy)
        )
    daemon.supervisor.start("stats", _periodic_stats(daemon, 30.0))
    daemon.supervisor.start("plans", daemon.plans.run())
    await asyncio.wait_for(daemon.engine.tracker.loaded.wait(), 60.0)
    gc.freeze()  # start-up objects live as long as the process: out of every GC pass
    # Polling allocates a few short-lived objects per job; most die before a young
    # collection at this threshold instead of being scanned and promoted (default 700).
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])


def _defer_reload(deferred: asyncio.Event) -> None:
    """SIGHUP before the daemon is ready: remember it (the re-read happens once ready)."""
    deferred.set()
    log.info("config_reload_deferred", reason="starting: applied once the daemon is ready")


async def run_daemon(config: Config, config_path: Path | None = None) -> int:
    """Run until SIGTERM/SIGINT (exit 0) or until a task crashes (exit 1); start-up waits
    for the database."""
    lock = lock_state_dir(config.state.dir)
    loop = asyncio.get_running_loop()
    stop_event = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop_event.set)
    # A SIGHUP during the start-up wait (systemctl reload while the database is down) must not
    # end the process (Python's default): it is kept and applied once the daemon is ready.
    reload_deferred = asyncio.Event()
    loop.add_signal_handler(signal.SIGHUP, _defer_reload, reload_deferred)
    daemon: Daemon | None = None
    try:
        daemon = await _wait_and_build(config, config_path, stop_event)
    finally:
        if daemon is None:  # stopped while waiting, or start-up failed
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            lock.close()
    if daemon is None:
        log.info("irpd_stopped", exit_code=0)
        return 0
    daemon.stop_requested = stop_event
    exit_code = 0
    try:
        await _start_tasks(daemon)
        daemon.notifier.ready(daemon.status_line())
        log.info("irpd_ready", socket=str(daemon.control.path), **describe(config)["engine"])
        loop.add_signal_handler(signal.SIGHUP, daemon.reload)  # replaces _defer_reload
        if reload_deferred.is_set():
            daemon.reload()
        stop = asyncio.create_task(daemon.stop_requested.wait())
        failed = asyncio.create_task(daemon.supervisor.failed.wait())
        await asyncio.wait({stop, failed}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        failed.cancel()
        if daemon.supervisor.failure is not None:
            exit_code = 1
            log.error("irpd_stopping_after_crash", task=daemon.supervisor.failure[0])
        else:
            log.info("irpd_stopping", drain_timeout=daemon.engine.drain_timeout)
    finally:
        await _shutdown(daemon, daemon.engine.drain_timeout)  # a SIGHUP may have changed it
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
        lock.close()
    log.info("irpd_stopped", exit_code=exit_code)
    return exit_code


async def _shutdown(daemon: Daemon, drain_timeout: float) -> None:
    """Stop taking work, drain in-flight submissions (bounded), release leases, close."""
    daemon.notifier.stopping(drain_timeout + 10)
    await daemon.control.stop()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(daemon.engine.drain(drain_timeout), drain_timeout + 1)
    await daemon.supervisor.cancel_all(5.0)
    if daemon.metrics is not None:
        daemon.metrics.stop()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(daemon.engine.release(), 5.0)
    await daemon.moodys.close()
    await daemon.notifications.close()
    await daemon.opened.close()
    daemon.notifier.close()
