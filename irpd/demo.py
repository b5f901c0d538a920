"""``irpd demo``: a whole sample cycle, end to end, on a fresh machine.

Starts the fake Moody's (time-scaled) and the real ``irpd run`` daemon on the embedded
PostgreSQL, loads the sample workbook and runs it with the default cycle plan (the daemon
creates and submits every step's batch in order) with progress on screen; one analysis is
scripted to fail and the demo, as the operator, resubmits it with an override. Prints the
final reconciliation of every batch, stops everything and exits 0 when the cycle completed.
With ``--keep`` the daemon and the fake stay up afterwards: a rehearsal stack for ``irpctl``.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from irpd.control.client import ControlClient, DaemonRefused, DaemonUnreachable, not_serving
from irpd.plans import default_plan_text
from irpd.samples import sample_path
from irpd.samples.cycle_data import DEMO_FAILING_ANALYSIS
from statemachines.job import TERMINAL_JOB_STATUSES

#: the batch types of the default cycle plan, in its order (what the demo runs)
BATCH_ORDER = tuple(
    str(step["batch_type"])
    for step in tomllib.loads(default_plan_text())["step"]
    if "batch_type" in step
)
API_KEY = "demo-api-key"
DEMO_FAILURE = "Analysis failed: event rate scheme not licensed for this tenant (demo)"
#: the operator's fix in the demo: the same analysis on a licensed event rate scheme
FIXED_EVENT_RATE = "RMS 2023 Long Term Event Rates"


def say(text: str) -> None:
    """Progress on screen."""
    print(text, flush=True)


def _start_fake(workdir: Path, time_scale: float) -> tuple[subprocess.Popen[str], str]:
    log = (workdir / "fake-moodys.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "irpd.cli.main",
            "fake-moodys",
            "--port",
            "0",
            "--time-scale",
            str(time_scale),
            "--api-key",
            API_KEY,
            "--seed",
            "7",
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,  # a rehearsal (--keep) outlives the demo
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise RuntimeError(f"fake Moody's did not start: {line!r} (see {log.name})")
    return proc, "http://" + line.split("http://", 1)[1].strip()


def _start_daemon(workdir: Path, base_url: str) -> tuple[subprocess.Popen[bytes], Path]:
    socket_path = workdir / "irpd.sock"
    env = {
        **os.environ,
        "IRPD_STATE_DIR": str(workdir / "state"),
        "IRPD_CONTROL_SOCKET": str(socket_path),
        "IRPD_MOODYS_BASE_URL": base_url,
        "IRPD_MOODYS_API_KEY": API_KEY,
        "IRPD_MOODYS_VERIFY_TLS": "false",
        "IRPD_ENGINE_POLL_MIN_INTERVAL": "1",
        "IRPD_ENGINE_POLL_MAX_INTERVAL": "5",
        "IRPD_ENGINE_RECONCILE_DEBOUNCE": "0.2",
        "IRPD_LOGGING_FORMAT": "json",
    }
    env.pop("IRPD_DATABASE_DSN", None)
    log = (workdir / "irpd.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "irpd.cli.main", "run"],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"irpd exited with {proc.returncode}; see {log.name}")
        try:
            with ControlClient(socket_path, timeout=5) as client:
                client.call("ping")
            return proc, socket_path
        except (DaemonUnreachable, DaemonRefused) as exc:
            if not not_serving(exc):
                raise
            time.sleep(0.3)
    raise RuntimeError("irpd did not become ready within 180 s")


def _script_failure(base_url: str, name: str) -> None:
    body = json.dumps(
        {"name": name, "outcome": "FAILED", "message": DEMO_FAILURE, "times": 1}
    ).encode()
    request = urllib.request.Request(
        f"{base_url}/__fake__/script",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _wait(client: ControlClient, batch_id: int, label: str, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        shown = client.call("batch.show", {"batch_id": batch_id})
        report = shown.get("report") or {}
        line = (
            f"  {label:<18} batch {batch_id:<3} {shown['status']:<10} "
            f"{report.get('fulfilled_configs', '?')}/{report.get('total_configs', '?')} done"
        )
        if line != last:
            say(line)
            last = line
        if shown["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return str(shown["status"])
        time.sleep(0.5)
    raise RuntimeError(f"batch {batch_id} did not finish within {timeout:g} s")


def _settle(client: ControlClient, batch_id: int, timeout: float = 300) -> list[dict[str, Any]]:
    """Wait until every non-skipped job of the batch is terminal; return the jobs."""
    deadline = time.monotonic() + timeout
    while True:
        jobs: list[dict[str, Any]] = client.call(
            "batch.jobs", {"batch_id": batch_id, "skipped": False}
        )["jobs"]
        if all(j["status"] in TERMINAL_JOB_STATUSES for j in jobs) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.5)


def _resubmit_failures(client: ControlClient, batch_id: int) -> None:
    failed = [j for j in _settle(client, batch_id) if j["status"] in ("FAILED", "ERROR")]
    for job in failed:
        new = client.call(  # the override: only the changed parameter; queued at once
            "job.resubmit",
            {
                "job_id": job["id"],
                "override": {"event_rate": FIXED_EVENT_RATE},
                "reason": f"demo: event rate scheme not licensed; rerun on {FIXED_EVENT_RATE}",
            },
        )
        say(
            f"  job {job['id']} FAILED ({job.get('last_error')}); resubmitted with an "
            f"override as job {new['job_id']}"
        )


#: the widest step name of the default plan (progress lines line up)
STEP_WIDTH = max(len(batch_type) for batch_type in BATCH_ORDER)


def _progress(client: ControlClient, step: dict[str, Any]) -> str:
    line = f"  {step['step']:<{STEP_WIDTH}} {step['status']:<17}"
    if step.get("batch_id"):
        report = client.call("batch.show", {"batch_id": step["batch_id"]}).get("report") or {}
        line += (
            f" batch {step['batch_id']:<3} {step.get('batch_status') or '':<10} "
            f"{report.get('fulfilled_configs', '?')}/{report.get('total_configs', '?')} done"
        )
    elif step.get("note") or step.get("waiting_for"):
        line += f" {step.get('note') or step.get('waiting_for')}"
    return line.rstrip()


def _follow_plan(client: ControlClient, cycle: str, timeout: float = 600) -> list[int]:
    """Show each step as the daemon runs the plan; resubmit a FAILED step's failures (the
    operator's decision the plan asks for). Returns the steps' batch ids in plan order."""
    deadline = time.monotonic() + timeout
    shown: dict[str, str] = {}
    handled: set[int] = set()
    while time.monotonic() < deadline:
        plan = client.call("cycle.status", {"cycle": cycle})
        for step in plan["steps"]:
            if step["status"] == "WAITING" and not step.get("batch_id"):
                continue
            line = _progress(client, step)
            if shown.get(step["step"]) != line:
                say(line)
                shown[step["step"]] = line
            batch_id = step.get("batch_id")
            if step["status"] == "FAILED" and batch_id and batch_id not in handled:
                handled.add(batch_id)
                _resubmit_failures(client, int(batch_id))
        if plan["status"] == "COMPLETED":
            return [int(s["batch_id"]) for s in plan["steps"] if s.get("batch_id")]
        time.sleep(0.5)
    raise RuntimeError(f"the plan of cycle {cycle} did not complete within {timeout:g} s")


def _run_cycle(client: ControlClient, base_url: str) -> dict[int, dict[str, Any]]:
    cycle = f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
    client.call("cycle.create", {"name": cycle})
    content = base64.b64encode(sample_path().read_bytes()).decode()
    loaded = client.call(
        "config.load", {"cycle": cycle, "filename": sample_path().name, "content_b64": content}
    )
    say(f"cycle {cycle}: configuration {loaded['configuration_id']} loaded from "
        f"{sample_path().name}")
    # analyses are named after their Analysis Name, so the failure can be scripted up front
    _script_failure(base_url, DEMO_FAILING_ANALYSIS)
    say(f"  (the fake Moody's will fail analysis {DEMO_FAILING_ANALYSIS})")
    client.call("cycle.run", {"cycle": cycle, "by": "irpd demo"})
    say("cycle plan started (irpctl cycle run): the daemon creates and submits each step's "
        "batch once the step before it completed")
    outcomes: dict[int, dict[str, Any]] = {}
    for batch_id in _follow_plan(client, cycle):
        _settle(client, batch_id)
        outcomes[batch_id] = client.call("batch.recon", {"batch_id": batch_id})
    return outcomes


def _print_recon(outcomes: dict[int, dict[str, Any]]) -> bool:
    say("\nfinal reconciliation")
    all_completed = True
    lines = []
    for batch_id, recon in outcomes.items():
        summary = recon.get("recon_summary") or recon.get("summary") or {}
        status = recon.get("recon_result") or recon.get("status")
        all_completed &= status == "COMPLETED"
        counts = summary.get("job_status_counts") or {}
        shown = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()) if n)
        configs = f"{summary.get('fulfilled_configs')}/{summary.get('total_configs')}"
        jobs = f"jobs {summary.get('total_jobs')}:"
        lines.append((f"  batch {batch_id:<3} {status:<10} configs", configs, jobs, shown))
    # the columns line up whatever the counts' widths
    wide = (max((len(c) for _, c, _, _ in lines), default=0),
            max((len(j) for _, _, j, _ in lines), default=0))
    for head, configs, jobs, shown in lines:
        say(f"{head} {configs:<{wide[0]}}  {jobs:<{wide[1]}} {shown}")
    return all_completed


def _stop(proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


#: the demo's web account (an operator; its password is made for each run and printed once)
DEMO_USER = "demo"
LOOPBACK_HOSTS = ("localhost", "::1", "[::1]")


def is_loopback(listen: str) -> bool:
    """Whether ``host:port`` is reachable from this machine only."""
    host = listen.rpartition(":")[0] or listen
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def demo_accounts(workdir: Path) -> tuple[Path, str]:
    """An accounts file (mode 0600) with one operator, ``demo``, and a new random password:
    the file and the password."""
    password = secrets.token_urlsafe(12)
    path = workdir / "web-accounts.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(
            "# made by `irpd demo --web` for this demo run only\n"
            f'[users.{DEMO_USER}]\nrole = "operator"\n'
            f'password_hash = "{PasswordHasher().hash(password)}"\n'
        )
    return path, password


def _start_web(workdir: Path, listen: str) -> tuple[subprocess.Popen[bytes], str]:
    """``irpd web`` on the demo's embedded PostgreSQL, with a demo operator account (the
    password is returned); on loopback, anyone may also watch (viewer) without logging in.
    A demo only: docs/web.md says how to secure a real console."""
    accounts, password = demo_accounts(workdir)
    env = {
        **os.environ,
        "IRPD_STATE_DIR": str(workdir / "state"),
        "IRPD_WEB_LISTEN": listen,
        "IRPD_WEB_ACCOUNTS_FILE": str(accounts),
        "IRPD_WEB_ANONYMOUS_ROLE": "viewer" if is_loopback(listen) else "",
        "IRPD_LOGGING_FORMAT": "json",
    }
    env.pop("IRPD_DATABASE_DSN", None)
    log = (workdir / "web.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "irpd.cli.main", "web"], env=env, stdout=log, stderr=log
    )
    url = f"http://{listen}/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"irpd web exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc, password
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("irpd web did not answer within 60 s")


def web_banner(listen: str, password: str) -> str:
    """How into the demo's console: its URL and the demo account (printed once)."""
    watch = (
        "anyone on this machine may watch it without logging in; "
        if is_loopback(listen)
        else "log in to see it; "
    )
    return (
        f"web console: http://{listen}/  (open it to watch the cycle live)\n"
        f"  log in as {DEMO_USER} / {password}  to act (submit, resubmit, skip): a demo-only "
        f"operator account made for this run, printed once;\n  {watch}docs/web.md secures a "
        "real console"
    )


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _serve_until_interrupted(url: str) -> None:
    say(f"\nthe web console stays open at {url} — Ctrl-C to stop the demo")
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        say("stopping")


