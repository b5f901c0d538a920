"""Request builders, one per Moody's operation: pure functions to a :class:`RequestSpec`.

Inputs are a job configuration (snake_case keys, see the transformers) plus ids the client
resolved; nothing here does I/O. Missing or mistyped configuration keys raise
:class:`InvalidJobConfiguration` naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Final

from irpd.moodys.errors import InvalidJobConfiguration

RM: Final = "/riskmodeler"
DEFAULT_DELIMITER: Final = "TAB"
DEFAULT_CURRENCY: Final[Mapping[str, str]] = MappingProxyType(
    {"code": "USD", "scheme": "RMS", "vintage": "RL25"}
)
DEFAULT_HAZARD_LAYERS: Final = ("earthquake",)
JOB_NAME_PATTERN: Final = re.compile(r"^\w((?!--)[\w\s:-])*\w$")
MAX_JOB_NAME: Final = 64
_DATE_FORMATS: Final = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ].*"), "%Y-%m-%d"),
    (re.compile(r"\d{8}"), "%Y%m%d"),
    (re.compile(r"\d{6}"), "%Y%m"),
    (re.compile(r"\d{4}-\d{2}"), "%Y-%m"),
    (re.compile(r"\d{1,2}/\d{1,2}/\d{4}"), "%m/%d/%Y"),
)


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One HTTP request to make: method, path under the base URL, query, JSON body."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    body: Any = None


def text(config: Mapping[str, Any], key: str) -> str:
    """A required, non-blank string (numbers are accepted and rendered)."""
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidJobConfiguration(f"job configuration needs a text value for {key!r}")
    rendered = str(value).strip()
    if not rendered:
        raise InvalidJobConfiguration(f"job configuration value {key!r} is blank")
    return rendered


def optional_text(config: Mapping[str, Any], key: str) -> str | None:
    """A string value, or ``None`` when absent or blank."""
    value = config.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return text(config, key)


def names(config: Mapping[str, Any], key: str) -> list[str]:
    """A list of non-blank names (absent → empty; blanks and ``None`` dropped)."""
    value = config.get(key)
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidJobConfiguration(f"job configuration value {key!r} must be a list")
    return [str(item).strip() for item in value if item is not None and str(item).strip()]


def check_job_name(name: str) -> str:
    """Moody's ``jobName`` rule: ≤64 characters, ``^\\w((?!--)[\\w\\s:-])*\\w$``."""
    if len(name) > MAX_JOB_NAME or not JOB_NAME_PATTERN.match(name):
        raise InvalidJobConfiguration(f"workflow name {name!r} is not a valid Moody's job name")
    return name


