"""``to_dataframe``: rows as a pandas DataFrame, for notebook users (pandas is an extra:
``pip install 'irpd[pandas]'``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def to_dataframe(rows: Iterable[Mapping[str, Any]]) -> Any:
    """A ``pandas.DataFrame`` of ``rows`` (timestamps parsed); ImportError says how to get
    pandas when it is missing."""
    try:
        import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError as exc:
        raise ImportError("to_dataframe needs pandas: pip install 'irpd[pandas]'") from exc
    frame = pd.DataFrame([dict(r) for r in rows])
    for column in frame.columns:
        if str(column).endswith("_ts"):
            frame[column] = pd.to_datetime(frame[column], utc=True, errors="coerce")
    return frame
