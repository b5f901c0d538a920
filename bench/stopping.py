"""Stopping a process the benchmark started: a signal, a bounded wait, SIGKILL after it."""

from __future__ import annotations

import signal
import subprocess
from typing import Any


def stop_process(
    process: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout: float = 30.0
) -> int | None:
    """Send ``sig`` unless ``process`` has ended, wait up to ``timeout`` seconds, then
    SIGKILL and wait; its return code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
