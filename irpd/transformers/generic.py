"""Generic batch types: they need no cycle sheets and submit a generic workflow."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from irpd.excel.names import header_key
from irpd.transformers.access import JobConfig

JOBS_KEY = "jobs"


def default(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job whose configuration is a copy of the whole configuration."""
    return [{**copy.deepcopy(dict(configuration_data)), "job_key": "default"}]


def multi_job(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per item of the "jobs" list (e.g. a generic workbook's jobs sheet)."""
    jobs = _jobs_list(configuration_data)
    if jobs is None:
        return [{**copy.deepcopy(dict(configuration_data)), "job_key": "job-1"}]
    configs: list[JobConfig] = []
    for index, item in enumerate(jobs, start=1):
        config = copy.deepcopy(dict(item)) if isinstance(item, Mapping) else {"value": item}
        key = config.get("job_key")
        config["job_key"] = str(key) if key not in (None, "") else f"job-{index}"
        configs.append(config)
    return configs


def _jobs_list(configuration_data: Mapping[str, Any]) -> list[Any] | None:
    """``configuration_data["jobs"]`` (a sheet named e.g. "Jobs " also counts) if a list."""
    value = configuration_data.get(JOBS_KEY)
    if value is None:
        value = next(
            (v for k, v in configuration_data.items() if header_key(str(k)) == JOBS_KEY), None
        )
    return value if isinstance(value, list) else None
