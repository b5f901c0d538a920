"""ok_chunks: a long answer in pieces whose concatenation is exactly ok()."""

from __future__ import annotations

import json

from irpd.control import protocol


def test_small_answers_are_one_piece() -> None:
    result = {"jobs": [{"id": 1}], "next": None}
    assert list(protocol.ok_chunks(3, result)) == [protocol.ok(3, result)]
    assert list(protocol.ok_chunks(3, [1, 2])) == [protocol.ok(3, [1, 2])]


def test_long_lists_are_split_and_equal_the_whole() -> None:
    rows = [{"id": i, "status": "QUEUED", "note": "é\n\"x\""} for i in range(1, 1002)]
    result = {"before": {"a": 1}, "jobs": rows, "next": "1001", "empty": []}
    pieces = list(protocol.ok_chunks("r", result, rows=100))
    assert len(pieces) > 10
    assert max(len(p) for p in pieces) < 100 * 60
    whole = b"".join(pieces)
    assert whole == protocol.ok("r", result)
    assert json.loads(whole)["result"]["jobs"][-1]["id"] == 1001
