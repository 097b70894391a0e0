#!/usr/bin/env bash
# Starts and stops the local stack without Docker: ledger backend, action server, Rasa and
# (when present) the conversation gateway. Ports and URLs come from scripts/env.sh.
#   scripts/stack.sh run     start everything, print where it listens, stop all on Ctrl-C
#   scripts/stack.sh start   start in the background (PIDs in var/run/<name>.pid, logs in var/log/)
#   scripts/stack.sh stop    stop what `start` started
# STACK_ONLY="rasa actions" limits start and stop to the services named (the fault tests start
# a process they killed again with exactly the command below).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
root=$PWD
rundir=${STACK_RUN_DIR:-$root/var/run}
logdir=${STACK_LOG_DIR:-$root/var/log}
mkdir -p "$rundir" "$logdir"

wanted() {  # name: true unless STACK_ONLY names other services only
  [ -z "${STACK_ONLY:-}" ] || [[ " $STACK_ONLY " == *" $1 "* ]]
}

start_one() {  # name, working dir, command...
  local name=$1 dir=$2; shift 2
  wanted "$name" || return 0
  ( cd "$dir" && exec "$@" ) >"$logdir/$name.log" 2>&1 &
  echo $! >"$rundir/$name.pid"
}

wait_http() {  # name, url, seconds
  local name=$1 url=$2 limit=$3 waited=0
  wanted "$name" || return 0
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    local pid; pid=$(cat "$rundir/$name.pid")
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: $name exited during start-up; last lines of $logdir/$name.log:" >&2
      tail -n 30 "$logdir/$name.log" >&2
      return 1
    fi
    if [ "$waited" -ge "$limit" ]; then
      echo "error: $name did not answer $url within ${limit}s (log: $logdir/$name.log)" >&2
      return 1
    fi
    sleep 1; waited=$((waited + 1))
  done
  echo "    $name ready after ${waited}s"
}

stop_all() {
  for name in gateway rasa actions events backend; do
    wanted "$name" || continue
    local file="$rundir/$name.pid"
    [ -f "$file" ] || continue
    local pid; pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    rm -f "$file"
  done
}

start_all() {
  # Telegram (Rasa's built-in connector) only when its bot token is set: docs/architecture.md
  local credentials=credentials.yml channels="REST and socket.io channels"
  if [ -n "${TELEGRAM_ACCESS_TOKEN:-}" ]; then
    if [ -z "${TELEGRAM_VERIFY:-}" ] || [ -z "${TELEGRAM_WEBHOOK_URL:-}" ]; then
      echo "error: TELEGRAM_ACCESS_TOKEN is set: also set TELEGRAM_VERIFY (the bot's username) and" \
        "TELEGRAM_WEBHOOK_URL (public https URL ending in /webhooks/telegram/webhook)" >&2
      return 1
    fi
    credentials=credentials-telegram.yml channels="REST, socket.io and Telegram channels"
  fi
  local model=${RASA_MODEL:-}
  [ -n "$model" ] || ! wanted rasa || model=$(scripts/train.sh | tail -n1)
  echo "==> starting the ledger backend on $LEDGER_URL"
  start_one backend "$root/backend" .venv/bin/ledger serve
  if [ "${HUANXIN_EVENTS:-}" != off ]; then
    echo "==> starting the analytics consumer (ledger consume-events; docs/insights.md)"
    start_one events "$root/backend" .venv/bin/ledger consume-events
  fi
  echo "==> starting the action server on 127.0.0.1:$ACTION_SERVER_PORT"
  start_one actions "$root/bot" env HOME="$RASA_HOME_DIR" TMPDIR="$RASA_HOME_DIR/tmp" \
    .venv/bin/python -m actions.server --port "$ACTION_SERVER_PORT"
  echo "==> starting Rasa on $RASA_URL ($channels; the model takes ~1 min to load)"
  start_one rasa "$root/bot" env HOME="$RASA_HOME_DIR" TMPDIR="$RASA_HOME_DIR/tmp" \
    .venv/bin/rasa run --enable-api --jwt-secret "$RASA_JWT_SECRET" --jwt-method HS256 --model "$model" \
    --endpoints endpoints.yml --credentials "$credentials" --interface "${RASA_HOST:-127.0.0.1}" --port "$RASA_PORT"
  if [ -d "$root/backend/src/gateway" ]; then
    echo "==> starting the conversation gateway (web chat, agent desk) on 127.0.0.1:$GATEWAY_PORT"
    start_one gateway "$root/backend" .venv/bin/python -m gateway
  fi
  wait_http backend "$LEDGER_URL/healthz" 60
  wait_http actions "http://127.0.0.1:$ACTION_SERVER_PORT/health" 90
  [ -f "$rundir/gateway.pid" ] && wait_http gateway "http://127.0.0.1:$GATEWAY_PORT/healthz" 60
  wait_http rasa "$RASA_URL/version" 240  # /status needs a JWT; the port opens once the model is loaded
}

