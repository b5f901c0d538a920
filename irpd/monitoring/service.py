"""The ``/metrics`` endpoint of ``irpd run``: prometheus_client's own exporter in a thread.

The exporter thread only renders the last sample (see :mod:`irpd.monitoring.metrics`); the
event loop never waits for a scrape, and a scrape never waits for the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import Metric
from prometheus_client.process_collector import ProcessCollector

from irpd.config import listen_address
from irpd.db.database import Database
from irpd.engine.engine import Engine
from irpd.engine.supervisor import Supervisor
from irpd.errors import ConfigError
from irpd.monitoring.metrics import EngineMetrics, MoodysRequestMetrics
from irpd.monitoring.stuck import RunTimeExpectations
from irpd.moodys.client import MoodysClient

log = structlog.get_logger("irpd.monitoring")


class MetricsService:
    """The registry, the sampler task and the HTTP exporter of one daemon."""

    def __init__(
        self,
        listen: str,
        engine: Engine,
        moodys: MoodysClient,
        db: Database,
        *,
        database_refresh: float = 15.0,
        expectations: RunTimeExpectations,
    ) -> None:
        self._listen = listen
        self.registry = CollectorRegistry(auto_describe=False)
        self.sampler = EngineMetrics(
            engine, moodys, db, database_refresh=database_refresh, expectations=expectations
        )
        self.registry.register(self.sampler)
        ProcessCollector(registry=self.registry)
        moodys.observe(MoodysRequestMetrics(self.registry))
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    def add(self, families: Callable[[], Iterable[Metric]]) -> None:
        """Sample ``families`` too (called on the event loop with the rest)."""
        self.sampler.extra.append(families)

    async def start(self, supervisor: Supervisor) -> None:
        """Take a first sample, bind the endpoint and start sampling."""
        await self.sampler.sample()
        host, port = listen_address(self._listen, "metrics.listen")
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise ConfigError(f"metrics.listen: cannot serve on {self._listen}: {exc}") from None
        bound = self._server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound}/metrics"
        supervisor.start("metrics", self.sampler.run())
        log.info("metrics_listening", url=self.url)

    def stop(self) -> None:
        """Stop serving (the sampler task is cancelled with the others)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
