#!/usr/bin/env bash
# The chaos suite's long run (CI runs tests/chaos with modest counts as part of scripts/test.sh).
# Defaults: 200 SIGKILLs, a 1,000-job fault soak, 1,000 fuzz examples, an operator storm of
# 3 clients x 300 commands on a 600-job batch, database troubles (down at start-up, slots
# taken, read-only, privilege revoked) of 20 s each, a fresh random seed.
# Replay a run by passing the seed it printed:  IRPD_CHAOS_SEED=1234 scripts/chaos.sh
# Extra arguments go to pytest, e.g.  scripts/chaos.sh -k kill_loop
set -euo pipefail
cd "$(dirname "$0")/.."
export IRPD_CHAOS_KILLS="${IRPD_CHAOS_KILLS:-200}"
export IRPD_CHAOS_SOAK_JOBS="${IRPD_CHAOS_SOAK_JOBS:-1000}"
export IRPD_CHAOS_FUZZ_EXAMPLES="${IRPD_CHAOS_FUZZ_EXAMPLES:-1000}"
export IRPD_CHAOS_STORM_JOBS="${IRPD_CHAOS_STORM_JOBS:-600}"
export IRPD_CHAOS_STORM_OPERATIONS="${IRPD_CHAOS_STORM_OPERATIONS:-300}"
export IRPD_CHAOS_DB_DOWN_SECONDS="${IRPD_CHAOS_DB_DOWN_SECONDS:-20}"
export IRPD_CHAOS_SEED="${IRPD_CHAOS_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
echo "chaos long run: IRPD_CHAOS_SEED=$IRPD_CHAOS_SEED IRPD_CHAOS_KILLS=$IRPD_CHAOS_KILLS" \
     "IRPD_CHAOS_SOAK_JOBS=$IRPD_CHAOS_SOAK_JOBS IRPD_CHAOS_FUZZ_EXAMPLES=$IRPD_CHAOS_FUZZ_EXAMPLES" \
     "IRPD_CHAOS_STORM_JOBS=$IRPD_CHAOS_STORM_JOBS IRPD_CHAOS_STORM_OPERATIONS=$IRPD_CHAOS_STORM_OPERATIONS" \
     "IRPD_CHAOS_DB_DOWN_SECONDS=$IRPD_CHAOS_DB_DOWN_SECONDS"
exec .venv/bin/pytest -m chaos tests/chaos -q -p no:cacheprovider "$@"
