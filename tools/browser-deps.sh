#!/usr/bin/env bash
# What the dashboard's front end and the browser tests need, installed
# idempotently (safe to run before every test run):
#   - Debian's chromium, which Playwright drives (`playwright install` cannot
#     download browsers here), when /usr/bin/chromium is missing;
#   - frontend/node_modules (d3 3.5.17 and NVD3 1.8.6, pinned by
#     frontend/package-lock.json) with `npm ci`, when it is missing or older
#     than the lock file.
# The playwright Python package comes from test-requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CI_HEALTH_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    SUDO=
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
    echo "browser-deps: installing chromium"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi

# npm ci writes node_modules/.package-lock.json: compare it with the lock file
MARKER=frontend/node_modules/.package-lock.json
if [ ! -f "$MARKER" ] || [ frontend/package-lock.json -nt "$MARKER" ]; then
    if ! command -v npm >/dev/null; then
        echo "browser-deps: npm is missing (Node.js 20 or later is needed)" >&2
        exit 1
    fi
    echo "browser-deps: npm ci in frontend/"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
    touch "$MARKER"
fi

# OpenStack-Health's own client, for tests/browser/test_osh_client.py (cached after the first build)
echo "browser-deps: OpenStack-Health client in $(bash tools/osh-client.sh)"
