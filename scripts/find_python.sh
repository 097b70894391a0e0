#!/usr/bin/env bash
# Prints the path of an installed Python interpreter of the wanted version, the way a
# user's machine has it: $PYTHON310 / $PYTHON_BACKEND, then PATH, then pyenv. Never downloads.
#   scripts/find_python.sh 3.10        -> exactly 3.10 (Rasa 3.6 supports 3.8-3.10 only)
#   scripts/find_python.sh 3.11+       -> 3.11 or newer (the backend)
set -euo pipefail
want=${1:?usage: find_python.sh 3.10|3.11+}

matches() {  # $1 = interpreter; succeeds when it runs and has the wanted version
  "$1" - "$want" >/dev/null 2>&1 <<'PY'
import sys
want = sys.argv[1]
have = sys.version_info[:2]
if want.endswith("+"):
    major, minor = map(int, want[:-1].split("."))
    sys.exit(0 if have >= (major, minor) else 1)
major, minor = map(int, want.split("."))
sys.exit(0 if have == (major, minor) else 1)
PY
}

candidates=()
if [ "$want" = "3.10" ]; then
  candidates+=("${PYTHON310:-}" python3.10)
  versions=(3.10)
else
  candidates+=("${PYTHON_BACKEND:-}" python3 python3.13 python3.12 python3.11)
  versions=(3.13 3.12 3.11)
fi
if command -v pyenv >/dev/null 2>&1; then
  for v in "${versions[@]}"; do
    prefix=$(pyenv prefix "$v" 2>/dev/null | head -n1) || true
    [ -n "${prefix:-}" ] && candidates+=("$prefix/bin/python$v")
  done
fi
for v in "${versions[@]}"; do
  for dir in "$HOME"/.pyenv/versions/"$v"*/bin /usr/local/bin /usr/bin; do
    candidates+=("$dir/python$v")
  done
done

for c in "${candidates[@]}"; do
  [ -n "$c" ] || continue
  path=$(command -v "$c" 2>/dev/null) || continue
  if matches "$path"; then
    "$path" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done

if [ "$want" = "3.10" ]; then
  cat >&2 <<'MSG'
error: Python 3.10 was not found (Rasa Open Source 3.6 runs on Python 3.8-3.10 only).
  Install it, for example `pyenv install 3.10` or your system's python3.10 package,
  or point PYTHON310 at an existing interpreter: make run PYTHON310=/path/to/python3.10
MSG
else
  cat >&2 <<'MSG'
error: Python 3.11 or newer was not found (the ledger backend needs it).
  Install python3.11+ or point PYTHON_BACKEND at an interpreter.
MSG
fi
exit 1
