"""Deterministic Moody's workflow names for jobs (stable across restarts and retries).

Where Moody's shows the name to analysts and later steps look results up by it, the job's
natural name is used: an analysis is named after its Analysis Name (groupings and RDM exports
find it by that name), a grouping after its group, an EDM creation after the EDM. Every other
job is named ``irpd-<job id>-<job key>``. Names are cut to 64 characters and fitted to Moody's
jobName pattern ``^\\w((?!--)[\\w\\s:-])*\\w$``.

A natural name can repeat (a resubmitted analysis keeps its name), so the database does not
require uniqueness; recovery by name only accepts a workflow submitted after the job's intent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_LENGTH = 64
_NOT_ALLOWED = re.compile(r"[^\w\s:-]", re.ASCII)
_DASHES = re.compile(r"-{2,}")
_SPACES = re.compile(r"\s+")

#: batch type → the configuration key holding the name Moody's shows for the job
NATURAL_NAME_KEYS: Mapping[str, str] = {
    "analysis": "analysis_name",
    "grouping": "group_name",
    "grouping_rollup": "group_name",
    "edm_creation": "database",
}


def fit(text: str) -> str:
    """``text`` made to satisfy Moody's jobName rule, or "" when too little of it is left."""
    cleaned = _DASHES.sub("-", _SPACES.sub(" ", _NOT_ALLOWED.sub("_", text)))
    name = cleaned.strip(" :-")[:MAX_LENGTH].rstrip(" :-")
    return name if len(name) >= 2 else ""


def workflow_name(job_id: int, configuration: Mapping[str, Any]) -> str:
    """The job's workflow name: its natural name when it has one, else ``irpd-<id>-<key>``."""
    key = NATURAL_NAME_KEYS.get(str(configuration.get("batch_type")))
    natural = fit(str(configuration.get(key) or "")) if key else ""
    if natural:
        return natural
    job_key = fit(str(configuration.get("job_key") or configuration.get("batch_type") or ""))
    return fit(f"irpd-{job_id}-{job_key}" if job_key else f"irpd-{job_id}")
