"""The web console in a real headless Chromium (Debian's ``chromium``, driven by Playwright;
``scripts/bootstrap.sh`` installs it) against a real daemon, the fake Moody's and an
``irpd web`` process: the operator's main journey, a viewer who cannot act, and actions
without a CSRF token refused. Screenshots of each page go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import scripted, steps
from .stack import Stack
from .webstack import PASSWORD, WebConsole

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
#: milliseconds the browser waits for a page to show what the test expects
WAIT_MS = 60_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="chromium is not installed (scripts/bootstrap.sh)"
)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, opened inside the test (Playwright's sync API runs an event loop
    of its own, which must not overlap the async fixtures' set-up)."""
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def console(stack: Stack, tmp_path: Path) -> Iterator[WebConsole]:
    """``irpd web`` on the test's database (SIGTERM at the end must exit 0)."""
    web = WebConsole(stack.db_dsn, tmp_path)
    try:
        yield web
    finally:
        rc = web.stop()
        assert rc == 0, web.log()[-4000:]


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def _login(browser: Any, web: WebConsole, user: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{web.url}/cycles")
    assert "/login" in page.url  # nobody is let in without logging in
    page.fill("#user", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/cycles")
    return page


def test_operator_resubmits_a_failed_job_and_watches_the_batch_complete(
    stack: Stack, console: WebConsole, tmp_path: Path
) -> None:
    batch, _jobs = scripted.run_with_failures(stack, tmp_path, 6, [2], "webjourney")
    with chromium() as browser:
        _journey(stack, console, browser, batch)


def _journey(stack: Stack, console: WebConsole, browser: Any, batch: Any) -> None:
    failed_id = batch.job_ids[2]
    page = _login(browser, console, "olga")
    _shot(page, "1-cycles")

    page.click("table.grid tbody th a")  # the cycle
    page.wait_for_selector(f"a[href='/batches/{batch.batch_id}']")
    assert page.inner_text(f"[data-batch-id='{batch.batch_id}'][data-field='status']") == "FAILED"
    _shot(page, "2-cycle")

    page.click(f"a[href='/batches/{batch.batch_id}']")
    page.wait_for_selector("#jobs-table")
    assert page.inner_text("#batch-status") == "FAILED"
    page.select_option("#f-status", "FAILED")
    page.click(".filters button[type=submit]")
    page.wait_for_selector(f"#jobs-table a[href='/jobs/{failed_id}']")
    assert page.locator("#jobs-table tbody tr").count() == 1
    _shot(page, "3-batch-failed")

    page.click(f"#jobs-table a[href='/jobs/{failed_id}']")
    page.wait_for_selector("#override-editor")
    assert "scripted failure" in page.inner_text("body")
    _shot(page, "4-job-failed")

    priority = page.locator("input[name='param:priority']")
    before = priority.input_value()
    priority.fill(str(int(before) % 3 + 1))
    page.fill("#override-reason", "priority was wrong")
    assert "priority" in page.inner_text("#override-changes")
    page.click("#override-editor button[type=submit]")
    page.wait_for_selector(".flash-ok")
    assert f"Job {failed_id} resubmitted as job" in page.inner_text(".flash-ok")
    new_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert new_id != failed_id
    diff = page.inner_text("table.diff")
    assert "priority" in diff  # the one parameter changed, shown as such
    assert "job_key" not in diff
    _shot(page, "5-job-resubmitted")

    page.goto(f"{console.url}/batches/{batch.batch_id}")
    page.evaluate("window.__notReloaded = true")
    playwright_api.expect(page.locator("#batch-status")).to_have_text("COMPLETED", timeout=WAIT_MS)
    assert page.evaluate("window.__notReloaded === true")  # updated live, no reload
    assert page.inner_text("#next-action") == "PROCEED"
    _shot(page, "6-batch-completed-live")

    assert steps.job_show(stack.ctl, new_id)["job"]["status"] == "FINISHED"
    status, history = console.api("GET", f"/jobs/{failed_id}/history")
    assert status == 200
    resubmit = [t for t in history["tracking_log"] if t["source"] == "operator"]
    assert resubmit
    assert resubmit[-1]["tracking_data"].get("actor") == "olga", resubmit
    page.context.close()


def test_viewer_cannot_act_and_actions_need_the_csrf_token(
    stack: Stack, console: WebConsole, tmp_path: Path
) -> None:
    batch, _jobs = scripted.run_with_failures(stack, tmp_path, 3, [0], "webviewer")
    with chromium() as browser:
        _refusals(console, browser, batch.job_ids[0])
    status, job = console.api("GET", f"/jobs/{batch.job_ids[0]}")
    assert status == 200
    assert job["status"] == "FAILED"
    assert not job["skipped"]
    status, _body = console.api("GET", "/jobs/1", token=None)
    assert status == 401


def _refusals(console: WebConsole, browser: Any, failed_id: int) -> None:

    viewer = _login(browser, console, "victor")
    viewer.goto(f"{console.url}/jobs/{failed_id}")
    viewer.wait_for_selector("h1")
    assert viewer.locator("form[action^='/actions/']").count() == 0
    assert viewer.locator("#override-editor").count() == 0
    _shot(viewer, "7-job-as-viewer")
    # even with a valid CSRF token, a viewer's action is refused and nothing changes
    answer = viewer.evaluate(
        """async (jobId) => {
            const body = new URLSearchParams({csrf_token: document.body.dataset.csrf,
                                              job_id: String(jobId), reason: 'not mine'});
            const r = await fetch('/actions/job.skip', {method: 'POST', body});
            return r.status;
        }""",
        failed_id,
    )
    assert answer == 403
    viewer.context.close()

    operator = _login(browser, console, "olga")
    operator.goto(f"{console.url}/jobs/{failed_id}")
    operator.wait_for_selector("#override-editor")
    refused = operator.evaluate(
        """async (jobId) => {
            const form = new URLSearchParams({job_id: String(jobId), reason: 'no token'});
            const page = await fetch('/actions/job.skip', {method: 'POST', body: form});
            const api = await fetch('/api/v1/jobs/' + jobId + '/skip', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({reason: 'no token'})});
            return [page.status, api.status, (await api.json()).error.type];
        }""",
        failed_id,
    )
    assert refused == [403, 403, "PermissionDenied"]
    operator.context.close()