def metadata(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The workbook Metadata carried by the job configuration (may be empty)."""
    value = config.get("metadata")
    return value if isinstance(value, Mapping) else {}


# --- EDM and portfolio -------------------------------------------------------------------


def create_edm(config: Mapping[str, Any]) -> RequestSpec:
    """Create EDM: ``POST /v2/datasources?datasourcename=…&operation=CREATE`` (202)."""
    params = {"datasourcename": text(config, "database"), "operation": "CREATE"}
    server = optional_text(config, "server_name")
    if server:
        params["servername"] = server
    return RequestSpec("POST", f"{RM}/v2/datasources", params, {"share": False, "groups": []})


def create_portfolio(config: Mapping[str, Any]) -> RequestSpec:
    """Create portfolio (synchronous): ``POST /v2/portfolios?datasource=<edm>`` (201)."""
    portfolio = text(config, "portfolio")
    number = optional_text(config, "portfolio_number") or portfolio
    import_file = optional_text(config, "import_file")
    description = f"irpd portfolio from {import_file}" if import_file else "irpd portfolio"
    body = {"name": portfolio, "number": number, "description": description}
    return RequestSpec(
        "POST", f"{RM}/v2/portfolios", {"datasource": text(config, "database")}, body
    )


def portfolio_search(database: str, portfolio: str) -> RequestSpec:
    """Find a portfolio by name in an EDM."""
    params = {"datasource": database, "q": f'name="{_quoted(portfolio)}"'}
    return RequestSpec("GET", f"{RM}/v2/portfolios", params)


def treaty_search(database: str, treaty: str) -> RequestSpec:
    """Find a treaty by name in an EDM."""
    params = {"datasource": database, "q": f'name="{_quoted(treaty)}"'}
    return RequestSpec("GET", f"{RM}/v1/treaties", params)


def result_search(name: str) -> RequestSpec:
    """Find an analysis or an analysis group (a result) by name."""
    return RequestSpec("GET", f"{RM}/v2/analyses", {"q": f'name="{_quoted(name)}"'})


# --- MRI import --------------------------------------------------------------------------


def create_storage_bucket() -> RequestSpec:
    """Staging area for import files: ``POST /v1/storage`` (201, Location …/storage/{id})."""
    return RequestSpec("POST", f"{RM}/v1/storage")


def register_storage_file(
    bucket_id: str, *, file_name: str, file_type: str, file_size: int
) -> RequestSpec:
    """Announce one file: ``POST /v1/storage/{bucketId}/path`` (201 + upload credentials)."""
    body = {
        "fileName": file_name,
        "fileType": file_type,
        "fileSize": file_size,
        "fileInputType": "MRI",
    }
    return RequestSpec("POST", f"{RM}/v1/storage/{bucket_id}/path", None, body)


def mri_import(
    config: Mapping[str, Any],
    *,
    portfolio_id: int,
    bucket_id: str,
    accounts_file_id: str,
    locations_file_id: str,
) -> RequestSpec:
    """MRI import of staged account and location files into a portfolio (202)."""
    body: dict[str, Any] = {
        "bucketId": _int_or_text(bucket_id),
        "dataSourceName": text(config, "database"),
        "accountsFileId": _int_or_text(accounts_file_id),
        "locationsFileId": _int_or_text(locations_file_id),
        "delimiter": (optional_text(config, "delimiter") or DEFAULT_DELIMITER).upper(),
        "importType": "MRI",
        "skipLines": 1,
        "portfolioId": portfolio_id,
        "appendLocations": False,
    }
    currency = optional_text(config, "currency")
    if currency:
        body["currency"] = currency
    return RequestSpec("POST", f"{RM}/v1/imports", None, body)


# --- geohaz, analysis, grouping, export ----------------------------------------------------


def geohaz(config: Mapping[str, Any], *, portfolio_id: int) -> RequestSpec:
    """Geocode + hazard layers on a portfolio: ``POST /v2/portfolios/{id}/geohaz`` (202)."""
    layers: list[dict[str, Any]] = [
        {
            "name": "geocode",
            "type": "geocode",
            "engineType": "RL",
            "version": text(config, "geocode_version"),
            "layerOptions": {"skipPrevGeocoded": False, "aggregateTriggerEnabled": True},
        }
    ]
    hazard_version = text(config, "hazard_version")
    for layer in names(config, "hazard_layers") or DEFAULT_HAZARD_LAYERS:
        layers.append(
            {
                "name": layer,
                "type": "hazard",
                "engineType": "RL",
                "version": hazard_version,
                "layerOptions": {"skipPrevHazard": False, "overrideUserDef": False},
            }
        )
    path = f"{RM}/v2/portfolios/{portfolio_id}/geohaz"
    return RequestSpec("POST", path, {"datasource": text(config, "database")}, layers)


@dataclass(frozen=True, slots=True)
class AnalysisIds:
    """Everything an analysis submission resolved by name."""

    portfolio_id: int
    model_profile_id: int
    output_profile_id: int
    event_rate_scheme_id: int | None
    treaty_ids: tuple[int, ...] = ()


def analysis(config: Mapping[str, Any], *, job_name: str, ids: AnalysisIds) -> RequestSpec:
    """Portfolio analysis: ``POST /v2/portfolios/{id}/process`` (202, ``ANALYTICS_JOB``)."""
    body: dict[str, Any] = {
        "id": ids.portfolio_id,
        "edm": text(config, "database"),
        "exposureType": "PORTFOLIO",
        "currency": analysis_currency(config),
        "modelProfileId": ids.model_profile_id,
        "outputProfileId": ids.output_profile_id,
        "treaties": list(ids.treaty_ids),
        "jobName": check_job_name(job_name),
    }
    if ids.event_rate_scheme_id is not None:
        body["eventRateSchemeId"] = ids.event_rate_scheme_id
    path = f"{RM}/v2/portfolios/{ids.portfolio_id}/process"
    return RequestSpec("POST", path, None, body)


def analysis_currency(config: Mapping[str, Any]) -> dict[str, str]:
    """The four-field currency of an analysis or group (code, scheme, vintage, asOfDate).

    A mapping in ``currency`` is used as given (defaults fill gaps); a string is the code.
    ``asOfDate`` defaults to the Metadata "Current Date Value" when it reads as a date.
    """
    value = config.get("currency")
    currency = dict(DEFAULT_CURRENCY)
    if isinstance(value, Mapping):
        currency.update({str(k): str(v) for k, v in value.items() if v is not None})
    elif isinstance(value, str) and value.strip():
        currency["code"] = value.strip().upper()
    if "asOfDate" not in currency:
        as_of = _as_date(metadata(config).get("Current Date Value"))
        currency["asOfDate"] = (as_of or date(2025, 1, 1)).isoformat()
    return currency


def grouping(config: Mapping[str, Any], *, analysis_ids: Sequence[int]) -> RequestSpec:
    """Analysis group: ``POST /v2/analysis-groups`` (201 + Location of a workflow)."""
    body = {
        "name": check_job_name(text(config, "group_name")),
        "description": "irpd analysis group",
        "analysisIds": list(analysis_ids),
        "currency": analysis_currency(config),
        "propagateDetailedLosses": False,
    }
    return RequestSpec("POST", f"{RM}/v2/analysis-groups", None, body)


def export_to_rdm(config: Mapping[str, Any], *, analysis_ids: Sequence[int]) -> RequestSpec:
    """Results export to an RDM: ``POST /v2/exports`` (202). The seed job creates the RDM."""
    seed = config.get("seed")
    if not isinstance(seed, bool):
        raise InvalidJobConfiguration("job configuration needs a boolean 'seed'")
    body = {
        "type": "ResultsExportInputV2",
        "exportType": "RDM",
        "analysisIds": list(analysis_ids),
        "rdmName": text(config, "rdm_name"),
        "createnew": seed,
        "exportFormat": "BAK",
        "sqlVersion": "2019",
    }
    return RequestSpec("POST", f"{RM}/v2/exports", None, body)


def generic_workflow(config: Mapping[str, Any], *, workflow_name: str) -> RequestSpec:
    """A user-defined workflow with one ``process`` operation whose input is the config."""
    operation = {"label": "job", "operation": "process", "input": dict(config)}
    body = {
        "name": check_job_name(workflow_name),
        "type": "PortfolioWorkflow",
        "operations": [operation],
    }
    return RequestSpec("POST", f"{RM}/v1/workflows", None, body)


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


def _int_or_text(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str | int):
        return None
    raw = str(value).strip()
    for shape, pattern in _DATE_FORMATS:
        if shape.fullmatch(raw):
            try:
                return datetime.strptime(raw[:10], pattern).date()
            except ValueError:
                return None
    return None
