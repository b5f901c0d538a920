#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install irpd with its development tools. Idempotent.
# --runtime: irpd alone (what the demo needs): no dev tools, no system packages.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNTIME=0
if [ "${1:-}" = "--runtime" ]; then RUNTIME=1; fi
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "irpd needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
if [ "$RUNTIME" = 1 ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
    exit 0
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# The browser tests (tests/e2e/test_web.py) drive Debian's headless Chromium through
# Playwright (never `playwright install`). Installed when missing and we may (root, apt-get);
# without it those tests skip.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium for the browser tests" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >&2 \
        || echo "could not install chromium; the browser tests will skip" >&2
fi
# promtool (Debian's prometheus package) unit-tests monitoring/irpd-alerts.yml; installed when
# missing and this runs as root with apt-get (CI); elsewhere that test is skipped.
if ! command -v promtool >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends prometheus; } >/dev/null 2>&1 \
        || echo "bootstrap: could not install prometheus (promtool); alert rule tests skip it" >&2
fi
