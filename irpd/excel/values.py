"""Forgiving conversion of raw cell values to the JSON values of ``configuration_data``.

Accepted beyond the obvious (documented in docs/workbook.md):

* text: surrounding whitespace is trimmed; numbers become text (``1001`` -> ``"1001"``);
* whole numbers: integral floats (``5.0``) and text such as ``"1000"``, ``"1,000"``, ``"1000.00"``;
* percentages: plain numbers, text with or without ``%`` (``"12.5%"``), and cells with a %
  number format, whose stored fraction is scaled (0.125 shown as 12.5% -> 12.5);
* dates: Excel dates (a time part is dropped) and ISO 8601 text (``2025-01-31``, ``20250131``,
  ``2025-01-31 00:00``); day/month text such as ``01/02/2025`` is refused as ambiguous;
* flags: ``Y``/``N``/``Yes``/``No`` in any case, and TRUE/FALSE cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Final, TypeAlias

from irpd.excel.names import NO, YES
from irpd.excel.problems import Code
from irpd.excel.reader import CellError, CellValue, PercentNumber, UncachedFormula

Scalar: TypeAlias = bool | int | float | str | None
JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

_WHOLE_TEXT: Final = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0*)?")
_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_ISO_DATE_TEXT: Final = re.compile(r"\d{4}-?\d{2}-?\d{2}(?:[T ].*)?")
_FLAGS: Final = {"y": YES, "yes": YES, "n": NO, "no": NO}
UNCACHED_FORMULA_MESSAGE: Final = (
    "the formula has no saved value; recalculate and save the workbook in Excel"
)


class Kind(Enum):
    """What a column holds."""

    TEXT = "text"
    INTEGER = "non-negative whole number"
    PERCENT = "percentage 0-100"
    DATE = "date"
    FLAG = "Y/N flag"


@dataclass(frozen=True, slots=True)
class Coerced:
    """A converted value; ``code`` and ``message`` say what is wrong when it is invalid."""

    value: Scalar
    code: Code | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code is None


def is_blank(raw: CellValue) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def describe(raw: CellValue) -> str:
    """How a raw value reads in a problem message."""
    if isinstance(raw, datetime | date):
        return f"the date {json_value(raw)}"
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, PercentNumber):
        return f"{raw.fraction:.4g} (a % cell)"
    if isinstance(raw, str):
        return repr(raw.strip())
    return str(json_value(raw))


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def json_value(raw: CellValue) -> Scalar:
    """The JSON form of any raw value, as kept for extra columns and generic sheets."""
    if isinstance(raw, str):
        return raw.strip() or None
    if isinstance(raw, datetime | date | time | timedelta):
        return _temporal_json(raw)
    if isinstance(raw, PercentNumber):
        return raw.fraction
    if isinstance(raw, CellError):
        return raw.text
    return None if isinstance(raw, UncachedFormula) else raw


def _temporal_json(raw: datetime | date | time | timedelta) -> Scalar:
    if isinstance(raw, timedelta):
        return raw.total_seconds()
    if isinstance(raw, datetime) and raw.time() == time():
        return raw.date().isoformat()
    return raw.isoformat()


def coerce(kind: Kind, raw: CellValue) -> Coerced:
    """Convert a non-blank raw value to ``kind``."""
    if isinstance(raw, UncachedFormula):
        return Coerced(None, Code.TYPE_FORMULA, UNCACHED_FORMULA_MESSAGE)
    if isinstance(raw, CellError):
        return Coerced(raw.text, Code.TYPE_CELL_ERROR, f"the cell holds the error {raw.text}")
    return _COERCERS[kind](raw)


def _text(raw: CellValue) -> Coerced:
    if isinstance(raw, str):
        return Coerced(raw.strip())
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        number = _number(float(raw)) if isinstance(raw, float) else raw
        return Coerced(str(number))
    return Coerced(json_value(raw), Code.TYPE_TEXT, f"expected text, found {describe(raw)}")


def _integer(raw: CellValue) -> Coerced:
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and _WHOLE_TEXT.fullmatch(raw.strip()):
        value = int(raw.strip().split(".")[0].replace(",", ""))
    if value is None:
        return Coerced(
            json_value(raw), Code.TYPE_INTEGER, f"expected a whole number, found {describe(raw)}"
        )
    if value < 0:
        return Coerced(value, Code.RANGE_NEGATIVE, f"must not be negative, found {value}")
    return Coerced(value)


def _percent(raw: CellValue) -> Coerced:
    value: float | None = None
    if isinstance(raw, PercentNumber):
        value = round(raw.fraction * 100, 9)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip().removesuffix("%").strip()
        if _NUMBER_TEXT.fullmatch(text):
            value = float(text)
    if value is None:
        return Coerced(
            json_value(raw), Code.TYPE_NUMBER, f"expected a percentage, found {describe(raw)}"
        )
    number = _number(value)
    if not 0 <= number <= 100:
        return Coerced(number, Code.RANGE_PERCENT, f"must be within 0-100, found {number}")
    return Coerced(number)


def _date(raw: CellValue) -> Coerced:
    if isinstance(raw, datetime):
        return Coerced(raw.date().isoformat())
    if isinstance(raw, date):
        return Coerced(raw.isoformat())
    if isinstance(raw, str) and _ISO_DATE_TEXT.fullmatch(raw.strip()):
        try:
            return Coerced(datetime.fromisoformat(raw.strip()).date().isoformat())
        except ValueError:
            pass
    hint = "; format the cell as a date" if isinstance(raw, int | float) else ""
    return Coerced(
        json_value(raw),
        Code.TYPE_DATE,
        f"expected a date (an Excel date or YYYY-MM-DD), found {describe(raw)}{hint}",
    )


def _flag(raw: CellValue) -> Coerced:
    if isinstance(raw, bool):
        return Coerced(YES if raw else NO)
    if isinstance(raw, str) and raw.strip().casefold() in _FLAGS:
        return Coerced(_FLAGS[raw.strip().casefold()])
    return Coerced(json_value(raw), Code.FMT_FLAG, f"expected Y or N, found {describe(raw)}")


_COERCERS: Final = {
    Kind.TEXT: _text,
    Kind.INTEGER: _integer,
    Kind.PERCENT: _percent,
    Kind.DATE: _date,
    Kind.FLAG: _flag,
}
