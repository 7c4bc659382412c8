#!/bin/sh
# The end-to-end browser test of the dashboard (issue 6, point 7):
# tests/e2e/dashboard.e2e.mjs drives Debian's chromium headless through
# playwright-core (npm registry; no browser download) against a running
# `warden run`. Installs tests/e2e's node_modules with `npm ci` when they
# are missing or older than package-lock.json. Skipped (exit 77, said why)
# without node/npm, without chromium, or when `npm ci` fails (offline and
# nothing cached). E2E_ARTIFACTS=DIR keeps the screenshots there (default
# a temp dir, printed); CHROMIUM=PATH picks the browser.
#
# usage: e2e.sh path/to/warden
set -u
warden=$1
dir=$(cd "$(dirname "$0")/../e2e" && pwd)
skip() { echo "SKIPPED: $*"; exit 77; }

command -v node >/dev/null 2>&1 || skip "no node (Debian's nodejs package)"
command -v npm >/dev/null 2>&1 || skip "no npm (Debian's npm package)"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "no chromium at $CHROMIUM (Debian's chromium package)"
export CHROMIUM

if [ ! -f "$dir/node_modules/playwright-core/package.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: never fetch a browser, chromium is Debian's.
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --prefer-offline) ||
        skip "npm ci failed in $dir (offline, with playwright-core not in npm's cache?)"
fi

exec node "$dir/dashboard.e2e.mjs" "$warden"
