"""A long answer (a full page of rows) is written in pieces and arrives whole, and the
connection goes on serving after it."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from irpd.control.handlers import translate_error
from irpd.control.peers import PeerPolicy
from irpd.control.protocol import COMMANDS
from irpd.control.server import ControlServer, Handler

ROWS = [{"id": i, "status": "QUEUED", "text": "x" * 40} for i in range(1, 5001)]


async def _page(_args: dict[str, Any]) -> Any:
    return {"jobs": ROWS, "next": "5000"}


async def _pong(_args: dict[str, Any]) -> Any:
    return {"pong": True}


async def test_a_page_of_5000_rows_arrives_whole() -> None:
    folder = Path(tempfile.mkdtemp(prefix="irpd-ctl-", dir="/tmp"))
    handlers: dict[str, Handler] = dict.fromkeys(COMMANDS, _pong)
    handlers["batch.jobs"] = _page
    server = ControlServer(
        folder / "s.sock", handlers, policy=PeerPolicy(), translate_error=translate_error
    )
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(folder / "s.sock"), limit=2**24)
        for rid, command in ((1, "batch.jobs"), (2, "ping")):
            request = {"v": 1, "id": rid, "command": command, "args": {"batch_id": 1}}
            if command == "ping":
                request["args"] = {}
            writer.write(json.dumps(request).encode() + b"\n")
        first = json.loads(await asyncio.wait_for(reader.readline(), 30))
        second = json.loads(await asyncio.wait_for(reader.readline(), 30))
        assert first["id"] == 1
        assert first["result"] == {"jobs": ROWS, "next": "5000"}
        assert second == {"v": 1, "id": 2, "ok": True, "result": {"pong": True}}
        writer.close()
    finally:
        await server.stop()
        shutil.rmtree(folder, ignore_errors=True)
