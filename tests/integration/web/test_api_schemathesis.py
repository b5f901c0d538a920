"""The OpenAPI document checked against the running API by schemathesis (property-based): no
5xx, every status code, content type and response body as documented. Bounded: a fixed seed,
a few examples per operation and a time budget, against ``irpd web`` on a fresh database
holding one cycle, configuration and batch (no daemon needed: nothing is submitted to
Moody's)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.webstack import TOKEN, WebConsole
from tests.e2e.workbooks import generic_jobs_workbook

#: seconds schemathesis may spend in all (it stops generating when the budget is spent)
BUDGET = 25


def _seed(web: WebConsole, directory: Path) -> None:
    status, cycle = web.api("POST", "/cycles", {"name": "api-check"})
    assert status == 200, cycle
    workbook = generic_jobs_workbook(directory, 3, "api")
    status, loaded = web.api(
        "POST",
        "/configurations",
        {
            "cycle": "api-check",
            "filename": workbook.name,
            "content_b64": base64.b64encode(workbook.read_bytes()).decode(),
        },
    )
    assert status == 200, loaded
    status, batch = web.api("POST", "/batches", {"batch_type": "multi_job", "configuration_id": 1})
    assert status == 200, batch


def test_the_api_matches_its_openapi_document(db_dsn: str, tmp_path: Path) -> None:
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if cli is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    web = WebConsole(db_dsn, tmp_path)
    try:
        _seed(web, tmp_path)
        result = subprocess.run(
            [
                cli,
                "run",
                f"{web.url}/api/v1/openapi.json",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_schema_conformance",
                "--header",
                f"Authorization: Bearer {TOKEN}",
                "--max-examples",
                "5",
                "--seed",
                "14",
                "--workers",
                "1",
                "--max-time",
                str(BUDGET),
                "--request-timeout",
                "20",
                "--generation-database",
                "none",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=BUDGET + 90,
            check=False,
            cwd=tmp_path,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-8000:]
    finally:
        assert web.stop() == 0, web.log()[-4000:]
