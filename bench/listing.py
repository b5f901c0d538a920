"""A listing of every job of an N-job batch while the daemon tracks those N jobs (issue 17).

A fresh database with N SUBMITTED jobs (one batch) whose workflows exist in the fake; start
``irpd run`` and wait until the first sweep moved them all (N tracked). Wait ``settle`` seconds
so that the daemon's own loop-lag window (its last ~60 s) no longer holds the start-up. Then,
at once:

* one client pages through ``batch.jobs`` (default page size) on one connection, as
  ``irpctl batch jobs ID --all`` does: rows, pages, bytes, time of the first page and of each
  page (client side: the socket round trip on the same machine is ~0.2 ms);
* another client calls ``status`` back to back, each on a fresh connection like ``irpctl``:
  its p50/p99/max while the listing runs;
* a sampler reads the daemon's VmRSS every 20 ms: the highest value during the listing.

Afterwards ``status`` gives the daemon's event-loop lag over its last ~60 s (the listing and
the tracking around it). Figures are reported, never asserted.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import benchdb, logscan
from bench.benchdb import BenchDb
from bench.daemon import PHASE_ERRORS, Daemon
from bench.figures import ListingFigures, percentile, rounded
from bench.rig import Rig, loop_lag
from bench.tracking import MB, _wait_for_transitions
from irpd.control.client import ControlClient


def _list_all(socket: Path, batch_id: int) -> dict[str, Any]:
    pages: list[float] = []
    rows = size = first_job = 0
    after = None
    started = time.perf_counter()
    with ControlClient(socket, timeout=120.0) as client:
        while True:
            asked = time.perf_counter()
            args: dict[str, Any] = {"batch_id": batch_id}
            if after:
                args["after"] = after
            result = client.call("batch.jobs", args)
            pages.append((time.perf_counter() - asked) * 1000)
            rows += len(result["jobs"])
            first_job = first_job or result["jobs"][0]["id"]
            size += sum(len(str(row)) for row in result["jobs"])  # approximate bytes
            after = result.get("next")
            if not after:
                break
    seconds = time.perf_counter() - started
    return {"rows": rows, "pages": pages, "bytes": size, "seconds": seconds, "first_job": first_job}


#: first pages of every listing, asked after the full listing (batch and job filled in)
FIRST_PAGES = (
    ("batch.jobs", "batch"),
    ("batch.configs", "batch"),
    ("report.jobs", "batch"),
    ("job.tracking", "job"),
    ("batch.list", None),
    ("report.batches", None),
    ("config.list", None),
    ("cycle.list", None),
)
FIRST_PAGE_TIMES = 10
#: seconds of status calls without a listing, just before it
BASELINE_S = 5.0


def _first_pages(socket: Path, batch_id: int, job_id: int) -> None:
    """Ask the first page of every listing ``FIRST_PAGE_TIMES`` times (the daemon logs what
    each cost it)."""
    ids = {"batch": {"batch_id": batch_id}, "job": {"job_id": job_id}}
    with ControlClient(socket, timeout=60.0) as client:
        for _ in range(FIRST_PAGE_TIMES):
            for command, key in FIRST_PAGES:
                client.call(command, ids[key] if key else {})


def _sample_while(done: threading.Event, daemon: Daemon) -> tuple[list[float], int]:
    """``status`` latencies (ms) and the highest RSS until ``done``."""
    latencies: list[float] = []
    highest = 0
    next_rss = 0.0
    while not latencies or not done.is_set():  # at least one call
        started = time.perf_counter()
        daemon.call("status")
        latencies.append((time.perf_counter() - started) * 1000)
        if time.perf_counter() >= next_rss:
            highest = max(highest, daemon.memory().rss)
            next_rss = time.perf_counter() + 0.02
    return latencies, highest


async def measure_listing(rig: Rig, jobs: int) -> ListingFigures:
    """The listing phase on a fresh database of ``jobs`` in-flight jobs."""
    dsn = await benchdb.fresh_database(rig.server.admin_dsn, f"list{jobs}")
    db = await BenchDb.connect(dsn)
    daemon: Daemon | None = None
    latency = rig.options.moodys_latency
    try:
        first_id = await rig.fake.create_workflows(jobs)
        batch_id = await db.seed_in_flight(jobs, first_id)
        # debug: the daemon logs what each answer cost it (control_answered)
        daemon = rig.daemon(dsn, f"n{jobs}-listing", {"IRPD_LOGGING_LEVEL": "debug"})
        daemon.start()
        await _wait_for_transitions(rig, db, daemon, batch_id, "SUBMITTED")
        await asyncio.sleep(rig.options.listing_settle)
        before = loop_lag(await rig.status(daemon))
        rss_before = daemon.memory().rss
        # the same status calls for a few seconds without a listing: the comparison
        quiet = threading.Event()
        threading.Timer(BASELINE_S, quiet.set).start()
        baseline_ms, _ = await asyncio.to_thread(_sample_while, quiet, daemon)
        done = threading.Event()
        sampler = asyncio.create_task(asyncio.to_thread(_sample_while, done, daemon))
        try:
            listed = await asyncio.to_thread(_list_all, daemon.socket, batch_id)
        finally:
            done.set()
            status_ms, rss_max = await sampler
        await asyncio.to_thread(_first_pages, daemon.socket, batch_id, listed["first_job"])
        after = loop_lag(await rig.status(daemon))
    except PHASE_ERRORS as exc:
        return ListingFigures(jobs, moodys_latency_s=latency, error=f"{type(exc).__name__}: {exc}")
    finally:
        if daemon is not None:
            await daemon.stop()
        await db.close()
        if not rig.options.keep_databases:
            await benchdb.drop(rig.server.admin_dsn, dsn)
    pages = listed["pages"]
    figures = ListingFigures(
        jobs=jobs,
        rows=listed["rows"],
        pages=len(pages),
        megabytes=round(listed["bytes"] / MB, 1),
        seconds=rounded(listed["seconds"]),
        first_page_ms=rounded(pages[0], 2),
        page_p50_ms=rounded(percentile(pages, 50), 2),
        page_max_ms=rounded(max(pages), 2),
        status_calls=len(status_ms),
        status_p50_ms=rounded(percentile(status_ms, 50), 2),
        status_p99_ms=rounded(percentile(status_ms, 99), 2),
        status_max_ms=rounded(max(status_ms), 2) if status_ms else None,
        status_without_listing_p50_ms=rounded(percentile(baseline_ms, 50), 2),
        status_without_listing_p99_ms=rounded(percentile(baseline_ms, 99), 2),
        rss_before_mb=round(rss_before / MB, 1),
        rss_max_mb=round(max(rss_max, rss_before) / MB, 1),
        loop_lag_before=before,
        loop_lag_after=after,
        moodys_latency_s=latency,
    )
    return replace(figures, **_server_side(daemon.log, len(pages)))


def _answer_ms(answered: list[logscan.LogLine], command: str) -> list[float]:
    return [float(a.fields["answer_ms"]) for a in answered if a.fields.get("command") == command]


def _server_side(log: Path, listed: int) -> dict[str, Any]:
    """The daemon's own figures for the listing's pages and the status calls beside them, and
    for the first pages asked afterwards (the answers after the listing's ``listed`` pages)."""
    answered = logscan.events(log, "control_answered")
    at = [i for i, line in enumerate(answered) if line.fields.get("command") == "batch.jobs"]
    pages = [answered[i].fields for i in at[:listed]]
    if not pages:
        return {}
    after = at[len(pages) - 1] + 1
    listings = {command for command, _ in FIRST_PAGES}
    firsts = [
        float(line.fields["first_byte_ms"])
        for line in answered[after:]
        if line.fields.get("command") in listings
    ]
    status = _answer_ms(answered[at[0] : after], "status")
    quiet = _answer_ms(answered[: at[0]], "status")
    first = [float(p["first_byte_ms"]) for p in pages]
    cpu = [float(p["loop_cpu_ms"]) for p in pages]
    return {
        "server_first_page_ms": rounded(first[0], 2),
        "server_page_p50_ms": rounded(percentile(first, 50), 2),
        "server_page_max_ms": rounded(max(first), 2),
        "page_loop_cpu_p50_ms": rounded(percentile(cpu, 50), 2),
        "page_loop_cpu_max_ms": rounded(max(cpu), 2),
        "page_loop_step_max_ms": rounded(max(float(p["loop_step_max_ms"]) for p in pages), 2),
        "pages_with_full_gc": sum(1 for p in pages if (p.get("gc_passes") or [0, 0, 0])[2]),
        "server_status_p50_ms": rounded(percentile(status, 50), 2),
        "server_status_p99_ms": rounded(percentile(status, 99), 2),
        "server_status_without_listing_p99_ms": rounded(percentile(quiet, 99), 2),
        "first_pages": len(firsts),
        "server_first_pages_p50_ms": rounded(percentile(firsts, 50), 2),
        "server_first_pages_max_ms": rounded(max(firsts), 2) if firsts else None,
    }


def render_listing(figures: ListingFigures) -> str:
    """The listing figures as lines of text."""
    f = figures
    if f.error:
        return f"listing of {f.jobs:,} jobs: failed: {f.error}"
    lag_b, lag_a = f.loop_lag_before, f.loop_lag_after
    return "\n".join(
        [
            f"listing every job of a {f.jobs:,}-job batch while tracking {f.jobs:,} "
            f"(Moody's latency {f.moodys_latency_s:g} s):",
            f"  rows / pages / ~MB: {f.rows:,} / {f.pages} / {f.megabytes}; all pages "
            f"{f.seconds} s",
            f"  first page {f.first_page_ms} ms; page p50 {f.page_p50_ms} ms, max "
            f"{f.page_max_ms} ms",
            f"  concurrent status ({f.status_calls} calls): p50 {f.status_p50_ms} / p99 "
            f"{f.status_p99_ms} / max {f.status_max_ms} ms (the {BASELINE_S:g} s before, without "
            f"a listing: p50 {f.status_without_listing_p50_ms} / p99 "
            f"{f.status_without_listing_p99_ms} ms)",
            f"  inside the daemon: first page {f.server_first_page_ms} ms (request → first byte); "
            f"page p50 {f.server_page_p50_ms} / max {f.server_page_max_ms} ms; status p50 "
            f"{f.server_status_p50_ms} / p99 {f.server_status_p99_ms} ms (without a listing: "
            f"p99 {f.server_status_without_listing_p99_ms} ms)",
            f"  first pages of {len(FIRST_PAGES)} listings x {FIRST_PAGE_TIMES} afterwards "
            f"({f.first_pages} answers), inside the daemon: p50 {f.server_first_pages_p50_ms} / "
            f"max {f.server_first_pages_max_ms} ms",
            f"  loop CPU per page (converting + encoding) p50 {f.page_loop_cpu_p50_ms} / max "
            f"{f.page_loop_cpu_max_ms} ms; longest single step {f.page_loop_step_max_ms} ms; "
            f"pages during which a full GC pass ran: {f.pages_with_full_gc}",
            f"  daemon RSS before {f.rss_before_mb} MB, highest during {f.rss_max_mb} MB",
            f"  event-loop lag (daemon's last ~60 s) before p99/max "
            f"{lag_b.p99_ms if lag_b else None}/{lag_b.max_ms if lag_b else None} ms, "
            f"after {lag_a.p99_ms if lag_a else None}/{lag_a.max_ms if lag_a else None} ms",
        ]
    )