def _rehearsal(workdir: Path, socket_path: Path, pids: tuple[int, ...]) -> None:
    """What ``--keep`` leaves running and how to use and stop it."""
    irpctl = Path(sys.executable).with_name("irpctl")
    command = str(irpctl) if irpctl.exists() else "irpctl"
    say(
        "\nrehearsal: irpd and the fake Moody's keep running; in your shell:\n"
        f"export IRPD_CONTROL_SOCKET={socket_path}\n"
        f"then try any command, e.g. {command} status; {command} batch list\n"
        f"stop them with: kill {' '.join(map(str, pids))}   (state and logs in {workdir})"
    )


def run_demo(
    state_dir: str | None, time_scale: float | None, keep: bool, web: str | None = None
) -> int:
    """Run the demo; 0 when every batch of the sample cycle completed. With ``keep`` the
    daemon and the fake Moody's are left running afterwards (a rehearsal stack) and the line
    to export for ``irpctl`` is printed. With ``web`` (``host:port``) the web console runs
    beside them and its URL is printed; without ``keep`` the demo then stays up after the
    cycle until Ctrl-C (or SIGTERM)."""
    workdir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="irpd-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    scale = time_scale or 900.0
    say(f"irpd demo: working in {workdir} (fake Moody's time scale x{scale:g})")
    ok = False
    with ExitStack() as stack:
        fake, base_url = _start_fake(workdir, scale)
        stack.callback(_stop, fake)
        say(f"fake Moody's at {base_url}; starting irpd (embedded PostgreSQL)...")
        daemon, socket_path = _start_daemon(workdir, base_url)
        stack.callback(_stop, daemon)
        say(f"irpd ready on {socket_path}")
        console: subprocess.Popen[bytes] | None = None
        try:
            if web:
                console, password = _start_web(workdir, web)
                stack.callback(_stop, console)
                say(web_banner(web, password))
            with ControlClient(socket_path, timeout=60) as client:
                ok = _print_recon(_run_cycle(client, base_url))
                engine = client.call("status").get("engine", {})
                say(f"\nengine: {engine.get('submitted')} jobs submitted to Moody's, "
                    f"{engine.get('polled')} job statuses polled")
        except (DaemonRefused, DaemonUnreachable, RuntimeError) as exc:
            say(f"demo failed: {exc} (logs in {workdir})")
        say("cycle COMPLETED" if ok else f"cycle NOT completed; logs in {workdir}")
        if keep and daemon.poll() is None and fake.poll() is None:
            stack.pop_all()  # leave them running
            pids = (daemon.pid, fake.pid) + ((console.pid,) if console is not None else ())
            _rehearsal(workdir, socket_path, pids)
        elif console is not None and ok:
            _serve_until_interrupted(f"http://{web}/")
    if not keep and ok:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1
