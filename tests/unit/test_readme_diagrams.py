"""The README's state-machine diagrams are generated from the tables; fail when stale."""

from __future__ import annotations

import re
from pathlib import Path

from statemachines.batch import BATCH_LIFECYCLE
from statemachines.configuration import CONFIGURATION_LIFECYCLE
from statemachines.diagrams import mermaid
from statemachines.job import JOB_LIFECYCLE

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_diagrams_match_the_tables() -> None:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"<!-- statemachines:start -->(.*)<!-- statemachines:end -->", text, re.S)
    assert section is not None, "README.md lost its statemachines markers"
    shown = re.findall(r"```mermaid\n(.*?)\n```", section.group(1), re.S)
    expected = [mermaid(JOB_LIFECYCLE), mermaid(BATCH_LIFECYCLE), mermaid(CONFIGURATION_LIFECYCLE)]
    assert shown == expected, "README.md diagrams are stale: regenerate them from statemachines/"
