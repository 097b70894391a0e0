# Sourced by the make targets and scripts: shared environment for every service.
# Generates .env.local (local secrets, never committed) on first use.
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
for key_bytes in LEDGER_API_TOKEN:24 ID_HASH_SALT:24 DESK_DEMO_PASSWORD:9 GATEWAY_SYSTEM_SECRET:32 ACTION_SERVER_SECRET:32 RASA_JWT_SECRET:32 GATEWAY_SMS_WEBHOOK_SECRET:24 GATEWAY_TELEGRAM_WEBHOOK_SECRET:24; do
  key=${key_bytes%%:*}
  if ! grep -q "^$key=" "$repo_root/.env.local" 2>/dev/null; then
    echo "==> generating $key in .env.local (local secret, not in git)" >&2
    (umask 077; echo "$key=$(random_hex "${key_bytes##*:}")" >> "$repo_root/.env.local")
  fi
done
set -a
# shellcheck disable=SC1091
. "$repo_root/.env.local"
set +a
export UV_PYTHON_DOWNLOADS=never
export RASA_TELEMETRY_ENABLED=false
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export TF_CPP_MIN_LOG_LEVEL=2
# Rasa, TensorFlow and jieba write caches under HOME/TMPDIR: keep them inside the project.
export RASA_HOME_DIR="$repo_root/.home"
mkdir -p "$repo_root/.home/tmp" "$repo_root/var"
export LEDGER_HOST=${LEDGER_HOST:-127.0.0.1}
export LEDGER_PORT=${LEDGER_PORT:-8080}
export LEDGER_URL=${LEDGER_URL:-http://$LEDGER_HOST:$LEDGER_PORT}
export ACTION_SERVER_PORT=${ACTION_SERVER_PORT:-5055}
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:$ACTION_SERVER_PORT/webhook}
export RASA_PORT=${RASA_PORT:-5005}
export RASA_URL=${RASA_URL:-http://127.0.0.1:$RASA_PORT}
export GATEWAY_PORT=${GATEWAY_PORT:-8090}
# The analytics event stream (docs/insights.md): Rasa's SQL event broker writes this SQLite file,
# the gateway adds its events, `ledger consume-events` reads it. HUANXIN_EVENTS_AMQP_URL switches
# all three to RabbitMQ; HUANXIN_EVENTS=off turns the stream off.
export HUANXIN_EVENTS_DB=${HUANXIN_EVENTS_DB:-$repo_root/var/events.sqlite3}
