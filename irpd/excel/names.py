"""The workbook's vocabulary: sheet names, column headers and Metadata keys of the contract.

Imported by the loader and by the transformers, so that both spell every name the same way.
This module imports nothing.
"""

from __future__ import annotations

from typing import Final

# --- sheets -------------------------------------------------------------------------------
METADATA: Final = "Metadata"
DATABASES: Final = "Databases"
PORTFOLIOS: Final = "Portfolios"
TREATIES: Final = "Reinsurance Treaties"
GEOHAZ_THRESHOLDS: Final = "GeoHaz Thresholds"
ANALYSES: Final = "Analysis Table"
GROUPINGS: Final = "Groupings"
PRODUCTS_PERILS: Final = "Products and Perils"
REFERENCE_DATA: Final = "Moody's Reference Data"

#: the key of ``configuration_data`` holding the per-sheet validation status
VALIDATION_KEY: Final = "_validation"

# --- Metadata keys ------------------------------------------------------------------------
CURRENT_DATE_VALUE: Final = "Current Date Value"
EDM_DATA_VERSION: Final = "EDM Data Version"
GEOCODE_VERSION: Final = "Geocode Version"
HAZARD_VERSION: Final = "Hazard Version"
DLM_MODEL_VERSION: Final = "DLM Model Version"
VALIDATE_DLM_VERSIONS: Final = "Validate DLM Model Versions?"
WILDFIRE_HD_VERSION: Final = "Wildfire HD Model Version"
SCS_HD_VERSION: Final = "SCS HD Model Version"
INLAND_FLOOD_HD_VERSION: Final = "Inland Flood HD Model Version"
VALIDATE_HD_VERSIONS: Final = "Validate HD Model Versions?"
EXPORT_RDM_NAME: Final = "Export RDM Name"
CYCLE_TYPE: Final = "Cycle Type"
#: optional Metadata key: the analysis currency when no treaty names one
CURRENCY_KEY: Final = "Currency"

# --- columns ------------------------------------------------------------------------------
DATABASE: Final = "Database"
STORE_IN_DATA_BRIDGE: Final = "Store in Data Bridge?"
PORTFOLIO: Final = "Portfolio"
IMPORT_FILE: Final = "Import File"
BASE_PORTFOLIO: Final = "Base Portfolio?"

TREATY_NAME: Final = "Treaty Name"
TREATY_NUMBER: Final = "Treaty Number"
TREATY_TYPE: Final = "Type"
PER_RISK_LIMIT: Final = "Per-Risk Limit"
OCCURRENCE_LIMIT: Final = "Occurrence Limit"
ATTACHMENT_POINT: Final = "Attachment Point"
INCEPTION_DATE: Final = "Inception Date"
EXPIRATION_DATE: Final = "Expiration Date"
CURRENCY: Final = "Currency"
ATTACHMENT_BASIS: Final = "Attachment Basis"
EXPOSURE_LEVEL: Final = "Exposure Level"
PCT_COVERED: Final = "% Covered"
PCT_PLACE: Final = "% Place"
PCT_SHARE: Final = "% Share"
PCT_RETENTION: Final = "% Retention"
PREMIUM: Final = "Premium"
REINSTATEMENTS: Final = "Reinstatements"
PCT_REINSTATEMENT_CHARGE: Final = "% Reinstatement Charge"
AGGREGATE_LIMIT: Final = "Aggregate Limit"
AGGREGATE_DEDUCTIBLE: Final = "Aggregate Deductible Amount"
INURING_PRIORITY: Final = "Inuring Priority"
PRODUCER: Final = "Producer"
TAGS: Final = "Tags"

GEOCODE_LEVEL: Final = "Geocode Level"
PCT_OF_GRAND_TOTAL: Final = "% of Grand Total"
THRESHOLD_PCT: Final = "Threshold %"

ANALYSIS_NAME: Final = "Analysis Name"
ANALYSIS_PROFILE: Final = "Analysis Profile"
OUTPUT_PROFILE: Final = "Output Profile"
EVENT_RATE: Final = "Event Rate"
TREATY_COLUMNS: Final = tuple(f"Reinsurance Treaty {n}" for n in range(1, 6))
TAG_COLUMNS: Final = tuple(f"Tag {n}" for n in range(1, 6))

GROUP_NAME: Final = "Group_Name"
#: key of a Groupings row object holding its non-empty item names, in column order
GROUP_ITEMS: Final = "Items"
MAX_GROUP_ITEMS: Final = 50

PERIL: Final = "Peril"
PRODUCT_GROUP: Final = "Product Group"

MODEL_PROFILES: Final = "Model Profiles"
OUTPUT_PROFILES: Final = "Output Profiles"
EVENT_RATE_SCHEMES: Final = "Event Rate Schemes"

# --- values -------------------------------------------------------------------------------
YES: Final = "Y"
NO: Final = "N"
WORKING_EXCESS: Final = "Working Excess"
QUOTA_SHARE: Final = "Quota Share"


def header_key(text: str) -> str:
    """How header cells, sheet names and Metadata keys are matched: trimmed, inner runs of
    whitespace collapsed, case-insensitive."""
    return " ".join(text.split()).casefold()
