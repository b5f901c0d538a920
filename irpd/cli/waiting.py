"""Waits of irpctl: until Moody's acknowledged queued jobs, and until a batch has an outcome
or needs an operator; with progress on stderr.

``batch wait`` ends with:

- exit 0: the batch is COMPLETED;
- exit 1: the batch is FAILED or CANCELLED;
- exit 4: the batch needs an operator: it is not finished, nothing of it is queued, being
  submitted, in flight or being cancelled, and its ``next_action`` is ``SUBMIT`` or
  ``RESUBMIT_OR_SKIP`` (seen twice in a row, half a second apart, so a reconciliation in
  progress is not taken for it); the jobs to look at are listed. (A failure does not end the
  wait: the batch stays ACTIVE while other jobs run, and the daemon makes it FAILED once
  they settle: exit 1.)
- exit 3: ``--max-wait`` passed first (or the daemon stayed unreachable that long).

Waiting for acknowledgement ends early when waiting cannot help: Moody's refuses the daemon's
credentials (``status`` → ``moodys.authentication.state`` ``failing``: a wrong API key) raises
:class:`CredentialsRefused` at once; jobs refused for good come back in status ERROR, with
their reason, for the caller to report. A Moody's outage fixes itself: the wait goes on and
says so once.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TextIO

from irpd.cli.render import bar, counts, duration
from irpd.control.client import DaemonRefused, DaemonUnreachable, not_serving

EXIT_OK, EXIT_FAILED, EXIT_TIMED_OUT, EXIT_NEEDS_OPERATOR = 0, 1, 3, 4
TERMINAL_BATCH: Final = ("COMPLETED", "FAILED", "CANCELLED")
NEEDS_OPERATOR: Final = ("SUBMIT", "RESUBMIT_OR_SKIP")
#: report counts of jobs the engine still works on: the batch changes without an operator
ENGINE_WORK: Final = ("queued_jobs", "submitting_jobs", "in_flight_jobs", "cancelling_jobs")
#: job statuses an operator looks at, by next action
ATTENTION_STATUSES: Final = {
    "SUBMIT": ("INITIATED",),
    "REVIEW_FAILURES": ("FAILED", "ERROR"),
    "RESUBMIT_OR_SKIP": ("FAILED", "ERROR", "CANCELLED"),
}
#: job ids listed for the operator (the rest are counted)
MAX_LISTED_JOBS: Final = 50
POLL_SECONDS: Final = 0.5

Call = Callable[..., Any]
#: ``rows(command, key, **args)``: every row of a paged listing
Rows = Callable[..., list[Mapping[str, Any]]]


class Progress:
    """One progress line on ``stream``: redrawn in place on a terminal, else printed when it
    changes; silent when not ``enabled``."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        try:
            self.interactive = enabled and self.stream.isatty()
        except (AttributeError, ValueError):
            self.interactive = False
        self._last = ""
        self._drawn = False

    def update(self, summary: str, elapsed: float, done: int | None, total: int | None) -> None:
        """Show ``summary`` (redrawn on a terminal with a bar; printed when it changed)."""
        if not self.enabled:
            return
        if self.interactive:
            meter = f" {bar(done, total)}" if done is not None and total else ""
            line = f"\r{summary}{meter}  {duration(elapsed)}\x1b[K"
            print(line, end="", file=self.stream, flush=True)
            self._drawn = True
        elif summary != self._last:
            print(f"{summary}  ({duration(elapsed)})", file=self.stream, flush=True)
        self._last = summary

    def close(self) -> None:
        """End the redrawn line."""
        if self._drawn:
            print(file=self.stream, flush=True)
            self._drawn = False


@dataclass(slots=True)
class BatchWait:
    """How ``batch wait`` ended."""

    exit_code: int
    shown: dict[str, Any]
    elapsed: float
    attention: dict[str, Any] | None = None
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def summary_of(shown: Mapping[str, Any]) -> tuple[str, int | None, int | None]:
    """The progress line of a ``batch.show`` result: text, configurations done and total."""
    report = shown.get("report") or {}
    jobs = report.get("status_counts") or shown.get("job_status_counts") or {}
    done, total = report.get("fulfilled_configs"), report.get("total_configs")
    fraction = f" {done}/{total} done" if total is not None else ""
    text = f"batch {shown.get('id')} {shown.get('status')}{fraction}: {counts(jobs)}"
    return text, done if isinstance(done, int) else None, total if isinstance(total, int) else None


def _needs_operator(shown: Mapping[str, Any]) -> str | None:
    report = shown.get("report") or {}
    action = report.get("next_action")
    if shown.get("status") in TERMINAL_BATCH or action not in NEEDS_OPERATOR:
        return None
    if any(int(report.get(key) or 0) for key in ENGINE_WORK):
        return None
    return str(action)


def _attention(rows: Rows, batch_id: int, action: str) -> dict[str, Any]:
    ids: list[int] = []
    for status in ATTENTION_STATUSES[action]:
        found = rows("batch.jobs", "jobs", batch_id=batch_id, status=status, skipped=False)
        ids.extend(int(j["id"]) for j in found)
    ids.sort()
    return {"next_action": action, "job_ids": ids[:MAX_LISTED_JOBS], "jobs": len(ids)}


def _outcome_attention(rows: Rows, shown: Mapping[str, Any]) -> dict[str, Any] | None:
    action = (shown.get("report") or {}).get("next_action")
    if shown.get("status") == "COMPLETED" or action not in ATTENTION_STATUSES:
        return None
    return _attention(rows, int(shown["id"]), str(action))


