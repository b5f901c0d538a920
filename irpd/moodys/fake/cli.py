"""``irpd fake-moodys``: run the fake Moody's server until SIGINT/SIGTERM.

The first stdout line is ``fake-moodys listening on http://HOST:PORT`` (flushed), so a
parent process can start it with ``--port 0`` and read the port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from irpd.moodys.fake.app import FakeMoodys
from irpd.moodys.fake.settings import (
    WORKFLOW_TYPES,
    FakeSettings,
    SettingsError,
    load_document,
)

EPILOG = """\
Settings precedence: built-in defaults < --settings FILE (JSON or TOML, keys as in
FakeSettings: seed, time_scale, quota, durations, faults [list of rules], scripts, ...)
< command-line flags. The fault flags build one rule that is added after the file's rules.

Simulated time: now = start + real elapsed * time-scale + manual advances
(POST /__fake__/clock {"seconds": N}). Retry-After and latency are real seconds.

Admin API (no auth): GET/POST /__fake__/faults, GET /__fake__/ledger, GET /__fake__/requests,
POST /__fake__/script, GET /__fake__/state, POST /__fake__/clock, POST /__fake__/quota.
See docs/fake-moodys.md.
"""

_FAULT_FLAGS = {
    "error_rate": ("--error-rate", float, "share of requests answered 500/502/503"),
    "error_statuses": (
        "--error-statuses",
        str,
        "comma list of statuses for --error-rate (default 500,502,503)",
    ),
    "rate_limit_rate": ("--rate-limit-rate", float, "share answered 429 with Retry-After"),
    "retry_after_seconds": (
        "--retry-after",
        float,
        "Retry-After seconds on those 429s (default 1)",
    ),
    "rate_limit_bare_rate": (
        "--rate-limit-bare-rate",
        float,
        "share answered 429 without Retry-After",
    ),
    "html_error_rate": ("--html-error-rate", float, "share answered with an HTML error page"),
    "html_error_status": ("--html-error-status", int, "status of those pages (default 502)"),
    "hang_rate": ("--hang-rate", float, "share that hang until the client gives up"),
    "hang_seconds": ("--hang-seconds", float, "how long a hang lasts before a 504 (default 600)"),
    "latency_seconds": ("--latency", float, "seconds added to matching requests"),
    "latency_rate": ("--latency-rate", float, "share of matching requests delayed (default 1)"),
    "drop_after_record_rate": (
        "--drop-after-record-rate",
        float,
        "share whose connection is dropped AFTER the work is done "
        "(a POST's workflow and ledger entry exist, no response)",
    ),
    "malformed_json_rate": ("--malformed-json-rate", float, "share with invalid JSON bodies"),
    "truncated_json_rate": ("--truncated-json-rate", float, "share with truncated JSON bodies"),
    "not_ready_rate": (
        "--not-ready-rate",
        float,
        "share of status reads (GET one workflow/job) answered 204",
    ),
    "seed": ("--fault-seed", int, "seed of the fault rolls (default: --seed)"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; ``--help`` documents every knob."""
    parser = argparse.ArgumentParser(
        prog="irpd fake-moodys",
        description="Run the fake Moody's IRP server (RM workflows, Platform jobs, faults).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server = parser.add_argument_group("server")
    server.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    server.add_argument("--port", type=int, help="port; 0 picks a free one (default 0)")
    server.add_argument("--settings", metavar="FILE", help="JSON or TOML settings file")
    server.add_argument(
        "--public-url",
        dest="public_base_url",
        metavar="URL",
        help="scheme://host:port used in Location headers (default: the request's Host)",
    )
    tenant = parser.add_argument_group("tenant and authentication")
    tenant.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        metavar="KEY",
        help="accepted key, raw or as 'Bearer KEY' (repeatable; default fake-api-key)",
    )
    tenant.add_argument(
        "--forbidden-key",
        dest="forbidden_keys",
        action="append",
        metavar="KEY",
        help="key answered 403 on every request (repeatable)",
    )
    tenant.add_argument("--tenant-name", help="tenantName in workflows")
    tenant.add_argument("--user-name", help="userName in workflows")
    sim = parser.add_argument_group("simulation")
    sim.add_argument("--seed", type=int, help="seed of durations, outcomes and faults (default 0)")
    sim.add_argument(
        "--time-scale",
        type=float,
        help="simulated seconds per real second; 0 freezes time (default 60)",
    )
    sim.add_argument("--start-time", metavar="ISO", help="simulated start (default: now)")
    sim.add_argument(
        "--quota",
        metavar="N|none",
        help="tenant concurrency quota; extra workflows stay QUEUED; 0 pauses "
        "(DS-521); 'none' = unlimited (default)",
    )
    sim.add_argument(
        "--failure-rate", type=float, help="share of workflows that end FAILED (seeded; default 0)"
    )
    sim.add_argument(
        "--duration",
        action="append",
        metavar="TYPE[.STAGE]=MIN-MAX",
        help="simulated seconds per stage (queued|pending|running, default "
        f"running) for a type: {', '.join(WORKFLOW_TYPES)} (repeatable)",
    )
    sim.add_argument(
        "--cancel-duration",
        action="append",
        metavar="STAGE=MIN-MAX",
        help="simulated seconds in CANCEL_REQUESTED (requested) or CANCELLING (cancelling)",
    )
    sim.add_argument(
        "--script",
        action="append",
        metavar="NAME=OUTCOME[:MESSAGE]",
        help="force workflows named NAME to FAILED (with MESSAGE) or FINISHED",
    )
    sim.add_argument(
        "--script-file", metavar="FILE", help='JSON list of {"name","outcome","message","times"}'
    )
    refs = parser.add_argument_group("references and listing")
    refs.add_argument(
        "--strict-references",
        action="store_const",
        const=True,
        help="unknown portfolio/treaty/analysis names find nothing "
        "(default: a stable synthetic id)",
    )
    refs.add_argument(
        "--catalogue",
        dest="catalogue_path",
        metavar="FILE",
        help="JSON/TOML reference-data catalogue (modelProfiles, outputProfiles, "
        "eventRateSchemes, treaties)",
    )
    refs.add_argument("--max-limit", type=int, help="largest list limit accepted (default 1000)")
    refs.add_argument("--default-limit", type=int, help="list limit when absent (default 100)")
    refs.add_argument("--first-workflow-id", type=int, help="first workflow id (default 22800001)")
    refs.add_argument(
        "--idempotency-ttl",
        dest="idempotency_ttl_seconds",
        type=float,
        metavar="SECONDS",
        help="X-RMS-RequestId lifetime, simulated (default 86400)",
    )
    refs.add_argument(
        "--max-request-line",
        type=int,
        metavar="BYTES",
        help="longest request line/header accepted, e.g. for ids= lists "
        "(default 32768; aiohttp's own default is 8190)",
    )
    refs.add_argument(
        "--request-log-limit", type=int, help="requests kept in /__fake__/requests (default 200000)"
    )
    faults = parser.add_argument_group("faults (one rule; use --faults-file for several)")
    for dest, (flag, kind, text) in _FAULT_FLAGS.items():
        metavar = "RATE" if flag.endswith("-rate") else "SECONDS" if kind is float else "N"
        faults.add_argument(
            flag,
            dest=f"fault_{dest}",
            type=kind,
            help=text,
            metavar="CODES" if dest == "error_statuses" else metavar,
        )
    faults.add_argument("--fault-methods", metavar="GET,POST", help="only these methods")
    faults.add_argument(
        "--fault-path-prefix",
        action="append",
        metavar="PREFIX",
        help="only paths under PREFIX (repeatable)",
    )
    faults.add_argument(
        "--faults-file",
        metavar="FILE",
        help='JSON/TOML: a rule, a list of rules, or {"rules": [...]}',
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> FakeSettings:
    """Merge defaults, the settings file and the flags."""
    data: dict[str, Any] = load_document(args.settings) if args.settings else {}
    for key in (
        "host",
        "port",
        "public_base_url",
        "api_keys",
        "forbidden_keys",
        "tenant_name",
        "user_name",
        "seed",
        "time_scale",
        "start_time",
        "failure_rate",
        "strict_references",
        "catalogue_path",
        "max_limit",
        "default_limit",
        "first_workflow_id",
        "idempotency_ttl_seconds",
        "request_log_limit",
        "max_request_line",
    ):
        value = getattr(args, key)
        if value is not None:
            data[key] = value
    if args.quota is not None:
        data["quota"] = None if args.quota.lower() == "none" else _int(args.quota, "--quota")
    if args.duration:
        data["durations"] = {**data.get("durations", {}), **_durations(args.duration)}
    if args.cancel_duration:
        data["cancel_durations"] = {
            **data.get("cancel_durations", {}),
            **{stage: span for stage, span in map(_assignment, args.cancel_duration)},
        }
    data["faults"] = _fault_rules(args, data.get("faults", []))
    data["scripts"] = _scripts(args, data.get("scripts", []))
    return FakeSettings.from_mapping(data, args.settings or "command line")


def _int(text: str, flag: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise SettingsError(f"{flag} expects an integer, got {text!r}") from exc


def _span(text: str, flag: str) -> list[float]:
    low, _, high = text.partition("-")
    try:
        return [float(low), float(high or low)]
    except ValueError as exc:
        raise SettingsError(f"{flag} expects MIN-MAX seconds, got {text!r}") from exc


def _assignment(text: str) -> tuple[str, list[float]]:
    key, sep, span = text.partition("=")
    if not sep:
        raise SettingsError(f"expected KEY=MIN-MAX, got {text!r}")
    return key.strip(), _span(span, key)


def _durations(items: list[str]) -> dict[str, dict[str, list[float]]]:
    result: dict[str, dict[str, list[float]]] = {}
    for item in items:
        key, span = _assignment(item)
        type_name, _, stage = key.partition(".")
        result.setdefault(type_name, {})[stage or "running"] = span
    return result


def _fault_rules(args: argparse.Namespace, existing: Any) -> list[Any]:
    rules = [existing] if isinstance(existing, dict) else list(existing)
    if args.faults_file:
        loaded: Any = load_document(args.faults_file)
        loaded = loaded.get("rules", loaded) if isinstance(loaded, dict) else loaded
        rules.extend([loaded] if isinstance(loaded, dict) else loaded)
    rule: dict[str, Any] = {}
    for dest in _FAULT_FLAGS:
        value = getattr(args, f"fault_{dest}")
        if value is not None:
            rule[dest] = value
    if "error_statuses" in rule:
        rule["error_statuses"] = [
            _int(s, "--error-statuses") for s in str(rule["error_statuses"]).split(",")
        ]
    if args.fault_methods:
        rule["methods"] = [m.strip() for m in args.fault_methods.split(",") if m.strip()]
    if args.fault_path_prefix:
        rule["path_prefixes"] = args.fault_path_prefix
    if set(rule) - {"seed", "methods", "path_prefixes"}:
        rules.append(rule)
    return rules


def _scripts(args: argparse.Namespace, existing: Any) -> list[Any]:
    scripts = list(existing)
    if args.script_file:
        loaded = load_document_list(args.script_file)
        scripts.extend(loaded)
    for item in args.script or []:
        name, sep, rest = item.partition("=")
        if not sep:
            raise SettingsError(f"--script expects NAME=OUTCOME[:MESSAGE], got {item!r}")
        outcome, _, message = rest.partition(":")
        scripts.append(
            {"name": name, "outcome": outcome.strip().upper(), "message": message or None}
        )
    return scripts


def load_document_list(path: str) -> list[Any]:
    """A JSON file holding a list (or an object with ``scripts``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{path}: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("scripts", [data])
    if not isinstance(data, list):
        raise SettingsError(f"{path}: expected a list of scripts")
    return data


async def serve(settings: FakeSettings) -> None:
    """Run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with FakeMoodys.running(settings) as fake:
        print(f"fake-moodys listening on {fake.base_url}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        print(f"fake-moodys: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(settings))
    except OSError as exc:
        print(f"fake-moodys: cannot serve: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