case ${1:-run} in
  start) trap 'stop_all' ERR; start_all ;;
  stop) stop_all ;;
  run)
    # Ctrl-C reaches every process of the terminal's group at once; the flag tells the watch
    # loop below that a child that just died was stopped on purpose.
    stopping=
    trap 'stopping=1' INT TERM
    trap 'stop_all' ERR
    start_all
    cat <<MSG

Huanxin is running (logs in $logdir):
  ledger backend   $LEDGER_URL   (OpenAPI: $LEDGER_URL/api/v1/openapi.json)
  action server    http://127.0.0.1:$ACTION_SERVER_PORT
  Rasa             $RASA_URL   (POST $RASA_URL/webhooks/rest/webhook {"sender": "me", "message": "你好"})
MSG
    if [ -f "$rundir/gateway.pid" ]; then
      echo "  web chat         http://127.0.0.1:$GATEWAY_PORT/demo  (the embeddable widget: /widget.js)"
      echo "  agent desk       http://127.0.0.1:$GATEWAY_PORT/desk  (supervisor / agent1, password: $DESK_DEMO_PASSWORD)"
      echo "  insights         http://127.0.0.1:$GATEWAY_PORT/insights  (analyst1, same password)"
    fi
    cat <<'MSG'

Demo borrowers (verify with phone, date of birth, last 4 of the ID):
  D1 王芳          13800000001  1990-03-15  4321  分付 12,000.00, DPD 15 (M1)
  D2 李强          13800000002  1985-07-02  5678  cash loan 50,000.00, DPD 45 (M2)
  D3 张伟          13800000003  1978-11-30  9012  cash loan 30,000.00, DPD 120 (M3+)
  D4 Emily Chen    13800000004  1992-06-21  3456  instalment loan 8,000.00, DPD 20 (M1), English
  D5 陈静          13800000005  1995-01-09  7890  分付 6,000.00, current (next due in 10 days)
  D6 刘洋          13800000006  1988-09-18  2468  cash loan 20,000.00, DPD 35 (M2), broken arrangement
  D7 Michael Brown 13800000007  1980-12-05  1357  instalment loan 10,000.00, DPD 30, open dispute, English
  D8 赵敏          13800000008  1993-04-12  6802  two loans: 分付 3,600.00 DPD 10 (M1); cash loan 15,000.00 current

Press Ctrl-C to stop everything.
MSG
    while [ -z "$stopping" ]; do
      sleep 2 & wait $! || true   # `wait` returns at once when a trapped signal arrives
      for name in backend actions rasa; do
        if [ -z "$stopping" ] && ! kill -0 "$(cat "$rundir/$name.pid")" 2>/dev/null; then
          sleep 1; [ -n "$stopping" ] && break
          echo "error: $name stopped; see $logdir/$name.log" >&2; stop_all; exit 1
        fi
      done
    done
    echo; echo "==> stopping"; stop_all
    ;;
  *) echo "usage: $0 run|start|stop" >&2; exit 2 ;;
esac
