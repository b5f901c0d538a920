"""A faithful fake of the Moody's IRP API subset irpd speaks (spec §7), for tests, the demo
and the benchmarks. See docs/fake-moodys.md."""

from irpd.moodys.fake.app import FakeMoodys, build_app, build_context
from irpd.moodys.fake.catalogue import Catalogue, EventRateScheme, ModelProfile, OutputProfile
from irpd.moodys.fake.ledger import LedgerEntry, RequestRecord
from irpd.moodys.fake.settings import (
    CancelDurations,
    FakeSettings,
    Faults,
    ScriptedOutcome,
    SettingsError,
    StageDurations,
)

__all__ = [
    "CancelDurations",
    "Catalogue",
    "EventRateScheme",
    "FakeMoodys",
    "FakeSettings",
    "Faults",
    "LedgerEntry",
    "ModelProfile",
    "OutputProfile",
    "RequestRecord",
    "ScriptedOutcome",
    "SettingsError",
    "StageDurations",
    "build_app",
    "build_context",
]
