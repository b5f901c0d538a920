"""Deterministic Moody's workflow names for jobs (stable across restarts and retries)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_LENGTH = 64
_NOT_ALLOWED = re.compile(r"[^\w\s:-]", re.ASCII)
_DASHES = re.compile(r"-{2,}")
_SPACES = re.compile(r"\s+")


def workflow_name(job_id: int, configuration: Mapping[str, Any]) -> str:
    """``irpd-<job id>-<job key>``, cut to 64 characters and fitted to Moody's jobName pattern
    (``^\\w((?!--)[\\w\\s:-])*\\w$``). The job id makes it unique within one database."""
    key = str(configuration.get("job_key") or configuration.get("batch_type") or "job")
    cleaned = _DASHES.sub("-", _SPACES.sub(" ", _NOT_ALLOWED.sub("_", key))).strip(" :-")
    name = f"irpd-{job_id}-{cleaned}" if cleaned else f"irpd-{job_id}"
    return name[:MAX_LENGTH].rstrip(" :-")
