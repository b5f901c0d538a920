"""The repository files the README, irpd.toml and docs/*.md name, their relative links and the
modules they run with ``python -m`` exist (a renamed module or test must not leave a page
pointing at nothing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "irpd.toml", *sorted((ROOT / "docs").glob("*.md"))]
TOP = "|".join(("irpd", "tests", "sql", "docs", "scripts", "bench", "monitoring", "systemd",
                "statemachines", "examples"))  # fmt: skip
#: a path under one of the repository's top-level directories (globs allowed)
PATH = re.compile(rf"(?<![\w/.-])((?:{TOP})/[\w./*-]*[\w*])")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
#: written by a run, not kept in the repository
OUTPUTS = {"bench/results/latest.json"}


def named(page: Path) -> list[str]:
    """The repository paths and relative link targets ``page`` names."""
    text = page.read_text(encoding="utf-8")
    paths = {re.sub(r":\d+$", "", m.split("::")[0]) for m in PATH.findall(text)} - OUTPUTS
    links = {str((page.parent / m).relative_to(ROOT)) for m in LINK.findall(text) if ":" not in m}
    return sorted(paths | links)


def exists(path: str) -> bool:
    return any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists()


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_named_file_exists(page: Path) -> None:
    missing = [path for path in named(page) if not exists(path)]
    assert not missing, f"{page.name} names files that do not exist: {missing}"


def test_the_scan_finds_paths_and_links() -> None:
    assert "irpd/db/conflicts.py" in named(ROOT / "docs" / "operations.md")
    assert "docs/control.md" in named(ROOT / "docs" / "cycles.md")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_module_run_with_python_m_exists(page: Path) -> None:
    modules = set(re.findall(r"python -m ([a-z_][a-z0-9_.]*[a-z0-9_])", page.read_text("utf-8")))
    files = {m: ROOT / m.replace(".", "/") for m in modules}
    missing = sorted(
        m
        for m, f in files.items()
        if not f.with_suffix(".py").is_file() and not (f / "__main__.py").is_file()
    )
    assert not missing, f"{page.name} runs modules that do not exist: {missing}"


def test_the_readme_lists_every_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(docs/[\w.-]+\.md)` \|", table, flags=re.M))
    pages = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert listed == pages
