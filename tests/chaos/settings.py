"""The chaos run's seed and counts, from the environment (modest defaults for CI)."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

SEED_ENV = "IRPD_CHAOS_SEED"
KILLS_ENV = "IRPD_CHAOS_KILLS"
SOAK_JOBS_ENV = "IRPD_CHAOS_SOAK_JOBS"
FUZZ_EXAMPLES_ENV = "IRPD_CHAOS_FUZZ_EXAMPLES"
STORM_JOBS_ENV = "IRPD_CHAOS_STORM_JOBS"
STORM_OPERATIONS_ENV = "IRPD_CHAOS_STORM_OPERATIONS"

DEFAULT_KILLS = 15
DEFAULT_SOAK_JOBS = 200
DEFAULT_FUZZ_EXAMPLES = 150
DEFAULT_STORM_JOBS = 200
#: commands per storm client
DEFAULT_STORM_OPERATIONS = 30
#: real seconds each kill of the kill loop may cost at most (restart, recovery, tail)
SECONDS_PER_KILL = 8.0


@dataclass(frozen=True, slots=True)
class ChaosSettings:
    """Seed and counts of one run."""

    seed: int
    kills: int
    soak_jobs: int
    fuzz_examples: int
    storm_jobs: int = DEFAULT_STORM_JOBS
    storm_operations: int = DEFAULT_STORM_OPERATIONS

    def describe(self) -> str:
        """The line that lets a failure be replayed."""
        return (
            f"{SEED_ENV}={self.seed} {KILLS_ENV}={self.kills} "
            f"{SOAK_JOBS_ENV}={self.soak_jobs} {FUZZ_EXAMPLES_ENV}={self.fuzz_examples} "
            f"{STORM_JOBS_ENV}={self.storm_jobs} {STORM_OPERATIONS_ENV}={self.storm_operations}"
        )


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def chaos_settings(default_seed: int | None = None) -> ChaosSettings:
    """Settings from ``IRPD_CHAOS_*`` (else ``default_seed``, else a fresh random seed; call
    once per run and share the result)."""
    seed_text = os.environ.get(SEED_ENV, "").strip()
    if seed_text:
        seed = int(seed_text)
    elif default_seed is not None:
        seed = default_seed
    else:
        seed = random.SystemRandom().randrange(1, 2**31)
    return ChaosSettings(
        seed=seed,
        kills=_int(KILLS_ENV, DEFAULT_KILLS),
        soak_jobs=_int(SOAK_JOBS_ENV, DEFAULT_SOAK_JOBS),
        fuzz_examples=_int(FUZZ_EXAMPLES_ENV, DEFAULT_FUZZ_EXAMPLES),
        storm_jobs=_int(STORM_JOBS_ENV, DEFAULT_STORM_JOBS),
        storm_operations=_int(STORM_OPERATIONS_ENV, DEFAULT_STORM_OPERATIONS),
    )


def kill_loop_timeout() -> float:
    """Per-test time-out of the kill loop, scaled with the number of kills."""
    return max(120.0, 60.0 + _int(KILLS_ENV, DEFAULT_KILLS) * SECONDS_PER_KILL)


def soak_timeout() -> float:
    """Per-test time-out of the fault soak, scaled with its number of jobs."""
    return max(120.0, 60.0 + _int(SOAK_JOBS_ENV, DEFAULT_SOAK_JOBS) * 0.5)


def storm_timeout() -> float:
    """Per-test time-out of the operator storm, scaled with its jobs and commands."""
    jobs = _int(STORM_JOBS_ENV, DEFAULT_STORM_JOBS)
    operations = _int(STORM_OPERATIONS_ENV, DEFAULT_STORM_OPERATIONS)
    return max(180.0, 60.0 + jobs * 0.2 + operations * 1.0)
