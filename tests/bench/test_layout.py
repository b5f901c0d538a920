"""``bench.run --split-cores`` (bench/layout.py): processes started under each side report the
cores they run on (``os.sched_getaffinity``), an embedded PostgreSQL pinned to one core has its
backends there too, and the option is refused before anything starts when it cannot be had.
Each check runs in its own process from the repository's root, as the harness is run. No
benchmark is run and nothing is timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.bench import REPO_ROOT, run_bench

TWO_CORES = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="the split layout needs 2 usable cores"
)

#: a child process that prints the cores it may run on
CHILD = textwrap.dedent(
    """
    import json, os, subprocess, sys

    def child():
        code = "import json, os; print(json.dumps(sorted(os.sched_getaffinity(0))))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True)
        return json.loads(done.stdout)
    """
)


def _python(code: str, *, timeout: float = 60) -> Any:
    """Run ``code`` with the repository's root as the working directory; its last stdout line
    as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD + textwrap.dedent(code)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_postgres_gets_the_lowest_core_and_the_harness_the_rest() -> None:
    found = _python(
        """
        from bench import layout
        split = layout.split_layout([3, 1, 2])
        try:
            layout.split_layout([0])
            refused = ""
        except layout.LayoutError as exc:
            refused = str(exc)
        print(json.dumps([split.name, split.postgres_cpus, split.harness_cpus,
                          layout.describe(split), refused, layout.cores_text([0, 1, 2, 5, 7, 8])]))
        """
    )
    assert found == [
        "split-cores",
        [1],
        [2, 3],
        "split-cores: PostgreSQL on core(s) 1; harness, daemon, fake and pgbench on core(s) 2-3",
        "--split-cores needs at least 2 usable cores; this process may use 1 (0)",
        "0-2,5,7-8",
    ]


@TWO_CORES
def test_processes_started_under_each_side_run_on_its_cores() -> None:
    found = _python(
        """
        import threading
        from bench import layout
        split = layout.split_layout()
        before = layout.usable_cpus()
        with layout.process_pinned(split.harness_cpus):
            harness = child()
            # a thread started meanwhile (as asyncio.to_thread's are) and what it starts
            seen = []
            worker = threading.Thread(target=lambda: seen.append(child()))
            worker.start()
            worker.join()
            postgres = layout.call_pinned(split.postgres_cpus, child)
            caller_after_call = layout.usable_cpus()
        print(json.dumps({
            "split": [split.postgres_cpus, split.harness_cpus],
            "harness": harness, "thread": seen[0], "postgres": postgres,
            "caller_after_call": caller_after_call,
            "restored": layout.usable_cpus() == before,
        }))
        """
    )
    postgres_cpus, harness_cpus = found["split"]
    assert found["harness"] == harness_cpus
    assert found["thread"] == harness_cpus
    assert found["postgres"] == postgres_cpus
    assert found["caller_after_call"] == harness_cpus
    assert found["restored"] is True
    assert set(postgres_cpus).isdisjoint(harness_cpus)


@TWO_CORES
def test_the_pinned_embedded_server_and_its_backends_run_on_its_core(tmp_path: Path) -> None:
    found = _python(
        f"""
        import asyncio
        from pathlib import Path
        import asyncpg
        from bench import layout
        from bench.benchdb import choose_server

        async def main():
            split = layout.split_layout()
            server = await choose_server(None, Path({str(tmp_path)!r}), split.postgres_cpus)
            try:
                conn = await asyncpg.connect(server.admin_dsn)
                try:
                    backend = layout.affinity_of(await conn.fetchval("SELECT pg_backend_pid()"))
                finally:
                    await conn.close()
                return {{
                    "postgres_cpus": split.postgres_cpus,
                    "backend": backend,
                    "description": server.description,
                    "main_thread": layout.usable_cpus(),
                }}
            finally:
                server.stop()

        print(json.dumps(asyncio.run(main())))
        """,
        timeout=120,
    )
    assert found["backend"] == found["postgres_cpus"]
    assert found["description"].startswith("embedded (pgserver), pinned to core(s) ")
    assert found["main_thread"] == sorted(os.sched_getaffinity(0))  # only its thread pinned


def test_split_cores_with_a_given_server_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = run_bench(
        "bench.run",
        "--split-cores",
        "--dsn",
        "postgresql://postgres@127.0.0.1:1/postgres",
        "--out",
        str(out),
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "--split-cores starts its own PostgreSQL: a --dsn server cannot be pinned" in (
        done.stderr
    )
    assert "[bench" not in done.stderr  # nothing started
    assert not out.exists()


def test_split_cores_on_one_usable_core_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    one = min(os.sched_getaffinity(0))
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--split-cores", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: os.sched_setaffinity(0, {one}),  # as `taskset -c <one>` would
    )
    assert done.returncode == 2, done.stderr
    assert f"--split-cores needs at least 2 usable cores; this process may use 1 ({one})" in (
        done.stderr
    )
    assert "[bench" not in done.stderr
    assert not out.exists()


def test_the_fake_beside_postgres_shares_its_core() -> None:
    found = _python(
        """
        from bench import layout
        split = layout.split_layout([0, 1], fake_beside_postgres=True)
        print(json.dumps([split.postgres_cpus, split.fake_cpus, split.harness_cpus,
                          layout.describe(split)]))
        """
    )
    assert found == [
        [0],
        [0],
        [1],
        "split-cores: PostgreSQL and the fake on core(s) 0; harness, daemon and pgbench on "
        "core(s) 1",
    ]


def test_fake_beside_postgres_without_split_cores_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = run_bench("bench.run", "--fake-beside-postgres", "--out", str(out), timeout=60)
    assert done.returncode == 2, done.stderr
    assert "--fake-beside-postgres needs --split-cores" in done.stderr
    assert "[bench" not in done.stderr
    assert not out.exists()
