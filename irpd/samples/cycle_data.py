"""The sample cycle's content, as frozen rows (first row of a table = its header).

A small but realistic quarterly US cycle: two EDMs (flood and earthquake), a base portfolio
per EDM plus commercial/residential sub-portfolios, six treaties, ten analyses, three
groupings and one roll-up of groups.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from irpd.excel import names as n

USFL: Final = "RM_EDM_202503_USFL"
USEQ: Final = "RM_EDM_202503_USEQ"

DLM_FLOOD: Final = "DLM CBHU v23 USFL"
HD_FLOOD: Final = "NA Inland Flood HD v2.1 USFL"
DLM_QUAKE: Final = "DLM EQ v23 USEQ"
PATCHED: Final = "Patched Portfolio Level Only (EP, ELT, Stats)"
LOCATION_LEVEL: Final = "Portfolio and Location Level (EP, ELT, Stats)"
STOCHASTIC: Final = "RMS 2023 Stochastic Event Rates"
LONG_TERM: Final = "RMS 2023 Long Term Event Rates"

#: the analysis the demo scripts the fake Moody's server to fail (the 3rd analysis row)
DEMO_FAILING_ANALYSIS: Final = "USFL_Residential_DLM"

Rows = tuple[tuple[object, ...], ...]

METADATA: Final[Rows] = (
    (n.CURRENT_DATE_VALUE, date(2025, 3, 31)),
    (n.EDM_DATA_VERSION, "23"),
    (n.GEOCODE_VERSION, "22.0.1"),
    (n.HAZARD_VERSION, "22.0"),
    (n.DLM_MODEL_VERSION, "23"),
    (n.VALIDATE_DLM_VERSIONS, "Y"),
    (n.WILDFIRE_HD_VERSION, "2.0"),
    (n.SCS_HD_VERSION, "2.0"),
    (n.INLAND_FLOOD_HD_VERSION, "2.1"),
    (n.VALIDATE_HD_VERSIONS, "N"),
    (n.EXPORT_RDM_NAME, "RM_RDM_202503_US"),
    (n.CYCLE_TYPE, "Quarterly"),
)

DATABASES: Final[Rows] = (
    (n.DATABASE, n.STORE_IN_DATA_BRIDGE),
    (USFL, "Y"),
    (USEQ, "N"),
)

PORTFOLIOS: Final[Rows] = (
    (n.PORTFOLIO, n.DATABASE, n.IMPORT_FILE, n.BASE_PORTFOLIO),
    ("USFL_Base", USFL, "USFL_Base", "Y"),
    ("USFL_Commercial", USFL, None, "N"),
    ("USFL_Residential", USFL, None, "N"),
    ("USEQ_Base", USEQ, "USEQ_Base", "Y"),
    ("USEQ_Commercial", USEQ, None, "N"),
    ("USEQ_Residential", USEQ, None, "N"),
)

_TREATY_HEADER: Final = (
    n.TREATY_NAME,
    n.TREATY_NUMBER,
    n.TREATY_TYPE,
    n.PER_RISK_LIMIT,
    n.OCCURRENCE_LIMIT,
    n.ATTACHMENT_POINT,
    n.INCEPTION_DATE,
    n.EXPIRATION_DATE,
    n.CURRENCY,
    n.ATTACHMENT_BASIS,
    n.EXPOSURE_LEVEL,
    n.PCT_COVERED,
    n.PCT_PLACE,
    n.PCT_SHARE,
    n.PCT_RETENTION,
    n.PREMIUM,
    n.REINSTATEMENTS,
    n.PCT_REINSTATEMENT_CHARGE,
    n.AGGREGATE_LIMIT,
    n.AGGREGATE_DEDUCTIBLE,
    n.INURING_PRIORITY,
    n.PRODUCER,
    n.TAGS,
)
_START: Final = date(2025, 1, 1)
_END: Final = date(2026, 1, 1)
_WX: Final = n.WORKING_EXCESS
_QS: Final = n.QUOTA_SHARE
_LOD: Final = "Losses Occurring"
_RA: Final = "Risks Attaching"

TREATIES: Final[Rows] = (
    _TREATY_HEADER,
    (
        "USFL_Commercial_WX_2025",
        "TR-2025-001",
        _WX,
        5_000_000,
        10_000_000,
        1_000_000,
        _START,
        _END,
        "USD",
        _LOD,
        "Policy",
        100,
        100,
        100,
        0,
        750_000,
        1,
        100,
        20_000_000,
        0,
        1,
        "Aon",
        "flood;commercial",
    ),
    (
        "USFL_Residential_QS_2025",
        "TR-2025-002",
        _QS,
        2_000_000,
        50_000_000,
        0,
        _START,
        _END,
        "USD",
        _RA,
        "Portfolio",
        100,
        95,
        30,
        70,
        4_200_000,
        0,
        0,
        50_000_000,
        0,
        1,
        "Guy Carpenter",
        "flood;residential",
    ),
    (
        "USEQ_Cat_XL_L1_2025",
        "TR-2025-003",
        _WX,
        25_000_000,
        25_000_000,
        25_000_000,
        _START,
        _END,
        "USD",
        _LOD,
        "Portfolio",
        100,
        100,
        100,
        0,
        3_100_000,
        1,
        100,
        50_000_000,
        0,
        2,
        "Aon",
        "quake;cat",
    ),
    (
        "USEQ_Cat_XL_L2_2025",
        "TR-2025-004",
        _WX,
        50_000_000,
        50_000_000,
        50_000_000,
        _START,
        _END,
        "USD",
        _LOD,
        "Portfolio",
        100,
        100,
        100,
        0,
        2_400_000,
        1,
        100,
        100_000_000,
        0,
        3,
        "Aon",
        "quake;cat",
    ),
    (
        "USEQ_Property_QS_2025",
        "TR-2025-005",
        _QS,
        10_000_000,
        100_000_000,
        0,
        _START,
        _END,
        "USD",
        _RA,
        "Portfolio",
        100,
        100,
        25,
        75,
        8_750_000,
        0,
        0,
        100_000_000,
        0,
        1,
        "Willis Re",
        "quake;property",
    ),
    (
        "US_Corporate_Cat_2025",
        "TR-2025-006",
        _WX,
        100_000_000,
        100_000_000,
        150_000_000,
        _START,
        _END,
        "USD",
        _LOD,
        "Portfolio",
        100,
        90,
        100,
        0,
        5_500_000,
        1,
        100,
        200_000_000,
        0,
        4,
        None,
        None,
    ),
)

GEOHAZ_THRESHOLDS: Final[Rows] = (
    (n.GEOCODE_LEVEL, n.IMPORT_FILE, n.PCT_OF_GRAND_TOTAL, n.THRESHOLD_PCT),
    ("Coordinate", "USFL_Base", 78.5, 75),
    ("Street", "USFL_Base", 12, 10),
    ("Postcode", "USFL_Base", 6.5, 10),
    ("Coordinate", "USEQ_Base", 82, 75),
    ("Street", "USEQ_Base", 9.5, 10),
)

_NO_TREATIES: Final = (None,) * 5


def _analysis(
    database: str,
    portfolio: str,
    name: str,
    profiles: tuple[str, str, str | None],
    treaties: tuple[str, ...],
    tags: tuple[str, ...],
) -> tuple[object, ...]:
    padded_treaties = (*treaties, *_NO_TREATIES)[:5]
    padded_tags = (*tags, *(None,) * 5)[:5]
    return (database, portfolio, name, *profiles, *padded_treaties, *padded_tags)


_FLOOD_DLM: Final = (DLM_FLOOD, PATCHED, STOCHASTIC)
_FLOOD_HD: Final = (HD_FLOOD, PATCHED, None)
_QUAKE_DLM: Final = (DLM_QUAKE, PATCHED, STOCHASTIC)

ANALYSES: Final[Rows] = (
    (
        n.DATABASE,
        n.PORTFOLIO,
        n.ANALYSIS_NAME,
        n.ANALYSIS_PROFILE,
        n.OUTPUT_PROFILE,
        n.EVENT_RATE,
        *n.TREATY_COLUMNS,
        *n.TAG_COLUMNS,
    ),
    _analysis(USFL, "USFL_Base", "USFL_Base_DLM", _FLOOD_DLM, (), ("USFL", "Base", "DLM")),
    _analysis(
        USFL,
        "USFL_Commercial",
        "USFL_Commercial_DLM",
        _FLOOD_DLM,
        ("USFL_Commercial_WX_2025",),
        ("USFL", "Commercial", "DLM"),
    ),
    _analysis(
        USFL,
        "USFL_Residential",
        DEMO_FAILING_ANALYSIS,
        _FLOOD_DLM,
        ("USFL_Residential_QS_2025",),
        ("USFL", "Residential", "DLM"),
    ),
    _analysis(USFL, "USFL_Base", "USFL_Base_HD", _FLOOD_HD, (), ("USFL", "Base", "HD")),
    _analysis(
        USFL,
        "USFL_Commercial",
        "USFL_Commercial_HD",
        _FLOOD_HD,
        ("USFL_Commercial_WX_2025", "US_Corporate_Cat_2025"),
        ("USFL", "Commercial", "HD"),
    ),
    _analysis(USEQ, "USEQ_Base", "USEQ_Base_DLM", _QUAKE_DLM, (), ("USEQ", "Base")),
    _analysis(
        USEQ,
        "USEQ_Commercial",
        "USEQ_Commercial_DLM",
        _QUAKE_DLM,
        ("USEQ_Cat_XL_L1_2025", "USEQ_Cat_XL_L2_2025"),
        ("USEQ", "Commercial"),
    ),
    _analysis(
        USEQ,
        "USEQ_Residential",
        "USEQ_Residential_DLM",
        _QUAKE_DLM,
        ("USEQ_Property_QS_2025",),
        ("USEQ", "Residential"),
    ),
    _analysis(
        USEQ,
        "USEQ_Base",
        "USEQ_Base_DLM_LTR",
        (DLM_QUAKE, LOCATION_LEVEL, LONG_TERM),
        (),
        ("USEQ", "Base", "Long Term"),
    ),
    _analysis(
        USEQ,
        "USEQ_Commercial",
        "USEQ_Commercial_DLM_Net",
        _QUAKE_DLM,
        ("USEQ_Cat_XL_L1_2025", "USEQ_Cat_XL_L2_2025", "US_Corporate_Cat_2025"),
        ("USEQ", "Commercial", "Net"),
    ),
)

GROUPINGS: Final[Rows] = (
    (n.GROUP_NAME, "Item 1", "Item 2", "Item 3"),
    ("USFL_DLM_Group", "USFL_Base_DLM", "USFL_Commercial_DLM", DEMO_FAILING_ANALYSIS),
    ("USFL_HD_Group", "USFL_Base_HD", "USFL_Commercial_HD", None),
    ("USEQ_DLM_Group", "USEQ_Base_DLM", "USEQ_Commercial_DLM", "USEQ_Residential_DLM"),
    ("US_All_Perils", "USFL_DLM_Group", "USFL_HD_Group", "USEQ_DLM_Group"),
)

PRODUCTS_PERILS: Final[Rows] = (
    (n.ANALYSIS_NAME, n.PERIL, n.PRODUCT_GROUP),
    ("USFL_Base_DLM", "Inland Flood", "All Lines"),
    ("USFL_Commercial_DLM", "Inland Flood", "Commercial"),
    (DEMO_FAILING_ANALYSIS, "Inland Flood", "Residential"),
    ("USFL_Base_HD", "Inland Flood", "All Lines"),
    ("USFL_Commercial_HD", "Inland Flood", "Commercial"),
    ("USEQ_Base_DLM", "Earthquake", "All Lines"),
    ("USEQ_Commercial_DLM", "Earthquake", "Commercial"),
    ("USEQ_Residential_DLM", "Earthquake", "Residential"),
    ("USEQ_Base_DLM_LTR", "Earthquake", "All Lines"),
    ("USEQ_Commercial_DLM_Net", "Earthquake", "Commercial"),
    ("US_All_Perils", "All Perils", "All Lines"),
)

REFERENCE_DATA: Final[Rows] = (
    (n.MODEL_PROFILES, n.OUTPUT_PROFILES, n.EVENT_RATE_SCHEMES),
    (DLM_FLOOD, PATCHED, STOCHASTIC),
    (HD_FLOOD, LOCATION_LEVEL, LONG_TERM),
    (DLM_QUAKE, None, "RMS 2023 Warm SST Conditioned Event Rates"),
    ("DLM CBHU v23 USWS", None, None),
)

READ_ME: Final[Rows] = (
    ("irpd sample cycle workbook",),
    ("Generated by python -m irpd.samples.build; extra sheets like this one are ignored.",),
)

#: every sheet of the sample cycle workbook, in tab order
SAMPLE_CYCLE: Final = (
    (n.METADATA, METADATA),
    (n.DATABASES, DATABASES),
    (n.PORTFOLIOS, PORTFOLIOS),
    (n.TREATIES, TREATIES),
    (n.GEOHAZ_THRESHOLDS, GEOHAZ_THRESHOLDS),
    (n.ANALYSES, ANALYSES),
    (n.GROUPINGS, GROUPINGS),
    (n.PRODUCTS_PERILS, PRODUCTS_PERILS),
    (n.REFERENCE_DATA, REFERENCE_DATA),
    ("Read Me", READ_ME),
)

GENERIC_JOBS: Final = (
    (
        "jobs",
        (
            ("job_key", "operation", "target", "priority", "notes"),
            ("refresh-usfl", "refresh", USFL, 1, "nightly refresh"),
            ("refresh-useq", "refresh", USEQ, 1, None),
            ("validate-usfl", "validate", USFL, 2, None),
            ("validate-useq", "validate", USEQ, 2, None),
            ("archive-2024q4", "archive", "RM_EDM_202412_US", 3, "after sign-off"),
        ),
    ),
)
