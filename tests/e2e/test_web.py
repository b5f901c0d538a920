"""The web console, its HTTP API, the Python client and the example notebook against a real
daemon, the fake Moody's and an ``irpd web`` process — two stacks in all, to keep it short.

1. In a real headless Chromium (Debian's ``chromium``, driven by Playwright without
   ``playwright install``; ``scripts/bootstrap.sh`` installs it): a viewer cannot act, actions
   without a CSRF token are refused, then the operator opens the cycle, drills into the failed
   job, resubmits it with a one-parameter override and watches the batch turn COMPLETED
   without a reload. Screenshots of each page go to ``test-artifacts/web/``.
2. ``irpd.client`` (sync and async) drives a batch through a failure by the old helper names,
   refusals raise the spec's error types; then ``examples/cycle.ipynb`` runs in a real IPython
   kernel (nbclient) against the same console.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from irpd.client import ApiError, AsyncClient, BatchError, Client, ConfigurationError, JobError

from . import scripted, steps
from .stack import Stack
from .webstack import PASSWORD, TOKEN, VIEWER_TOKEN, WebConsole
from .workbooks import generic_jobs_workbook

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
NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "cycle.ipynb"
#: milliseconds the browser waits for a page to show what the test expects
WAIT_MS = 60_000


@pytest.fixture
def console(stack: Stack, tmp_path: Path) -> Iterator[WebConsole]:
    """``irpd web`` on the test's database (SIGTERM at the end must exit 0)."""
    web = WebConsole(stack.db_dsn, tmp_path)
    try:
        yield web
    finally:
        rc = web.stop()
        assert rc == 0, web.log()[-4000:]


# --- 1. the console in a browser ------------------------------------------------------------


@contextlib.contextmanager
def chromium() -> Iterator[tuple[Any, Any]]:
    """``(playwright.sync_api, browser)``: a headless Chromium opened inside the test
    (Playwright's sync API runs an event loop of its own, which must not overlap the async
    fixtures' set-up)."""
    api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (scripts/bootstrap.sh installs it)")
    with api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield api, launched
        finally:
            launched.close()


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


def test_console_in_a_browser(stack: Stack, console: WebConsole, tmp_path: Path) -> None:
    batch, _jobs = scripted.run_with_failures(stack, tmp_path, 6, [2], "webjourney")
    failed_id = batch.job_ids[2]
    with chromium() as (api, browser):
        _viewer_cannot_act(console, browser, failed_id)
        _actions_need_the_csrf_token(console, browser, failed_id)
        status, job = console.api("GET", f"/jobs/{failed_id}")
        assert status == 200
        assert job["status"] == "FAILED"
        assert not job["skipped"]  # nothing changed
        _operator_journey(stack, console, api, browser, batch.batch_id, failed_id)
    status, _body = console.api("GET", "/jobs/1", token=None)
    assert status == 401


def _viewer_cannot_act(console: WebConsole, browser: Any, failed_id: int) -> None:
    viewer = _login(browser, console, "victor")
    viewer.goto(f"{console.url}/jobs/{failed_id}")
    viewer.wait_for_selector("h1")
    assert viewer.locator("form[action^='/actions/']").count() == 0
    assert viewer.locator("#override-editor").count() == 0
    _shot(viewer, "7-job-as-viewer")
    # even with a valid CSRF token, a viewer's action is refused
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


def _actions_need_the_csrf_token(console: WebConsole, browser: Any, failed_id: int) -> None:
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


def _operator_journey(
    stack: Stack, console: WebConsole, api: Any, browser: Any, batch_id: int, failed_id: int
) -> None:
    page = _login(browser, console, "olga")
    _shot(page, "1-cycles")

    page.click("table.grid tbody th a")  # the cycle
    page.wait_for_selector(f"a[href='/batches/{batch_id}']")
    assert page.inner_text(f"[data-batch-id='{batch_id}'][data-field='status']") == "FAILED"
    _shot(page, "2-cycle")

    page.click(f"a[href='/batches/{batch_id}']")
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

    for key in ("batch_type", "job_key"):  # they name the job: shown read-only, never sent
        assert page.locator(f"#override-editor input[data-fixed='{key}']").is_editable() is False
        assert page.locator(f"input[name='param:{key}']").count() == 0
    priority = page.locator("input[name='param:priority']")
    priority.fill(str(int(priority.input_value()) % 3 + 1))
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

    page.goto(f"{console.url}/batches/{batch_id}")
    page.evaluate("window.__notReloaded = true")
    api.expect(page.locator("#batch-status")).to_have_text("COMPLETED", timeout=WAIT_MS)
    assert page.evaluate("window.__notReloaded === true")  # updated live, no reload
    assert page.inner_text("#next-action") == "PROCEED"
    _shot(page, "6-batch-completed-live")

    assert steps.job_show(stack.ctl, new_id)["job"]["status"] == "FINISHED"
    status, history = console.api("GET", f"/jobs/{failed_id}/history")
    assert status == 200
    by_operator = [t for t in history["tracking_log"] if t["source"] == "operator"]
    assert by_operator
    assert by_operator[-1]["tracking_data"].get("actor") == "olga", by_operator
    page.context.close()


