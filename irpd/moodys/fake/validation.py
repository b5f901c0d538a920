"""Request-body rules of the RM submission endpoints, each broken rule a ``400`` with a code.

Codes that Moody's documents are used verbatim (``DS-003``, ``DS-507``, ``DS-511``,
``WORKFLOW-401``…``521``); the others are the fake's own, listed in docs/fake-moodys.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from irpd.moodys.fake.api_errors import bad_request

JOB_NAME = re.compile(r"^\w((?!--)[\w\s:-])*\w$")
EDM_NAME = re.compile(r"^[A-Za-z0-9_ -]+$")
LABEL = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{1,15}$")
DELIMITERS = frozenset({"TAB", "COMMA", "SEMICOLON"})
LAYER_TYPES = frozenset({"geocode", "hazard"})
WORKFLOW_KINDS = frozenset({"PortfolioWorkflow", "AccountWorkflow"})
KEYWORD_OPERATIONS = frozenset({"geohaz", "process", "group"})
CURRENCY_FIELDS = ("code", "scheme", "asOfDate", "vintage")
GLOBAL_SETTINGS_FIELDS = (
    "franchiseDeductible",
    "minLossThreshold",
    "treatConstructionOccupancyAsUnknown",
    "numMaxLossEvent",
)
MAX_EXPORT_ANALYSES = 50
MAX_NAME = 64


def is_number(raw: str) -> bool:
    """An id or count written in ASCII digits: ``str.isdigit`` alone also accepts ``²``,
    which ``int`` refuses (a 500 instead of the endpoint's 4xx)."""
    return raw.isascii() and raw.isdigit()


def parse_json(text: str) -> Any:
    """The body as JSON, or ``400 BODY-001``."""
    if not text.strip():
        raise bad_request("BODY-001", "The request body is empty; a JSON body is required.")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise bad_request("BODY-001", f"The request body is not valid JSON: {exc}") from exc


def require_object(body: Any, code: str = "BODY-002") -> dict[str, Any]:
    """The body must be a JSON object."""
    if not isinstance(body, dict):
        raise bad_request(code, "The request body must be a JSON object.")
    return body


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _required(body: Mapping[str, Any], key: str, code: str) -> str:
    value = _text(body, key)
    if value is None:
        raise bad_request(code, f"{key} is required.")
    return value


def _int_list(value: Any, key: str, code: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise bad_request(code, f"{key} must be a list of integer ids.")
    return value


def check_job_name(name: str, code: str, field: str = "jobName") -> str:
    """≤64 characters matching Moody's name pattern."""
    if len(name) > MAX_NAME or not JOB_NAME.match(name):
        raise bad_request(
            code,
            f"{field} {name!r} is invalid: at most {MAX_NAME} characters, letters, digits, "
            "underscores, spaces, ':' and '-' (no '--'), starting and ending with a letter, "
            "digit or underscore.",
        )
    return name


def check_edm_name(name: str) -> str:
    """Create-EDM name rules: required, ≤80 chars, ``[A-Za-z0-9_ -]``, no ``--``."""
    name = name.strip()
    if not name:
        raise bad_request("DS-003", "The database cannot be empty. Enter a valid database name.")
    if len(name) > 80 or not EDM_NAME.match(name) or "--" in name:
        raise bad_request(
            "DS-400",
            f"Invalid database name {name!r}: at most 80 characters from A-Z a-z 0-9 _ space -, "
            "without '--'.",
        )
    return name


def check_mri_import(raw: Any) -> dict[str, Any]:
    """Required ``bucketId``, ``dataSourceName``, ``delimiter`` (TAB/COMMA/SEMICOLON)."""
    body = require_object(raw)
    for key in ("bucketId", "dataSourceName", "delimiter"):
        _required(body, key, "IMPORT-001")
    if str(body["delimiter"]).upper() not in DELIMITERS:
        raise bad_request(
            "IMPORT-002",
            f"delimiter must be one of TAB, COMMA, SEMICOLON; got {body['delimiter']!r}.",
        )
    return body


def check_geohaz(body: Any) -> list[dict[str, Any]]:
    """A non-empty array of layers, each with ``name``, ``type``, ``engineType``, ``version``."""
    if not isinstance(body, list) or not body:
        raise bad_request("GEOHAZ-001", "The request body must be a non-empty array of layers.")
    for index, layer in enumerate(body):
        if not isinstance(layer, dict):
            raise bad_request("GEOHAZ-001", f"Layer {index} must be an object.")
        for key in ("name", "type", "engineType", "version"):
            if _text(layer, key) is None:
                raise bad_request("GEOHAZ-002", f"Layer {index}: {key} is required.")
        if layer["type"] not in LAYER_TYPES:
            raise bad_request(
                "GEOHAZ-003",
                f"Layer {index}: type must be geocode or hazard, got {layer['type']!r}.",
            )
    return body


def check_analysis(raw: Any) -> dict[str, Any]:
    """``edm``, a full ``currency``; optional ``jobName``, ``treaties``, global settings."""
    body = require_object(raw)
    _required(body, "edm", "ANALYSIS-001")
    currency = body.get("currency")
    if not isinstance(currency, dict):
        raise bad_request("ANALYSIS-002", "currency {code, scheme, asOfDate, vintage} is required.")
    missing = [key for key in CURRENCY_FIELDS if _text(currency, key) is None]
    if missing:
        raise bad_request("ANALYSIS-002", f"currency is missing {', '.join(missing)}.")
    if "jobName" in body:
        name = body["jobName"]
        if not isinstance(name, str):
            raise bad_request("ANALYSIS-003", "jobName must be a string.")
        check_job_name(name, "ANALYSIS-003")
    if "treaties" in body and body["treaties"] is not None:
        _int_list(body["treaties"], "treaties", "ANALYSIS-006")
    settings = body.get("globalAnalysisSettings")
    if settings is not None:
        if not isinstance(settings, dict) or any(k not in settings for k in GLOBAL_SETTINGS_FIELDS):
            raise bad_request(
                "ANALYSIS-004",
                "globalAnalysisSettings needs all of " + ", ".join(GLOBAL_SETTINGS_FIELDS) + ".",
            )
        events = settings["numMaxLossEvent"]
        if not isinstance(events, int) or isinstance(events, bool) or not 0 <= events <= 5000:
            raise bad_request("ANALYSIS-005", "numMaxLossEvent must be an integer 0..5000.")
    return body


def check_grouping(raw: Any) -> dict[str, Any]:
    """``name`` (≤64); ``analysisIds`` a list of ids when present."""
    body = require_object(raw)
    name = _required(body, "name", "GROUP-001")
    if len(name) > MAX_NAME:
        raise bad_request("GROUP-001", f"name must be at most {MAX_NAME} characters.")
    if body.get("analysisIds") is not None:
        _int_list(body["analysisIds"], "analysisIds", "GROUP-002")
    return body


def check_export(raw: Any) -> dict[str, Any]:
    """RDM export: ``exportType`` RDM, 1..50 ``analysisIds``, ``rdmName``."""
    body = require_object(raw)
    export_type = _required(body, "exportType", "EXPORT-001")
    if export_type != "RDM":
        raise bad_request("EXPORT-002", f"exportType {export_type!r} is not supported; use RDM.")
    ids = _int_list(body.get("analysisIds"), "analysisIds", "EXPORT-003")
    if not 1 <= len(ids) <= MAX_EXPORT_ANALYSES:
        raise bad_request(
            "EXPORT-003", f"analysisIds must hold 1 to {MAX_EXPORT_ANALYSES} ids, got {len(ids)}."
        )
    _required(body, "rdmName", "EXPORT-001")
    return body


def check_portfolio(raw: Any) -> dict[str, Any]:
    """Create-portfolio body: ``name`` required (≤64)."""
    body = require_object(raw)
    name = _required(body, "name", "PORTFOLIO-002")
    if len(name) > MAX_NAME:
        raise bad_request("PORTFOLIO-002", f"name must be at most {MAX_NAME} characters.")
    return body


def check_storage_path(raw: Any) -> dict[str, Any]:
    """Storage file registration: ``fileName`` required."""
    body = require_object(raw)
    _required(body, "fileName", "STORAGE-001")
    return body


def check_user_workflow(raw: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    """User-defined workflow rules; returns the body and the operation labels in order."""
    body = require_object(raw, "WORKFLOW-404")
    name = _text(body, "name")
    if name is None:
        raise bad_request("WORKFLOW-404", "Invalid batch API input: name is required.")
    check_job_name(name, "WORKFLOW-404", "name")
    operations = body.get("operations")
    if not isinstance(operations, list) or not operations:
        raise bad_request("WORKFLOW-401", "The workflow DAG should define at least one operation")
    labels = [_check_operation(index, op) for index, op in enumerate(operations)]
    if len(set(labels)) != len(labels):
        raise bad_request(
            "WORKFLOW-403",
            "Each label in the workflow should be unique identifying single operation",
        )
    uses_keyword = any(op["operation"] in KEYWORD_OPERATIONS for op in operations)
    kind = body.get("type")
    if uses_keyword and kind is None:
        raise bad_request(
            "WORKFLOW-521",
            'Sorry, we cannot process the input. The "type" parameter is required if any of the '
            'operations use the enum values of "process", "geohaz" or "group".',
        )
    if kind is not None and kind not in WORKFLOW_KINDS:
        raise bad_request("WORKFLOW-404", f"Invalid batch API input: type {kind!r}.")
    _check_dependencies(operations, labels)
    return body, tuple(labels)


def _check_operation(index: int, op: Any) -> str:
    if not isinstance(op, dict):
        raise bad_request("WORKFLOW-404", f"Invalid batch API input: operation {index}.")
    for key in ("label", "operation"):
        if not isinstance(op.get(key), str) or not op[key]:
            raise bad_request(
                "WORKFLOW-407",
                f"This workflow uses an invalid operation. Check that all operations has an {key} "
                "field",
            )
    if not LABEL.match(op["label"]):
        raise bad_request(
            "WORKFLOW-404",
            f"Invalid batch API input: label {op['label']!r} must be 2-16 characters "
            "[a-zA-Z][a-zA-Z0-9_]*.",
        )
    if op["operation"] not in KEYWORD_OPERATIONS and not op["operation"].startswith("/"):
        raise bad_request(
            "WORKFLOW-408",
            f"This workflow uses an invalid operation {op['operation']}. Valid operations are "
            "geohaz, process, group or a valid Risk Modeler API URL",
        )
    label: str = op["label"]
    return label


def _check_dependencies(operations: list[dict[str, Any]], labels: list[str]) -> None:
    known = set(labels)
    graph: dict[str, list[str]] = {}
    for op in operations:
        depends = op.get("dependsOn") or []
        if not isinstance(depends, list) or any(d not in known for d in depends):
            raise bad_request(
                "WORKFLOW-406",
                f"This workflow uses an invalid dependency labels {depends}. Check that all the "
                "'dependsOn' statements refer to valid labels",
            )
        graph[op["label"]] = depends
    if _has_cycle(graph):
        raise bad_request("WORKFLOW-402", "The workflow DAG should have no-cycles")


def _has_cycle(graph: Mapping[str, list[str]]) -> bool:
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        if state.get(node) == 1:
            return True
        if state.get(node) == 2:
            return False
        state[node] = 1
        if any(visit(dep) for dep in graph.get(node, [])):
            return True
        state[node] = 2
        return False

    return any(visit(node) for node in graph)


def platform_job_type(api: str, body: Mapping[str, Any]) -> str:
    """The job ``type`` a Platform create request makes (400 for a bad model type)."""
    if api == "model":
        kind = body.get("type")
        if kind not in ("DLM", "HD", "ALM"):
            raise bad_request("MODEL-001", f"type must be DLM, HD or ALM; got {kind!r}.")
        return str(kind)
    return PLATFORM_TYPES[api]


PLATFORM_TYPES: Mapping[str, str] = {
    "riskdata": "CREATE_EDM",
    "import": "MRI_IMPORT",
    "geohaz": "GEOHAZ",
    "grouping": "GROUPING",
    "export": "DOWNLOAD_RDM",
}


def platform_job_name(job_type: str, body: Mapping[str, Any]) -> str:
    """The name of a Platform job: ``settings.name``/``analysisName``, ``name``, or the type."""
    settings = body.get("settings")
    if isinstance(settings, dict):
        for key in ("name", "analysisName", "exposureName", "rdmName"):
            value = _text(settings, key)
            if value is not None:
                return value
    return _text(body, "name") or _text(body, "exposureName") or job_type
