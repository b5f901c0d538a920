#!/usr/bin/env bash
# Quick start 2: install irpd with its dev tools, check lint, types and layering, run the tests.
# Tests use an embedded PostgreSQL by default; set IRPD_TEST_DSN (a superuser DSN, e.g.
# postgresql://postgres@127.0.0.1:5432/postgres) to run them against another server.
# IRPD_TEST_LONG=1 also runs the tests marked `long` (left out of CI to keep it under 15 min).
# Tests run in IRPD_TEST_WORKERS pytest-xdist workers (default 2; 0 runs them in this process):
# most of a test's time is spent waiting on its daemon, fake and PostgreSQL, so two workers on
# two cores nearly halve the suite. Arguments after test.sh go to pytest (e.g. -n 0 -x tests/e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
echo "== ruff" && .venv/bin/ruff check .
echo "== mypy --strict" && .venv/bin/mypy
echo "== import-linter" && .venv/bin/lint-imports
echo "== pytest" && exec .venv/bin/pytest -q -p no:cacheprovider \
    -n "${IRPD_TEST_WORKERS:-2}" --dist loadgroup "$@"
