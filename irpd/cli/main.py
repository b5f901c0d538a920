"""``irpd``: run the daemon, manage its database, run the fake Moody's server or the demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

import irpd
from irpd.cli.common import DefaultsParser, load
from irpd.cli.retention import add_parser as add_retention_parser
from irpd.cli.retention import run as run_retention
from irpd.config import describe
from irpd.errors import IrpdError, RetryableError
from irpd.logs import configure_logging

EPILOG = """\
configuration: --config PATH, else $IRPD_CONFIG, else /etc/irpd/irpd.toml if present, else
built-in defaults; every key can be overridden by IRPD_<SECTION>_<KEY> (e.g. IRPD_DATABASE_DSN,
IRPD_MOODYS_BASE_URL, IRPD_MOODYS_API_KEY, IRPD_CONTROL_SOCKET, IRPD_STATE_DIR). With no
database.dsn, irpd starts an embedded PostgreSQL in its state directory.

`irpd run` waits for a database that is down, full or read-only (systemd STATUS= says why).
exit status: 0 stopped by SIGTERM/SIGINT; 1 a crash (systemd restarts it), or a one-shot
command (`irpd db ...`) that found the database unavailable; 2 a configuration error (bad
file, DSN that does not parse, credentials rejected, database missing) with its cause.

examples:
  irpd demo                          # a whole sample cycle against the fake Moody's
  irpd demo --keep                   # the same, then leaves it running to try irpctl on
  irpd run --config /etc/irpd/irpd.toml
  irpd db migrate
  irpd cycle retire --older-than 180 --out /var/lib/irpd/exports
  irpd web --config /etc/irpd/irpd.toml   # the web console on http://127.0.0.1:8457/
  irpd fake-moodys --port 0 --time-scale 600
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``irpd`` argument parser."""
    parser = DefaultsParser(
        prog="irpd",
        description="irpd runs the batch and job lifecycle of Moody's IRP analysis cycles.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"irpd {irpd.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the daemon (what systemd starts)")
    run.add_argument("--config", help="path to irpd.toml")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, text in (("migrate", "apply pending migrations"), ("status", "show migrations")):
        action = db_sub.add_parser(name, help=text)
        action.add_argument("--config", help="path to irpd.toml")

    add_retention_parser(sub)
    web = sub.add_parser(
        "web",
        help="run the web console and HTTP API (see docs/web.md)",
        description="Serve the web console and the HTTP API on web.listen (default "
        "127.0.0.1:8457), reading the daemon's database. 'hash-password' prints an argon2 "
        "hash for the accounts file (password read from stdin); 'new-token' prints a new API "
        "token and the line that stores its digest.",
    )
    web.add_argument(
        "action",
        nargs="?",
        default="serve",
        choices=("serve", "hash-password", "new-token"),
        help="serve the console, print a password hash, or print a new API token",
    )
    web.add_argument("--config", help="path to irpd.toml")

    check = sub.add_parser("config", help="show the effective configuration (secrets masked)")
    check.add_argument("--config", help="path to irpd.toml")

    sub.add_parser(
        "fake-moodys",
        help="run the fake Moody's IRP server (see 'irpd fake-moodys --help')",
        add_help=False,
    )
    demo = sub.add_parser(
        "demo", help="run a whole sample cycle end to end (then exit, or --keep it running)"
    )
    demo.add_argument("--state-dir", help="where the demo keeps its database (default: temp)")
    demo.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="simulated seconds per real second on the fake Moody's (default: 900)",
    )
    demo.add_argument(
        "--keep",
        action="store_true",
        help="afterwards leave irpd and the fake Moody's running (a rehearsal stack) and print "
        "the export IRPD_CONTROL_SOCKET=... line for irpctl; keeps the state directory",
    )
    demo.add_argument(
        "--web",
        nargs="?",
        const="127.0.0.1:8457",
        default=None,
        metavar="HOST:PORT",
        help="also run the web console (default 127.0.0.1:8457) and print its URL and a "
        "demo operator login (password made for this run); without --keep the demo stays up "
        "after the cycle until Ctrl-C",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``irpd`` command."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["fake-moodys"]:
        from irpd.moodys.fake.cli import main as fake_main

        return fake_main(args_list[1:])
    args = build_parser().parse_args(args_list)
    try:
        if args.command == "demo":
            from irpd.demo import run_demo

            return run_demo(
                state_dir=args.state_dir, time_scale=args.time_scale, keep=args.keep, web=args.web
            )
        if args.command == "web" and args.action != "serve":
            from irpd.web.cli import web_tool

            return web_tool(args.action)
        config, path = load(args.config)
        configure_logging(
            config.logging.level,
            config.logging.format,
            secrets=[config.moodys.api_key, config.moodys.bearer_token],
        )
        if args.command == "config":
            print(json.dumps(describe(config), indent=2))
            return 0
        if args.command == "db":
            return asyncio.run(_db(args.db_command, config))
        if args.command == "cycle":
            return asyncio.run(run_retention(args, config))
        if args.command == "web":
            from irpd.web.server import run_web

            return asyncio.run(run_web(config))
        from irpd.app import run_daemon

        return asyncio.run(run_daemon(config, path))
    except RetryableError as exc:  # e.g. `irpd db migrate` while the database is down
        print(f"irpd: {exc} (transient: try again)", file=sys.stderr)
        return 1
    except IrpdError as exc:
        print(f"irpd: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _db(action: str, config: object) -> int:
    from irpd.config import Config
    from irpd.db.bootstrap import open_database
    from irpd.db.migrate import pending

    assert isinstance(config, Config)
    opened = await open_database(config.database, config.state.dir, migrate_now=action == "migrate")
    try:
        missing = await pending(opened.db)
        print(json.dumps({"database": opened.description, "pending": missing}))
    finally:
        await opened.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
