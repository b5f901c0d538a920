"""The web console as a real ``irpd web`` subprocess next to a test's daemon, with two
built-in accounts (operator ``olga``, viewer ``victor``) and an operator API token."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from irpd.web.auth import hash_password, token_digest
from tests.processes import HarnessError, clean_environment, eventually

PASSWORD = "correct horse battery"
TOKEN = "e2e-operator-token"
VIEWER_TOKEN = "e2e-viewer-token"


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_accounts(path: Path) -> Path:
    """An accounts file with olga (operator), victor (viewer) and two API tokens."""
    hashed = hash_password(PASSWORD)
    path.write_text(
        f'[users.olga]\nrole = "operator"\npassword_hash = "{hashed}"\n\n'
        f'[users.victor]\nrole = "viewer"\npassword_hash = "{hashed}"\n\n'
        f'[tokens.notebook]\nrole = "operator"\ntoken_sha256 = "{token_digest(TOKEN)}"\n\n'
        f'[tokens.dashboard]\nrole = "viewer"\ntoken_sha256 = "{token_digest(VIEWER_TOKEN)}"\n',
        encoding="utf-8",
    )
    return path


class WebConsole:
    """One ``irpd web`` subprocess; its output goes to ``web.log`` in the workdir."""

    def __init__(self, db_dsn: str, workdir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "web.log"
        accounts = write_accounts(workdir / "accounts.toml")
        environment = clean_environment(
            IRPD_DATABASE_DSN=db_dsn,
            IRPD_STATE_DIR=str(workdir / "web-state"),
            IRPD_WEB_LISTEN=f"127.0.0.1:{self.port}",
            IRPD_WEB_ACCOUNTS_FILE=str(accounts),
            IRPD_LOGGING_FORMAT="json",
            **env,
        )
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "irpd.cli.main", "web"],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        def ready() -> bool | None:
            if self.proc.poll() is not None:
                raise HarnessError(f"irpd web exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer:
                    return True if answer.status == 200 else None
            except OSError:
                return None

        eventually(ready, "irpd web to answer /healthz", 60.0)

    def api(
        self, method: str, path: str, body: Any = None, token: str | None = TOKEN
    ) -> tuple[int, Any]:
        """``(status, json)`` of an API call with an API token."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/api/v1{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def log(self) -> str:
        """The process's output."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int:
        """SIGTERM; the console must exit 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise HarnessError(f"irpd web did not stop on SIGTERM:\n{self.log()}") from None
