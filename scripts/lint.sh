#!/usr/bin/env bash
# `make lint`, also the first step of `make test`: ruff lint and format over the whole tree
# (ruff.toml), mypy on the backend and on the bot, and the import contracts of both (the
# [tool.mypy] and [tool.importlinter] tables of backend/pyproject.toml and bot/pyproject.toml).
# Every tool comes from the backend's environment, one version for the tree; the bot's mypy run
# reads the bot environment's packages through --python-executable. Every check runs, so one
# run lists all that is wrong; the exit status is 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$PWD/backend/.venv/bin
status=0

echo "==> lint: ruff check"
"$tools/ruff" check --output-format concise . || status=1
echo "==> lint: ruff format --check"
"$tools/ruff" format --check --output-format concise . || status=1
echo "==> lint: mypy, backend (ledger, gateway, httpedge; ledger.domain strict)"
(cd backend && "$tools/mypy") || status=1
echo "==> lint: mypy, bot (actions, addons; Python 3.10)"
(cd bot && "$tools/mypy" --python-executable .venv/bin/python) || status=1
echo "==> lint: import contracts, backend"
(cd backend && "$tools/lint-imports" --no-logo) || status=1
echo "==> lint: import contracts, bot"
(cd bot && "$tools/lint-imports" --no-logo) || status=1
exit $status
