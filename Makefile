# Huanxin (还信): the two commands are `make run` and `make test`; both set up whatever is missing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

UV_VERSION := 0.13.8
UV := .tools/venv/bin/uv
ENV := . scripts/env.sh

.PHONY: help setup run lint test test-backend lint-and-bot test-bot test-rasa test-e2e test-faults test-multi browser-deps migrate seed train bench release-check clean

help:
	@echo "make run           set up everything missing, then start the ledger :8080, action server :5055,"
	@echo "                   Rasa :5005 and the gateway :8090 (Ctrl-C stops them all)"
	@echo "                     web chat    http://127.0.0.1:8090/demo"
	@echo "                     agent desk  http://127.0.0.1:8090/desk  (supervisor / agent1, DESK_DEMO_PASSWORD in .env.local)"
	@echo "                     insights    http://127.0.0.1:8090/insights  (analyst1, same password)"
	@echo "                     ledger API  http://127.0.0.1:8080/api/v1/openapi.json"
	@echo "make test          set up everything missing, then run every suite below, in order (CI: .ci/run)"
	@echo "make test-backend  ledger domain and API (SQLite, PostgreSQL), gateway, deploy, redaction"
	@echo "make test-bot      action and parser tests (bot environment, fake ledger)"
	@echo "make test-rasa     rasa data validate, test stories, the NLU macro-F1 gate, the release check's own NLU training"
	@echo "make test-e2e      end-to-end conversations and browser tests against the real stack"
	@echo "make test-faults   kill -9 of the services and PostgreSQL restarts mid-conversation"
	@echo "make test-multi    two Rasa instances behind the gateway (Redis, PostgreSQL)"
	@echo "make lint          run the linters"
	@echo "make setup         the two environments (backend/.venv, bot/.venv) from their lock files"
	@echo "make migrate       apply the database migrations"
	@echo "make seed          migrate, seed the demo portfolio and the demo desk accounts"
	@echo "make train         train the Rasa model when config, domain or data changed"
	@echo "make browser-deps  install Debian's chromium for the browser tests when missing"
	@echo "make bench         run the benchmark scripts (docs/benchmarks.md)"
	@echo "make release-check the release report against BASE=<git ref> (docs/release-check.md); exit 1 on a failed gate"
	@echo "make clean         remove var/, bot/models, bot/results, .home and backend/build"
	@echo ""
	@echo "Tools (from backend/, after . ../scripts/env.sh):"
	@echo "  .venv/bin/ledger serve|migrate|seed-demo|copy-demo KEY...|generate N|create-token [--name N --scope S]"
	@echo "  .venv/bin/python -m gateway serve             web chat, agent desk and WeChat on :8090"
	@echo "  .venv/bin/python -m gateway create-agent NAME --role agent|supervisor  (password: GATEWAY_AGENT_PASSWORD or asked)"
	@echo "  .venv/bin/python -m gateway set-password|deactivate-agent|reactivate-agent NAME"

# Both environments are installed with their bytecode compiled (and the project's own sources
# compiled once): where PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile every module
# it imports in every process (importing Rasa: 21.5 s of CPU without bytecode, 6.0 s with it).
$(UV):
	@echo "==> installing uv $(UV_VERSION) into .tools/ (nothing else on the machine is touched)"
	python3 -m venv .tools/venv
	.tools/venv/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

backend/.venv/.synced: backend/pyproject.toml backend/uv.lock | $(UV)
	@echo "==> backend environment (Python 3.11+, from backend/uv.lock)"
	cd backend && ../$(UV) sync --frozen --compile-bytecode --python "$$(../scripts/find_python.sh 3.11+)"
	backend/.venv/bin/python -m compileall -q -j 0 backend/src libs/redaction/src backend/tests/support >/dev/null
	touch $@

bot/.venv/.synced: bot/pyproject.toml bot/uv.lock | $(UV)
	@echo "==> bot environment (Python 3.10 for Rasa 3.6.21, from bot/uv.lock)"
	cd bot && ../$(UV) sync --frozen --compile-bytecode --python "$$(../scripts/find_python.sh 3.10)"
	bot/.venv/bin/python -m compileall -q -j 0 bot/actions bot/addons libs/redaction/src >/dev/null
	touch $@

