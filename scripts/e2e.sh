#!/usr/bin/env bash
# End-to-end tests: starts the real stack on test ports with a fresh SQLite ledger and a
# fresh tracker store, runs the conversation (and browser) suites, then stops what it started.
# scripts/faults.sh runs other suites on the same kind of stack: E2E_DATABASE_URL (an empty
# database it migrates and seeds) and E2E_SUITES (the test directories) replace the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
e2edir=${E2E_DIR:-$root/var/e2e}  # another directory lets two runs coexist (with other E2E_*_PORT)
export LEDGER_PORT=${E2E_LEDGER_PORT:-18080} ACTION_SERVER_PORT=${E2E_ACTION_PORT:-15055}
export RASA_PORT=${E2E_RASA_PORT:-15005} GATEWAY_PORT=${E2E_GATEWAY_PORT:-18090}
unset LEDGER_URL ACTION_SERVER_URL RASA_URL
. scripts/env.sh
export DATABASE_URL=${E2E_DATABASE_URL:-"sqlite+aiosqlite:///$e2edir/ledger.sqlite3"}
# the redacting tracker store reads RASA_TRACKER_DB (bot/addons/tracker_store.py)
export RASA_TRACKER_DB="$e2edir/tracker.db" TRACKER_STORE_DB="$e2edir/tracker.db"
export HUANXIN_EVENTS_DB="$e2edir/events.sqlite3"  # the analytics stream (docs/insights.md)
export STACK_RUN_DIR="$e2edir/run" STACK_LOG_DIR="$e2edir/log"
rm -rf "$e2edir"; mkdir -p "$e2edir"
echo "==> end-to-end: fresh ledger (${DATABASE_URL%%:*}) and tracker store under $e2edir, ports $LEDGER_PORT/$ACTION_SERVER_PORT/$RASA_PORT/$GATEWAY_PORT"
(cd backend && .venv/bin/ledger migrate && .venv/bin/ledger seed-demo)
trap 'scripts/stack.sh stop' EXIT
scripts/stack.sh start
if [ -n "${E2E_SUITES:-}" ]; then
  read -ra suites <<<"$E2E_SUITES"
else
  suites=(tests/e2e)
  [ -d tests/browser ] && suites+=(tests/browser)
fi
backend/.venv/bin/python -m pytest -q -p no:cacheprovider "${suites[@]}" "$@"  # extra arguments go to pytest
