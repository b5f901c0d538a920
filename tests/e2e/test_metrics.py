"""``GET /metrics`` of a real daemon during a batch: names, and values that move."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import eventually

from . import steps
from .scripted import generic_batch
from .stack import Stack
from .webstack import WebConsole

pytestmark = pytest.mark.e2e

DAEMON_ENV = {"IRPD_METRICS_LISTEN": "127.0.0.1:0", "IRPD_METRICS_DATABASE_REFRESH": "0.2"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> tuple[Samples, set[str]]:
    """Every sample by (name, labels), and the metric family names."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples: Samples = {}
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, names


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every sample of ``name`` whose labels include ``labels``."""
    wanted: Mapping[str, str] = labels
    return sum(
        v
        for (n, have), v in samples.items()
        if n == name and all((k, x) in have for k, x in wanted.items())
    )


EXPECTED_FAMILIES = {
    "irpd_jobs",
    "irpd_batches",
    "irpd_jobs_tracked",
    "irpd_job_transitions",
    "irpd_submissions",
    "irpd_submissions_in_flight",
    "irpd_status_polls",
    "irpd_moodys_request_duration_seconds",
    "irpd_moodys_rate_limited",
    "irpd_moodys_request_rate_limit",
    "irpd_moodys_concurrency_limit",
    "irpd_oldest_due_poll_age_seconds",
    "irpd_jobs_over_expected_run_time",
    "irpd_oldest_in_flight_job_age_seconds",
    "irpd_job_expected_run_time_seconds",
    "irpd_tracker_sweep_duration_seconds",
    "irpd_event_loop_lag_seconds",
    "irpd_event_loop_last_beat_age_seconds",
    "irpd_database_available",
    "irpd_database_pool_connections",
    "irpd_shards_owned",
    "process_start_time_seconds",
}


def test_metrics_name_every_family_and_move_during_a_batch(stack: Stack, tmp_path: Path) -> None:
    ctl = stack.ctl
    url = ctl.json("status")["metrics_url"]
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/metrics")
    before, names = scrape(url)
    missing = {n for n in EXPECTED_FAMILIES if n != "irpd_moodys_request_duration_seconds"}
    assert missing - names == set()
    assert value(before, "irpd_database_available") == 1
    assert value(before, "irpd_shards_owned") == 64

    batch = generic_batch(stack, tmp_path, 4, "metrics")
    steps.submit(ctl, batch.batch_id)
    assert steps.wait(ctl, batch.batch_id) == (0, "COMPLETED")

    def moved() -> Samples | None:
        after, _ = scrape(url)
        # the counts are a sample of the database (every 0.2 s here): wait for one taken
        # after the batch completed
        jobs = value(after, "irpd_jobs", batch_type="multi_job", status="FINISHED")
        batches = value(after, "irpd_batches", batch_type="multi_job", status="COMPLETED")
        return after if (jobs, batches) == (4, 1) else None

    after = eventually(moved, "irpd_jobs and irpd_batches to count the finished batch")
    _, names = scrape(url)
    assert EXPECTED_FAMILIES - names == set()
    sent = "irpd_submissions_total"
    assert value(after, sent, outcome="accepted") - value(before, sent, outcome="accepted") == 4
    polls = "irpd_status_polls_total"
    assert value(after, polls, outcome="answered") > value(before, polls, outcome="answered")
    assert value(after, "irpd_job_transitions_total", to="FINISHED") >= 4
    assert value(after, "irpd_tracker_sweep_duration_seconds_count") > 0
    submits = total(after, "irpd_moodys_request_duration_seconds_count", code="201")
    submits += total(after, "irpd_moodys_request_duration_seconds_count", code="202")
    assert submits >= 4
    endpoints = {
        dict(labels)["endpoint"]
        for (name, labels) in after
        if name == "irpd_moodys_request_duration_seconds_count"
    }
    assert endpoints
    # ids are replaced: a bounded set of endpoint classes, whatever the number of workflows
    assert all(not any(p.isdigit() for p in e.split()[1].split("/")) for e in endpoints), endpoints


def test_the_web_console_serves_its_own_metrics(db_dsn: str, tmp_path: Path) -> None:
    console = WebConsole(db_dsn, tmp_path)
    try:
        assert console.api("GET", "/cycles")[0] == 200
        assert console.api("GET", "/batches/999999")[0] == 404
        samples, names = scrape(f"{console.url}/metrics")  # no login needed, like /healthz
    finally:
        assert console.stop() == 0
    assert {"irpd_web_request_duration_seconds", "irpd_web_live_pages", "irpd_web_build_info",
            "irpd_web_database_pool_connections", "process_start_time_seconds"} <= names
    count = "irpd_web_request_duration_seconds_count"
    assert value(samples, count, route="/healthz", code="200") >= 1
    assert value(samples, count, route="/api/v1/cycles", code="200") == 1
    assert value(samples, count, route="/api/v1/batches/{batch_id}", code="404") == 1