# The policy lab's pure core compiled with mypyc (scripts/build_lab_core.py, ~30 s): rebuilt when a
# domain module changes; the lab runs ledger.domain itself whenever the build does not match it
# (or failed: a warning, not an error; the lab's tests then say so).
backend/build/labcore/manifest.json: $(wildcard backend/src/ledger/domain/*.py) backend/src/ledger/services/lab_core.py scripts/build_lab_core.py backend/.venv/.synced
	@echo "==> compiling the policy lab's core with mypyc (backend/build/labcore)"
	@mkdir -p var; backend/.venv/bin/python scripts/build_lab_core.py >var/build-lab-core.log 2>&1 || { \
	  tail -n 20 var/build-lab-core.log; echo "==> warning: the policy lab's core was not compiled (above): the lab runs its Python sources, slower"; }

setup: backend/.venv/.synced bot/.venv/.synced backend/build/labcore/manifest.json

migrate: backend/.venv/.synced
	@$(ENV); echo "==> applying database migrations"; cd backend && .venv/bin/ledger migrate

seed: migrate
	@$(ENV); echo "==> seeding the demo portfolio (idempotent)"; cd backend && .venv/bin/ledger seed-demo
	@$(ENV); echo "==> demo agent desk accounts: supervisor, agent1, analyst1 (password in .env.local)"; cd backend && \
	  GATEWAY_AGENT_PASSWORD="$$DESK_DEMO_PASSWORD" .venv/bin/python -m gateway create-agent supervisor --role supervisor >/dev/null && \
	  GATEWAY_AGENT_PASSWORD="$$DESK_DEMO_PASSWORD" .venv/bin/python -m gateway create-agent agent1 --role agent >/dev/null && \
	  GATEWAY_AGENT_PASSWORD="$$DESK_DEMO_PASSWORD" .venv/bin/python -m gateway create-agent analyst1 --role analyst >/dev/null

train: bot/.venv/.synced
	@scripts/train.sh >/dev/null

run: setup seed
	@scripts/stack.sh run

# Two at a time where the suites share nothing (on 2 cores the backend suite leaves most of one
# free): the two environments and the lab's core; then the backend suite beside lint and the bot
# tests (each one's output printed whole when it ends). Rasa, end-to-end, faults and multi: alone.
test:
	@$(MAKE) --no-print-directory -j2 --output-sync=target setup
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-backend lint-and-bot
	@$(MAKE) --no-print-directory test-rasa test-e2e test-faults test-multi
	@echo "==> all test suites passed"

lint-and-bot:
	@$(MAKE) --no-print-directory lint test-bot

lint: setup
	@scripts/lint.sh

test-backend: backend/.venv/.synced backend/build/labcore/manifest.json
	@$(ENV); echo "==> backend tests (domain, API on SQLite and PostgreSQL, gateway)"; \
	  cd backend && .venv/bin/python -m pytest -q tests ../tests/deploy ../libs/redaction/tests

test-bot: bot/.venv/.synced
	@$(ENV); echo "==> bot action and parser tests"; \
	  cd bot && HOME="$$RASA_HOME_DIR" .venv/bin/python -m pytest -q ../tests/bot

test-rasa: bot/.venv/.synced backend/.venv/.synced
	@scripts/rasa_tests.sh

test-e2e: setup browser-deps
	@scripts/e2e.sh

test-faults: setup train
	@echo "==> fault tests: kill -9 the action server, Rasa, the ledger mid-conversation; restart PostgreSQL under load"; \
	  scripts/faults.sh

test-multi: setup train
	@$(ENV); echo "==> two Rasa instances: Redis lock store, SQL tracker store on PostgreSQL, gateway in front"; \
	  HUANXIN_MULTI_RASA=1 backend/.venv/bin/python -m pytest -q -p no:cacheprovider tests/multi

browser-deps:
	@if [ ! -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then \
	  echo "==> installing Debian's chromium for the browser tests (no browser download by test tools)"; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk; \
	fi

# The release report (docs/release-check.md): the working tree against BASE (a git ref, default HEAD,
# or an NLU model file). The base's NLU is trained and evaluated (cached in var/release-check-cache)
# unless NLU_BASE=<results.json of the base> is given; NLU_TRAIN=0 trains nothing. Not part of `make test`.
release-check: backend/.venv/.synced
	@$(ENV); echo "==> release check against $(or $(BASE),HEAD)"; cd backend && .venv/bin/ledger release-check \
	  --base "$(if $(filter %.tar.gz,$(BASE)),$(abspath $(BASE)),$(or $(BASE),HEAD))" \
	  $(if $(NLU_BASE),--nlu-base "$(abspath $(NLU_BASE))") $(if $(filter 0,$(NLU_TRAIN)),--no-nlu-train) \
	  $(if $(POLICY),--policy "$(abspath $(POLICY))") $(if $(filter 1,$(BENCH)),--bench)

bench: setup
	@scripts/bench.sh

clean:
	rm -rf var bot/models bot/results .home backend/build
