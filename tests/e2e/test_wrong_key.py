"""A wrong API key surfaces at once: ``irpctl batch submit`` and ``job submit`` stop waiting
and exit 1 naming the authentication failure; ``irpctl status`` shows it, since when; the jobs
keep their committed intent (nothing is lost, nothing is sent twice once the key is fixed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import steps
from .harness import EXIT_REFUSED
from .scripted import generic_batch
from .stack import Stack
from .test_irpctl import human

pytestmark = pytest.mark.e2e

DAEMON_ENV = {"IRPD_MOODYS_API_KEY": "wrong-key"}
#: irpctl runs are bounded well below their own --wait-timeout (600 s): a wait that did not
#: end early would fail the test by timing out
PROMPTLY = 120.0


def test_a_wrong_key_ends_the_submission_wait_with_the_reason(stack: Stack, tmp_path: Path) -> None:
    ctl = stack.ctl
    first = generic_batch(stack, tmp_path, 3, "wrong-key")
    configuration_id, batch_id = first.configuration_id, first.batch_id

    submitted = ctl("batch", "submit", batch_id, check=False, timeout=PROMPTLY)
    assert submitted.rc == EXIT_REFUSED, submitted
    assert "MoodysAuthenticationError" in submitted.stderr
    assert submitted.json["error"]["type"] == "MoodysAuthenticationError"
    assert "wrong-key" not in submitted.stdout + submitted.stderr

    moodys = ctl.json("status")["moodys"]
    assert moodys["authentication"]["state"] == "failing"
    assert moodys["authentication"]["failing_since"]
    assert "MoodysAuthenticationError" in moodys["last_error"]

    shown = human(stack, "status")  # what a person sees first
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("MOODY'S REFUSES THE CREDENTIALS since "), shown.stdout

    jobs = steps.jobs(ctl, batch_id)
    assert {j["status"] for j in jobs} <= {"INITIATED", "SUBMITTING"}
    for job in jobs:  # stored whole (never cut mid-word)
        assert (
            not job["last_error"]
            or job["last_error"].endswith(("401", "…"))
            or ("request rejected" in job["last_error"])
        )

    second = steps.create_batch(ctl, "multi_job", configuration_id, "the same jobs, one by one")
    single = ctl("job", "submit", steps.jobs(ctl, second)[0]["id"], check=False, timeout=PROMPTLY)
    assert single.rc == EXIT_REFUSED, single
    assert "MoodysAuthenticationError" in single.stderr