# --- 2. the Python client and the example notebook -------------------------------------------


def test_client_and_example_notebook(
    stack: Stack, console: WebConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    last_job = _sync_client_drives_a_batch(stack, console, tmp_path)
    _in_a_thread(_async_client_reads_and_refuses(console))
    _example_notebook(stack, console, tmp_path, monkeypatch, last_job)


def _sync_client_drives_a_batch(stack: Stack, console: WebConsole, tmp_path: Path) -> int:
    irpd = Client(console.url, TOKEN, timeout=30)
    assert TOKEN not in repr(irpd)
    cycle = irpd.create_cycle("client-cycle")
    workbook = generic_jobs_workbook(tmp_path, 4, "client")
    report = irpd.load_configuration_file(cycle["id"], workbook, register=False)
    assert report["valid"] is True
    configuration_id = irpd.load_configuration_file(cycle["id"], workbook)
    assert isinstance(configuration_id, int)
    assert irpd.read_configuration(configuration_id)["status"] == "VALID"

    batch_id = irpd.create_batch("multi_job", configuration_id)
    jobs = irpd.get_batch_jobs(batch_id)
    assert [j["status"] for j in jobs] == ["INITIATED"] * 4
    assert len(irpd.get_batch_job_configurations(batch_id, skipped=False)) == 4
    victim = int(jobs[1]["id"])
    stack.fake.script(scripted.name_of(stack.ctl, victim), "FAILED", "client failure")

    assert irpd.submit_batch(batch_id)["submitted_jobs"] == 4
    assert irpd.wait_batch(batch_id, timeout=90, every=0.5) == "FAILED"
    failed = irpd.get_batch_jobs(batch_id, status="FAILED")
    assert [int(j["id"]) for j in failed] == [victim]
    assert irpd.track_job_status(victim) == "FAILED"

    with pytest.raises(JobError, match="override"):
        irpd.resubmit_job(victim, override_reason="no data")  # a reason needs an override
    with pytest.raises(BatchError, match="not found"):
        irpd.read_batch(987654)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(ConfigurationError):
        irpd.load_configuration_file("client-cycle", broken)

    data = irpd.get_job_config(victim)["job_configuration_data"]
    new_id = irpd.resubmit_job(
        victim,
        job_configuration_data={**data, "priority": 9},
        override_reason="priority fixed",
        submit=True,
    )
    assert irpd.wait_batch(batch_id, timeout=90, every=0.5) == "COMPLETED"
    assert irpd.track_job_status(new_id) == "FINISHED"
    assert irpd.recon_batch(batch_id) == "COMPLETED"
    history = irpd.job_history(new_id)
    diff = next(e for e in history["lineage"] if e["job_id"] == new_id)["override_diff"]
    assert diff == [{"key": "priority", "before": data["priority"], "after": 9}]
    assert irpd.get_batch_jobs(batch_id, skipped=True)[0]["id"] == victim

    viewer = Client(console.url, VIEWER_TOKEN)
    with pytest.raises(ApiError) as refused:
        viewer.skip_job(new_id, "viewers cannot")
    assert refused.value.status == 403
    assert refused.value.error_type == "PermissionDenied"
    return new_id


async def _async_client_reads_and_refuses(console: WebConsole) -> None:
    async with AsyncClient(console.url, TOKEN) as irpd:
        cycles = await irpd.list_cycles()
        assert [c["cycle_name"] for c in cycles] == ["client-cycle"]
        assert (await irpd.attention()) == {"batches": [], "jobs": []}
        with pytest.raises(BatchError, match="not found"):
            await irpd.get_batch_jobs(424242)
        with pytest.raises(JobError):
            await irpd.skip_job(424242)


def _in_a_thread(coroutine: Any) -> None:
    """Run ``coroutine`` on an event loop of its own (not the fixtures' loop)."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    if failure:
        raise failure[0]


def _outputs(notebook: Any) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            texts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def _example_notebook(
    stack: Stack,
    console: WebConsole,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    last_job: int,
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # the notebook's batch gets the next job ids; its second job (refresh-useq) fails once
    stack.fake.script(f"irpd-{last_job + 2}-refresh-useq", "FAILED", "notebook failure")
    monkeypatch.setenv("IRPD_URL", console.url)
    monkeypatch.setenv("IRPD_TOKEN", TOKEN)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    shown = _outputs(notebook)
    assert "resubmitted as job" in shown, shown
    assert "notebook failure" in shown, shown
    assert "BatchError: Batch 1000000000000 not found." in shown, shown
    assert "'status': 'COMPLETED'" in shown, shown
