#!/usr/bin/env bash
# Fault tests (tests/faults): the stack of scripts/e2e.sh on ports of their own, with the ledger
# and the gateway on PostgreSQL (a fresh database FAULTS_DB), so that processes can be killed
# and PostgreSQL restarted without touching the end-to-end run. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${FAULTS_DB:-huanxin_faults}
pg=${FAULTS_PG:-postgres@127.0.0.1:5432}  # user@host:port, trust authentication
echo "==> fault tests: fresh PostgreSQL database $db on ${pg#*@}"
psql "postgresql://$pg/postgres" -qX -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\"" >/dev/null
export E2E_DIR=${FAULTS_DIR:-$PWD/var/faults}
export E2E_LEDGER_PORT=${FAULTS_LEDGER_PORT:-28080} E2E_ACTION_PORT=${FAULTS_ACTION_PORT:-25055}
export E2E_RASA_PORT=${FAULTS_RASA_PORT:-25005} E2E_GATEWAY_PORT=${FAULTS_GATEWAY_PORT:-28090}
export E2E_DATABASE_URL="postgresql+asyncpg://$pg/$db" E2E_SUITES=tests/faults
exec scripts/e2e.sh "$@"
