#!/usr/bin/env bash
# Runs the rasa CLI of the bot environment with the project's defaults:
#   bot/run_rasa.sh run --enable-api -p 5005      bot/run_rasa.sh train
# Telemetry off; HOME/TMPDIR inside the repository; ACTION_SERVER_URL defaulted for endpoints.yml.
set -euo pipefail
BOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$BOT_DIR")"
export RASA_TELEMETRY_ENABLED=false
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:5055/webhook}"
# endpoints.yml sends ACTION_SERVER_SECRET to the action server: taken from .env.local (generated
# by scripts/env.sh) when the environment does not have it; there is no default secret.
if [ -z "${ACTION_SERVER_SECRET:-}" ] && [ -f "$REPO_DIR/.env.local" ]; then
  set -a; . "$REPO_DIR/.env.local"; set +a
fi
export HOME="${RASA_HOME:-$REPO_DIR/.home}"
export TMPDIR="${TMPDIR:-$HOME/tmp}"
mkdir -p "$HOME" "$TMPDIR" "$BOT_DIR/.rasa"
cd "$BOT_DIR"
exec "$BOT_DIR/.venv/bin/rasa" "$@"
