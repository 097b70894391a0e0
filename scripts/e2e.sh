#!/usr/bin/env bash
# End-to-end tests: starts the real stack on test ports with a fresh SQLite ledger and a
# fresh tracker store, runs the conversation (and browser) suites, then stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export LEDGER_PORT=${E2E_LEDGER_PORT:-18080} ACTION_SERVER_PORT=${E2E_ACTION_PORT:-15055}
export RASA_PORT=${E2E_RASA_PORT:-15005} GATEWAY_PORT=${E2E_GATEWAY_PORT:-18090}
unset LEDGER_URL ACTION_SERVER_URL RASA_URL
. scripts/env.sh
export DATABASE_URL="sqlite+aiosqlite:///$root/var/e2e/ledger.sqlite3"
export TRACKER_STORE_DB="$root/var/e2e/tracker.db"
export STACK_RUN_DIR="$root/var/e2e/run" STACK_LOG_DIR="$root/var/e2e/log"
rm -rf "$root/var/e2e"; mkdir -p "$root/var/e2e"
echo "==> end-to-end: fresh ledger and tracker store under var/e2e, ports $LEDGER_PORT/$ACTION_SERVER_PORT/$RASA_PORT/$GATEWAY_PORT"
(cd backend && .venv/bin/ledger migrate && .venv/bin/ledger seed-demo)
trap 'scripts/stack.sh stop' EXIT
scripts/stack.sh start
suites=(tests/e2e)
[ -d tests/browser ] && suites+=(tests/browser)
backend/.venv/bin/python -m pytest -q -p no:cacheprovider "${suites[@]}"
