"""The analysis batch type: one portfolio analysis per Analysis Table row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from irpd.excel import names as n
from irpd.transformers.access import JobConfig, job, metadata, required_text, sheet_rows, texts

DEFAULT_CURRENCY: Final = "USD"


def _treaty_currencies(configuration_data: Mapping[str, Any]) -> dict[str, str]:
    rows = sheet_rows(configuration_data, n.TREATIES, "analysis", optional=True)
    found: dict[str, str] = {}
    for row in rows:
        name, currency = texts(row, (n.TREATY_NAME,)), texts(row, (n.CURRENCY,))
        if name and currency:
            found.setdefault(name[0], currency[0].upper())
    return found


def analysis_currencies(configuration_data: Mapping[str, Any]) -> dict[str, str]:
    """Analysis name -> currency: its first treaty's, else Metadata "Currency", else USD."""
    meta = configuration_data.get(n.METADATA)
    meta_currency = texts(meta, (n.CURRENCY_KEY,)) if isinstance(meta, Mapping) else []
    fallback = meta_currency[0].upper() if meta_currency else DEFAULT_CURRENCY
    treaty_currency = _treaty_currencies(configuration_data)
    currencies: dict[str, str] = {}
    for row in sheet_rows(configuration_data, n.ANALYSES, "analysis", optional=True):
        name = texts(row, (n.ANALYSIS_NAME,))
        if not name:
            continue
        known = [treaty_currency[t] for t in texts(row, n.TREATY_COLUMNS) if t in treaty_currency]
        currencies.setdefault(name[0], known[0] if known else fallback)
    return currencies


def analysis(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per Analysis Table row: a portfolio analysis with its treaties and tags."""
    meta = metadata(configuration_data, "analysis")
    rows = sheet_rows(configuration_data, n.ANALYSES, "analysis")
    currencies = analysis_currencies(configuration_data)
    jobs: list[JobConfig] = []
    for index, row in enumerate(rows):
        where = f"{n.ANALYSES} row {index + 1}"
        name = required_text(row, n.ANALYSIS_NAME, where)
        event_rate = texts(row, (n.EVENT_RATE,))
        jobs.append(
            job(
                "analysis",
                name,
                meta,
                database=required_text(row, n.DATABASE, where),
                portfolio=required_text(row, n.PORTFOLIO, where),
                analysis_name=name,
                analysis_profile=required_text(row, n.ANALYSIS_PROFILE, where),
                output_profile=required_text(row, n.OUTPUT_PROFILE, where),
                event_rate=event_rate[0] if event_rate else None,
                treaties=texts(row, n.TREATY_COLUMNS),
                tags=texts(row, n.TAG_COLUMNS),
                currency=currencies.get(name, DEFAULT_CURRENCY),
            )
        )
    return jobs
