"""Pre-flight lookups against a strict fake: each kind of missing reference is named, each
distinct reference is looked up once, and what exists passes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from irpd.moodys.client import MoodysClient
from irpd.moodys.fake import FakeMoodys
from irpd.moodys.preflight import ReferenceChecker
from irpd.moodys.settings import MoodysSettings

EDM = "RM_EDM_PREFLIGHT"
PROFILE = "DLM CBHU v23 USFL"
OUTPUT = "Patched Portfolio Level Only (EP, ELT, Stats)"


def analysis(portfolio: str, **values: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "batch_type": "analysis", "database": EDM, "portfolio": portfolio,
        "analysis_profile": PROFILE, "output_profile": OUTPUT, "treaties": [],
    }
    config.update(values)
    return config


async def test_missing_portfolio_treaty_and_profile_are_named_per_job(
    start_fake: Callable[..., AbstractAsyncContextManager[FakeMoodys]],
    settings_for: Callable[..., MoodysSettings],
) -> None:
    async with (
        start_fake(strict_references=True) as fake,
        MoodysClient(settings_for(fake)) as client,
    ):
        portfolio = {"batch_type": "portfolio_creation", "database": EDM, "portfolio": "P_OK",
                     "import_file": "F", "metadata": {}, "job_key": "p"}
        await client.submit(portfolio, workflow_name="P_OK", request_id=uuid.uuid4())
        jobs = [
            (1, analysis("P_OK")),
            (2, analysis("P_MISSING")),
            (3, analysis("P_OK", treaties=["NO_TREATY"])),
            (4, analysis("P_OK", analysis_profile="No Such Profile")),
            (5, analysis("P_OK")),
        ]
        before = len(fake.requests)
        missing = await ReferenceChecker(client).missing(jobs)
        lookups = fake.requests[before:]
    assert missing == {
        2: [f"portfolio 'P_MISSING' in EDM '{EDM}' not found at Moody's"],
        3: [f"treaty 'NO_TREATY' in EDM '{EDM}' not found at Moody's"],
        4: ["model profile 'No Such Profile' not found at Moody's"],
    }
    assert all(r.method == "GET" for r in lookups)
    portfolio_searches = [r for r in lookups if r.path.endswith("/portfolios")]
    assert len(portfolio_searches) == 2  # P_OK once for three jobs, P_MISSING once