def wait_batch(
    call: Call, rows: Rows, batch_id: int, max_wait: float, progress: Progress
) -> BatchWait:
    """Poll ``batch.show`` until the batch has an outcome, needs an operator or ``max_wait``
    seconds passed (see the module docstring for the exit codes)."""
    start = time.monotonic()
    seen_needing: str | None = None
    shown: dict[str, Any] = {"id": batch_id}
    try:
        while True:
            elapsed = time.monotonic() - start
            try:
                shown = call("batch.show", batch_id=batch_id)
            except (DaemonUnreachable, DaemonRefused) as exc:
                # a restart: the socket gone, then bound while the new daemon starts
                if not not_serving(exc) or elapsed > max_wait:
                    raise
                time.sleep(POLL_SECONDS)
                continue
            text, done, total = summary_of(shown)
            progress.update(text, elapsed, done, total)
            status = str(shown.get("status"))
            if status in TERMINAL_BATCH:
                code = EXIT_OK if status == "COMPLETED" else EXIT_FAILED
                # a FAILED or CANCELLED batch names its jobs to look at, as one that needs
                # an operator does (only counted in the progress line before)
                return BatchWait(code, shown, elapsed, _outcome_attention(rows, shown))
            action = _needs_operator(shown)
            if action is not None and action == seen_needing:
                attention = _attention(rows, batch_id, action)
                return BatchWait(EXIT_NEEDS_OPERATOR, shown, elapsed, attention)
            seen_needing = action
            if elapsed > max_wait:
                message = f"batch {batch_id} still {status} after {max_wait:g} s (--max-wait)"
                return BatchWait(EXIT_TIMED_OUT, shown, elapsed, message=message)
            time.sleep(POLL_SECONDS)
    finally:
        progress.close()


class CredentialsRefused(Exception):
    """Moody's refuses the daemon's credentials: submissions cannot be acknowledged."""

    kind = "MoodysAuthenticationError"


def _check_moodys(call: Call | None, pending: int, told: list[str]) -> None:
    """Raise :class:`CredentialsRefused` when Moody's authentication is failing; say once
    (on stderr) that Moody's is unreachable."""
    if call is None:
        return
    status = call("status")
    moodys = status.get("moodys") if isinstance(status, dict) else None
    if not isinstance(moodys, dict):
        return
    auth = moodys.get("authentication") or {}
    if auth.get("state") == "failing":
        raise CredentialsRefused(
            f"Moody's refuses irpd's credentials (authentication failing since "
            f"{auth.get('failing_since')}): {auth.get('error')}; {pending} job(s) not "
            "acknowledged (the daemon keeps them and tries again): fix the API key and "
            "restart irpd"
        )
    if moodys.get("reachable") is False and not told:
        told.append("outage")
        print(
            f"irpctl: Moody's unreachable since {moodys.get('unreachable_since')}; "
            f"{pending} job(s) wait with their intent committed and go when it answers",
            file=sys.stderr,
        )


def refused_jobs(rows: Rows, batch_id: int, job_ids: set[int]) -> list[dict[str, Any]]:
    """``[{job_id, last_error}]`` of the jobs among ``job_ids`` refused for good (ERROR)."""
    found = rows("batch.jobs", "jobs", batch_id=batch_id, status="ERROR", skipped=False)
    return [
        {"job_id": j["id"], "last_error": j.get("last_error")} for j in found if j["id"] in job_ids
    ]


def _pending(
    rows: Rows, call: Call | None, batch_id: int, job_ids: set[int] | None
) -> tuple[int, int | None]:
    """Jobs still queued or being submitted, and the batch's jobs that count (None: not
    known). A whole batch: from its live counts (one cheap ``batch.show``, whatever its size);
    chosen jobs: the batch's queued and submitting ones, listed (by id: a job that moved from
    INITIATED to SUBMITTING between the two listings is one job, not two)."""
    if job_ids is None and call is not None:
        report = call("batch.show", batch_id=batch_id).get("report") or {}
        pending = int(report.get("queued_jobs") or 0) + int(report.get("submitting_jobs") or 0)
        counted = int(report.get("total_jobs") or 0) - int(report.get("skipped_jobs") or 0)
        return pending, counted
    ids: set[int] = set()
    for status in ("INITIATED", "SUBMITTING"):
        found = rows("batch.jobs", "jobs", batch_id=batch_id, status=status, skipped=False)
        ids.update(
            j["id"]
            for j in found
            if j.get("submit_requested_ts") and (job_ids is None or j["id"] in job_ids)
        )
    return len(ids), None


def wait_acknowledged(
    rows: Rows,
    batch_id: int,
    job_ids: set[int] | None,
    max_wait: float,
    progress: Progress,
    call: Call | None = None,
) -> list[dict[str, Any]] | None:
    """Until Moody's acknowledged the queued jobs of the batch (``job_ids`` only, when given):
    none is queued or being submitted any more (a whole batch is followed through its live
    counts; its jobs are listed once, at the end). Returns ``[{job_id, status}]`` of those jobs
    (every job of the batch that is not skipped, without ``job_ids``), None after
    ``max_wait`` seconds. With ``call``, ``status`` is read while jobs wait: see the module
    docstring (:class:`CredentialsRefused`)."""
    start = time.monotonic()
    told: list[str] = []
    try:
        while True:
            pending, total = _pending(rows, call, batch_id, job_ids)
            elapsed = time.monotonic() - start
            if not pending:
                found = rows("batch.jobs", "jobs", batch_id=batch_id, skipped=False)
                return [
                    {"job_id": j["id"], "status": j["status"]}
                    for j in found
                    if job_ids is None or j["id"] in job_ids
                ]
            done = None if total is None else max(total - pending, 0)
            progress.update(
                f"waiting for Moody's to acknowledge {pending} job(s)", elapsed, done, total
            )
            _check_moodys(call, pending, told)
            if elapsed > max_wait:
                return None
            time.sleep(0.5)
    finally:
        progress.close()
