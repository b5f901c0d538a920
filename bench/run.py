"""``python -m bench.run``: the scale benchmark of the real ``irpd run`` process.

    python -m bench.run [--sizes 1000,10000,100000] [--dsn DSN | --split-cores]
                        [--out bench/results/latest.json]

Starts (or is given) PostgreSQL and the fake Moody's (its own process, zero latency), then for
each N measures the sweep, recovery, memory, control latency and transition throughput
(against ``pgbench -N -c 2 -j 2``), and once the submission of ``--submit-jobs`` jobs. Prints
a table, writes JSON. Figures are reported, never asserted. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bench import benchdb, layout, loopcpu
from bench.benchdb import BenchDb
from bench.fake_client import FakeProcess
from bench.figures import BenchSettings, Machine, Report, SizeResult
from bench.layout import Layout, LayoutError
from bench.listing import measure_listing, render_listing
from bench.profiler import summarise
from bench.provenance import product_provenance
from bench.report import render_table, write_json
from bench.rig import Options, Rig
from bench.submission import measure_submission
from bench.tracking import MB, THROUGHPUT_OVERRIDES, baseline_memory, measure_size
from irpd.config import MoodysConfig
from irpd.logs import configure_logging

DEFAULT_OUT = Path("bench/results/latest.json")
DEFAULTS = Options()


def _sizes(text: str) -> tuple[int, ...]:
    if text.strip().lower() == "none":
        return ()
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        message = f"not a comma-separated list of integers: {text}"
        raise argparse.ArgumentTypeError(message) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--sizes",
        type=_sizes,
        default=DEFAULTS.sizes,
        help="in-flight job counts N (default 1000,10000,100000; none: submission only)",
    )
    p.add_argument(
        "--dsn",
        help="superuser DSN of the PostgreSQL server to use (default: "
        "127.0.0.1:5432 if it answers, else an embedded server)",
    )
    p.add_argument(
        "--split-cores",
        action="store_true",
        help="emulate PostgreSQL on its own host: start an embedded PostgreSQL pinned to the "
        "lowest usable core and run the harness, the daemon, the fake and pgbench on the "
        "others (needs 2 usable cores; not with --dsn; see bench/layout.py)",
    )
    p.add_argument(
        "--fake-beside-postgres",
        action="store_true",
        help="with --split-cores: run the fake Moody's on PostgreSQL's core instead of the "
        "daemon's (in production Moody's is on neither host; on two cores it shares one)",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file ({DEFAULT_OUT})")
    p.add_argument(
        "--submit-jobs",
        type=int,
        default=DEFAULTS.submit_jobs,
        help="jobs of the submission measurement, 0 to skip (default 10000)",
    )
    p.add_argument(
        "--control-calls",
        type=int,
        default=DEFAULTS.control_calls,
        help="batch show + status calls while tracking (default 200 each)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=DEFAULTS.requests_per_second,
        help="client rate limit, requests/s, initial = max (default 10000: the "
        "fake has no latency; 0: the product defaults, 500 rising to 2000, meant for Moody's)",
    )
    p.add_argument(
        "--status-batch-size",
        type=int,
        default=None,
        help="ids per status request (default: the product's default)",
    )
    p.add_argument(
        "--moodys-latency",
        type=float,
        default=DEFAULTS.moodys_latency,
        help="seconds the fake adds to every Moody's call (default 0; Moody's is ~0.2)",
    )
    p.add_argument(
        "--listing-jobs",
        type=int,
        default=DEFAULTS.listing_jobs,
        help="list every job of a batch of this many while tracking them (default 100000; "
        "0 skips it)",
    )
    p.add_argument(
        "--listing-settle",
        type=float,
        default=DEFAULTS.listing_settle,
        help="seconds from the first sweep to the listing, so that the daemon's loop-lag "
        "window (~60 s) no longer holds its start-up (default 62)",
    )
    p.add_argument("--pgbench-scale", type=int, default=DEFAULTS.pgbench_scale)
    p.add_argument("--pgbench-seconds", type=int, default=DEFAULTS.pgbench_seconds)
    p.add_argument(
        "--phase-timeout",
        type=float,
        default=DEFAULTS.phase_timeout,
        help="seconds a phase may take before it is recorded as failed",
    )
    p.add_argument(
        "--scrape-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="serve /metrics and scrape it this often during every phase (like Prometheus)",
    )
    p.add_argument(
        "--web-pages",
        type=int,
        default=None,
        metavar="P",
        help="run `irpd web` beside every daemon with P open event streams (issue 14)",
    )
    p.add_argument(
        "--web-page-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --web-pages: also request the batch page this often",
    )
    p.add_argument(
        "--loop-cpu",
        type=Path,
        metavar="DIR",
        help="record the daemons' event-loop iterations and collections in CPU time into DIR "
        "and print the longest per minute (diagnosis; see bench/loopcpu.py)",
    )
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--keep-databases", action="store_true", help="do not drop the databases")
    p.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the work directory (daemon logs) and print its path",
    )
    p.add_argument(
        "--profile-dir",
        type=Path,
        help="record py-spy profiles of the daemon into this directory (needs py-spy; optional)",
    )
    return p


def options_from(args: argparse.Namespace) -> Options:
    """Options from parsed arguments."""
    return Options(
        sizes=args.sizes,
        submit_jobs=args.submit_jobs,
        control_calls=args.control_calls,
        requests_per_second=args.rate,
        status_batch_size=args.status_batch_size,
        pgbench_scale=args.pgbench_scale,
        pgbench_seconds=args.pgbench_seconds,
        phase_timeout=args.phase_timeout,
        keep_databases=args.keep_databases,
        profile_dir=args.profile_dir,
        scrape_every=args.scrape_every,
        web_pages=args.web_pages,
        web_page_every=args.web_page_every,
        moodys_latency=args.moodys_latency,
        listing_jobs=args.listing_jobs,
        listing_settle=args.listing_settle,
    )


def _load() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return (round(one, 2), round(five, 2), round(fifteen, 2))


def layout_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Layout:
    """The cores layout the arguments ask for; a usage error (exit 2) when it cannot be had."""
    if args.fake_beside_postgres and not args.split_cores:
        parser.error("--fake-beside-postgres needs --split-cores")
    if not args.split_cores:
        return layout.shared_layout()
    if args.dsn:
        parser.error("--split-cores starts its own PostgreSQL: a --dsn server cannot be pinned")
    try:
        return layout.split_layout(fake_beside_postgres=args.fake_beside_postgres)
    except LayoutError as exc:
        parser.error(str(exc))


async def _machine(server: benchdb.Server, cores: Layout) -> Machine:
    db = await BenchDb.connect(server.admin_dsn)
    try:
        facts = await db.server_facts()
        if cores.split:  # the backends inherit the postmaster's mask: check one of them
            backend = layout.affinity_of(await db.backend_pid())
            if backend != cores.postgres_cpus:
                message = f"a backend of the pinned server runs on {layout.cores_text(backend)}"
                raise RuntimeError(message)
    finally:
        await db.close()
    return Machine(
        cores=os.cpu_count() or 0,
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.release()} {platform.machine()}",
        postgres_version=facts["server_version"],
        postgres_server=server.description,
        synchronous_commit=facts["synchronous_commit"],
        fsync=facts["fsync"],
        shared_buffers=facts["shared_buffers"],
        layout=cores,
        load_average_before=_load(),
    )


def _progress(text: str) -> None:
    print(f"[bench {datetime.now(UTC).strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def run_with(
    options: Options, dsn: str | None, workdir: Path, command: str, cores: Layout
) -> Report:
    """Every measurement on the server ``dsn`` (or the default one, or with a split layout
    an embedded one on its cores), the harness already on ``cores.harness_cpus``."""
    product = product_provenance()
    server = await benchdb.choose_server(dsn, workdir, cores.postgres_cpus)
    fake = FakeProcess(workdir / "fake.log")
    rig = Rig(server, fake, workdir, options)
    try:
        machine = await _machine(server, cores)
        await fake.start()
        if cores.fake_cpus and layout.pin_process(fake.pid, cores.fake_cpus) != cores.fake_cpus:
            raise RuntimeError("the fake could not be pinned to PostgreSQL's core")
        await fake.set_latency(options.moodys_latency)
        _progress(
            f"PostgreSQL {machine.postgres_version} ({server.description}); fake at "
            f"{fake.base_url}; work directory {workdir}; layout {layout.describe(cores)}"
        )
        baseline = await baseline_memory(rig)
        _progress(f"idle daemon RSS {baseline.rss / MB:.1f} MB")
        sizes: list[SizeResult] = []
        for jobs in options.sizes:
            _progress(f"N={jobs:,}: seeding, sweep, memory, control, throughput, pgbench")
            sizes.append(await measure_size(rig, jobs, baseline))
            for error in sizes[-1].errors:
                _progress(f"N={jobs:,} failed: {error}")
        submission = None
        if options.submit_jobs > 0:
            _progress(f"submission of {options.submit_jobs:,} jobs")
            submission = await measure_submission(rig, options.submit_jobs)
        listing = None
        if options.listing_jobs > 0:
            _progress(f"listing every job of {options.listing_jobs:,} while tracking them")
            listing = await measure_listing(rig, options.listing_jobs)
        machine = replace(machine, load_average_after=_load())
    finally:
        await fake.stop()
        server.stop()
    for path in rig.profiles:
        _progress("profile " + summarise(Path(path)))
    notes: tuple[str, ...] = ()
    if product_provenance() != product:
        notes = ("the product's files changed during the run: figures may mix two versions",)
    return Report(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        command=command,
        product=product,
        machine=machine,
        settings=BenchSettings(
            sizes=options.sizes,
            requests_per_second=options.requests_per_second,
            status_batch_size=options.status_batch_size or MoodysConfig().status_batch_size,
            throughput_overrides=dict(THROUGHPUT_OVERRIDES),
            control_calls=options.control_calls,
            submit_jobs=options.submit_jobs,
            pgbench_scale=options.pgbench_scale,
            pgbench_seconds=options.pgbench_seconds,
        ),
        baseline_rss_mb=round(baseline.rss / MB, 1),
        sizes=tuple(sizes),
        submission=submission,
        notes=notes,
        listing=listing,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run, print the table, write the JSON."""
    parser = build_parser()
    args = parser.parse_args(argv)
    cores = layout_from(args, parser)
    configure_logging("warning", "console", stream=sys.stderr)
    command = "python -m bench.run " + shlex.join(list(argv if argv is not None else sys.argv[1:]))
    workdir = Path(tempfile.mkdtemp(prefix="irpd-bench-"))
    if args.loop_cpu is not None:
        os.environ.update(loopcpu.environ_for(args.loop_cpu))  # the daemons inherit it
    try:
        pinned = layout.process_pinned(cores.harness_cpus) if cores.split else nullcontext()
        with pinned:  # every thread and process the run starts inherits the harness's cores
            report = asyncio.run(run_with(options_from(args), args.dsn, workdir, command, cores))
    finally:
        if args.keep_workdir:
            _progress(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    write_json(report, args.out)
    print(render_table(report, markdown=args.markdown))
    if report.listing is not None:
        print(render_listing(report.listing))
    if args.loop_cpu is not None:
        print(loopcpu.summarise(args.loop_cpu))
    _progress(f"JSON written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
