"""``examples/cycle.ipynb`` executed with nbclient (a real IPython kernel) against a daemon,
the fake Moody's and ``irpd web``: one job is scripted to fail, the notebook resubmits it
with an override and ends with the batch COMPLETED."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .stack import Stack
from .webstack import TOKEN, WebConsole

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "cycle.ipynb"


def _outputs(notebook: Any) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            texts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def test_the_example_notebook_drives_a_batch(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = WebConsole(stack.db_dsn, tmp_path)
    try:
        # a fresh database: the notebook's batch gets jobs 1…; the second one fails once
        stack.fake.script("irpd-2-refresh-useq", "FAILED", "notebook failure")
        monkeypatch.setenv("IRPD_URL", web.url)
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
    finally:
        assert web.stop() == 0, web.log()[-4000:]
