"""``--scrape-every S``: a Prometheus stand-in scraping a daemon's ``/metrics`` every S seconds.

It runs in a thread of the harness from the daemon's start (once ``metrics_listening`` is
logged) to its stop, so every phase's figures (sweep, loop lag, throughput, control latency)
are measured under scraping; :meth:`Scraper.stop` returns how the scrapes themselves went.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import logscan


@dataclass(frozen=True, slots=True)
class ScrapeFigures:
    """The scrapes of one daemon: count, failures, duration percentiles, size."""

    scrapes: int
    failures: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    bytes: int

    def line(self, name: str) -> str:
        """One human line for the progress output."""
        return (
            f"{name}: {self.scrapes} scrapes of /metrics ({self.failures} failed, "
            f"{self.bytes:,} bytes), p50 {self.p50_ms} ms, p99 {self.p99_ms} ms, "
            f"max {self.max_ms} ms"
        )


class Scraper:
    """Scrapes ``/metrics`` of the daemon logging to ``log`` every ``interval`` seconds."""

    def __init__(self, log: Path, interval: float) -> None:
        self._log = log
        self._interval = interval
        self._stop = threading.Event()
        self._durations: list[float] = []
        self._failures = 0
        self._bytes = 0
        self._thread = threading.Thread(target=self._run, name="scraper", daemon=True)

    def start(self) -> None:
        """Begin (the thread waits for the daemon to bind its endpoint)."""
        self._thread.start()

    def _url(self) -> str | None:
        while not self._stop.is_set():
            line = logscan.first_event(self._log, "metrics_listening")
            if line is not None:
                return str(line.fields["url"])
            self._stop.wait(0.05)
        return None

    def _run(self) -> None:
        url = self._url()
        while url is not None and not self._stop.is_set():
            began = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    self._bytes = len(response.read())
                self._durations.append(time.perf_counter() - began)
            except OSError:
                self._failures += 1
            self._stop.wait(max(0.0, self._interval - (time.perf_counter() - began)))

    def stop(self) -> ScrapeFigures:
        """End the scraping; its figures."""
        self._stop.set()
        self._thread.join(15)
        ordered = sorted(self._durations)

        def pick(q: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1)

        return ScrapeFigures(
            len(ordered), self._failures, pick(0.5), pick(0.99), pick(1.0), self._bytes
        )
