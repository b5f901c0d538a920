"""A small blocking client for the control socket (used by ``irpctl``, the demo and tests)."""

from __future__ import annotations

import itertools
import json
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from irpd.control import protocol


class DaemonUnreachable(Exception):
    """The daemon did not answer: no socket, connection refused, or a time-out."""


class DaemonRefused(Exception):
    """The daemon answered with an error ``{type, message}``."""

    def __init__(self, kind: str, message: str, details: Any = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.details = details


def not_serving(exc: DaemonUnreachable | DaemonRefused) -> bool:
    """The daemon is gone or still starting (``NotReady``: bound, waiting for the database):
    nothing ran, and asking again later may work."""
    return isinstance(exc, DaemonUnreachable) or exc.kind == "NotReady"


class ControlClient:
    """One connection to the daemon; send commands, get results or :class:`DaemonRefused`."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._file: Any = None
        self._ids = itertools.count(1)

    def __enter__(self) -> ControlClient:
        self.connect()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def connect(self) -> None:
        """Open the connection."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.path))
        except (
            FileNotFoundError,
            ConnectionRefusedError,
            PermissionError,
            TimeoutError,
            OSError,
        ) as exc:
            sock.close()
            raise DaemonUnreachable(f"cannot reach irpd at {self.path}: {exc}") from None
        self._sock = sock
        self._file = sock.makefile("rb")

    def close(self) -> None:
        """Close the connection."""
        if self._file is not None:
            self._file.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._file = None

    def call(self, command: str, args: Mapping[str, Any] | None = None) -> Any:
        """Send one command and return its result."""
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        request_id = next(self._ids)
        try:
            self._sock.sendall(protocol.request_line(command, args or {}, request_id))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon refused us (PermissionDenied, Busy) and hung up: read why below
        except (TimeoutError, OSError) as exc:
            self.close()
            raise DaemonUnreachable(f"no answer from irpd at {self.path}: {exc}") from None
        try:
            line = self._file.readline()
        except (TimeoutError, OSError) as exc:
            self.close()
            raise DaemonUnreachable(f"no answer from irpd at {self.path}: {exc}") from None
        if not line:
            self.close()
            raise DaemonUnreachable(f"irpd at {self.path} closed the connection")
        response = json.loads(line)
        if response.get("ok"):
            return response.get("result")
        error = response.get("error") or {}
        raise DaemonRefused(
            str(error.get("type", "Error")), str(error.get("message", "")), error.get("details")
        )
