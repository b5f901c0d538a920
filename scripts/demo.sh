#!/usr/bin/env bash
# Quick start 1: install irpd and run a whole sample cycle against the fake Moody's server,
# on an embedded PostgreSQL. Exits 0 when every batch of the cycle completed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --runtime
exec .venv/bin/irpd demo "$@"
