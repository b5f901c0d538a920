"""Reference data the fake serves: model profiles, output profiles, event rate schemes,
plus optional seeded treaties. The default covers the sample workbook's names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from irpd.moodys.fake.settings import SettingsError, load_document

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """``GET /analysis-settings/modelprofiles`` item (HD when the version says so)."""

    id: int
    name: str
    perilCode: str
    modelRegionCode: str
    softwareVersionCode: str


@dataclass(frozen=True, slots=True)
class OutputProfile:
    """``GET /analysis-settings/outputprofiles`` item."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class EventRateScheme:
    """``GET /data-store/referencetables/eventratescheme`` item."""

    eventRateSchemeId: int
    name: str
    perilCode: str
    modelRegionCode: str
    isActive: bool = True


@dataclass(frozen=True, slots=True)
class SeededTreaty:
    """A treaty known to the fake (strict lookups find only these)."""

    datasource: str
    name: str
    id: int


_DEFAULT_MODEL_PROFILES = (
    ModelProfile(4001, "DLM CBHU v23 USFL", "FL", "NAFL", "DLM-23.0"),
    ModelProfile(4002, "DLM Earthquake v23 USEQ", "EQ", "NAEQ", "DLM-23.0"),
    ModelProfile(4003, "DLM EQ v23 USEQ", "EQ", "NAEQ", "DLM-23.0"),
    ModelProfile(4004, "DLM CBHU v23 USWS", "WS", "NAWS", "DLM-23.0"),
    ModelProfile(4005, "DLM Hurricane v23 USWS", "WS", "NAWS", "DLM-23.0"),
    ModelProfile(4006, "DLM Severe Convective Storm v23 USCS", "CS", "NACS", "DLM-23.0"),
    ModelProfile(4007, "DLM Wildfire v23 USWF", "WF", "NAWF", "DLM-23.0"),
    ModelProfile(4101, "HD Flood v23 USFL", "FL", "NAFL", "HD-23.0"),
    ModelProfile(4102, "NA Inland Flood HD v2.1 USFL", "FL", "NAFL", "HD-2.1"),
    ModelProfile(4103, "HD Wildfire v23 USWF", "WF", "NAWF", "HD-23.0"),
    ModelProfile(4104, "HD Severe Convective Storm v23 USCS", "CS", "NACS", "HD-23.0"),
)

_DEFAULT_OUTPUT_PROFILES = (
    OutputProfile(1, "Patched Portfolio Level Only (EP, ELT, Stats)"),
    OutputProfile(2, "Portfolio and Location Level (EP, ELT, Stats)"),
    OutputProfile(3, "Portfolio Level Only (EP, ELT, Stats)"),
    OutputProfile(4, "Location Level (EP, ELT, Stats)"),
)

_DEFAULT_SCHEME_NAMES = (
    "RMS 2023 Stochastic Event Rates",
    "RMS 2023 Warm SST Conditioned",
    "RMS 2023 Warm SST Conditioned Event Rates",
    "RMS 2023 Long Term Event Rates",
    "RMS 2023 Long Term Rates",
)


def _default_schemes() -> tuple[EventRateScheme, ...]:
    """Every default scheme name for every peril/region the default profiles use."""
    regions = sorted({(p.perilCode, p.modelRegionCode) for p in _DEFAULT_MODEL_PROFILES})
    schemes = []
    for index, name in enumerate(_DEFAULT_SCHEME_NAMES):
        for offset, (peril, region) in enumerate(regions):
            schemes.append(EventRateScheme(700 + 100 * index + offset, name, peril, region))
    return tuple(schemes)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """All reference data, looked up by exact (trimmed) name."""

    model_profiles: tuple[ModelProfile, ...]
    output_profiles: tuple[OutputProfile, ...]
    event_rate_schemes: tuple[EventRateScheme, ...]
    treaties: tuple[SeededTreaty, ...] = ()

    @classmethod
    def default(cls) -> Catalogue:
        """The built-in catalogue (covers the sample workbook)."""
        return cls(_DEFAULT_MODEL_PROFILES, _DEFAULT_OUTPUT_PROFILES, _default_schemes())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "catalogue") -> Catalogue:
        """Build from ``{"modelProfiles": [...], "outputProfiles": [...],
        "eventRateSchemes": [...], "treaties": [...]}``; a missing list keeps the default."""
        known = {"modelProfiles", "outputProfiles", "eventRateSchemes", "treaties"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)}")
        default = cls.default()
        try:
            return cls(
                _items(data, "modelProfiles", ModelProfile, default.model_profiles),
                _items(data, "outputProfiles", OutputProfile, default.output_profiles),
                _items(data, "eventRateSchemes", EventRateScheme, default.event_rate_schemes),
                _items(data, "treaties", SeededTreaty, ()),
            )
        except TypeError as exc:
            raise SettingsError(f"{where}: {exc}") from exc

    @classmethod
    def from_file(cls, path: str | Path) -> Catalogue:
        """Load a JSON or TOML catalogue file."""
        return cls.from_mapping(load_document(path), str(path))

    def model_profiles_named(self, name: str) -> list[ModelProfile]:
        """Model profiles with exactly this name."""
        return [p for p in self.model_profiles if p.name == name.strip()]

    def output_profiles_named(self, name: str) -> list[OutputProfile]:
        """Output profiles with exactly this name."""
        return [p for p in self.output_profiles if p.name == name.strip()]

    def treaties_named(self, datasource: str, name: str) -> list[SeededTreaty]:
        """Seeded treaties of one EDM with exactly this name."""
        return [t for t in self.treaties if t.datasource == datasource and t.name == name]


def _items(
    data: Mapping[str, Any], key: str, cls: type[T], default: tuple[T, ...]
) -> tuple[T, ...]:
    if key not in data:
        return default
    raw = data[key]
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise SettingsError(f"catalogue.{key} must be a list of objects")
    return tuple(cls(**item) for item in raw)
