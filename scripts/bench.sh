#!/usr/bin/env bash
# `make bench`: the benchmark scripts of bench/ (they print their figures; they are not tests).
#   1. bench/load_portfolio.py   100,000 synthetic borrowers into PostgreSQL (database huanxin_bench)
#   2. bench/status_load.py      status reads under 50 concurrent connections for 20 s (needs wrk)
#   3. bench/relief_eval.py      relief-plan evaluation in the pure core
#   4. bench/conversation_bench.py, when present and the stack is running (make run): conversations
#   5. bench/turn_cost.py        the project's turns against a minimal bot, one long session, the
#                                gateway's added cost (starts its own processes on ports 22xxx)
#   6. bench/fuzz_gateway.py     seeded fuzzing of the gateway's HTTP and WebSocket inputs, in-process
#                                (FUZZ_EXAMPLES inputs, 5000 by default; fails on any 5xx or crash)
#   7. bench/policy_lab.py       `ledger simulate` over the 100,000 loans of step 1 under two policies
#   8. bench/replicas.py         the whole stack through the gateway with two Rasa replicas against one
#                                (PostgreSQL tracker store, Redis lock store; its own stack on ports 35xxx)
# Needs PostgreSQL at 127.0.0.1:5432 (trust auth; BENCH_PG_HOST/BENCH_PG_PORT/BENCH_PG_USER/BENCH_DB
# override); bench/replicas.py also needs Redis at 127.0.0.1:6379.
# BENCH_ONLY="load status relief conversation turns fuzz lab replicas" picks a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
py=backend/.venv/bin/python
only=" ${BENCH_ONLY:-load status relief conversation turns fuzz lab replicas} "
status=0
want() { [[ "$only" == *" $1 "* ]]; }

if want load; then
  echo "==> bench: loading the synthetic portfolio"
  $py bench/load_portfolio.py "${BENCH_BORROWERS:-100000}" || status=1
  echo
fi
if want status; then
  echo "==> bench: status reads under load"
  if command -v wrk >/dev/null; then
    # Two server processes (one a core); 50 connections as the issue asks, then 10, because
    # with a closed-loop load latency = connections / throughput (Little's law): p99 < 20 ms at
    # 50 connections would need more than 2,500 requests/s, over what 2 cores can serve.
    export LEDGER_WORKERS=${LEDGER_WORKERS:-2}
    $py bench/status_load.py --threads 1 --connections 50 || status=1
    $py bench/status_load.py --threads 1 --connections 10 || status=1
  else
    echo "wrk not found: install it (Debian/Ubuntu: apt-get install -y wrk) to run bench/status_load.py" >&2
    status=1
  fi
  echo
fi
if want relief; then
  echo "==> bench: relief evaluation in the pure core"
  $py bench/relief_eval.py || status=1
  echo
fi
if want conversation && [ -f bench/conversation_bench.py ]; then
  echo "==> bench: conversations through the stack"
  if $py -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/version', timeout=3)" "$RASA_URL" 2>/dev/null; then
    $py bench/conversation_bench.py || status=1
  else
    echo "skipped: no Rasa answers at $RASA_URL; start the stack (make run, in another terminal), then"
    echo "         BENCH_ONLY=conversation make bench"
  fi
fi
if want turns; then
  echo "==> bench: turn cost against a minimal bot (starts and stops its own stack)"
  $py bench/turn_cost.py || status=1
  echo
fi
if want fuzz; then
  echo "==> bench: fuzzing the gateway's HTTP and WebSocket inputs (no stack needed)"
  $py bench/fuzz_gateway.py --examples "${FUZZ_EXAMPLES:-5000}" || status=1
  echo
fi
if want lab; then
  echo "==> bench: the policy lab over the synthetic portfolio (reuses step 1's database)"
  BENCH_DB="${BENCH_DB:-huanxin_bench}" $py bench/policy_lab.py "${BENCH_BORROWERS:-100000}" || status=1
  echo
fi
if want replicas; then
  echo "==> bench: two Rasa replicas against one through the gateway (starts and stops its own stack)"
  $py bench/replicas.py || status=1
  echo
fi
exit $status
