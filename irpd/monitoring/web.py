"""The web console's own metrics (``GET /metrics`` of ``irpd web``, a process of its own).

Requests by route and status with their latency, live pages, the console's database pool,
and the process metrics. Rendered on a scrape from memory only: no database query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector

import irpd
from irpd.db.database import Database

#: the exposition format's media type
CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class WebMetrics:
    """The console's registry; :meth:`observe` is called once per request."""

    def __init__(self, db: Database, live_pages: Callable[[], int]) -> None:
        self._db = db
        self._live_pages = live_pages
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Histogram(
            "irpd_web_request_duration_seconds",
            "Console and API requests by route template and HTTP status; _count counts them",
            ["route", "code"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.registry.register(self)
        ProcessCollector(registry=self.registry)

    def observe(self, route: str, code: int, seconds: float) -> None:
        """One request was answered."""
        self.requests.labels(route, str(code)).observe(seconds)

    def collect(self) -> Iterable[Metric]:
        """Gauges read from memory at scrape time."""
        info = GaugeMetricFamily("irpd_web_build_info", "irpd's version", labels=["version"])
        info.add_metric([irpd.__version__], 1)
        yield info
        yield GaugeMetricFamily(
            "irpd_web_live_pages",
            "Browser pages following live updates",
            value=self._live_pages(),
        )
        size, idle, maximum = self._db.pool_use()
        pool = GaugeMetricFamily(
            "irpd_web_database_pool_connections",
            "The console's connection pool by state",
            labels=["state"],
        )
        pool.add_metric(["busy"], size - idle)
        pool.add_metric(["idle"], idle)
        yield pool
        yield GaugeMetricFamily(
            "irpd_web_database_pool_max_connections", "web.pool_max_size", value=maximum
        )

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
