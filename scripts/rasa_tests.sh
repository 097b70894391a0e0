#!/usr/bin/env bash
# Rasa-level tests: data validation, test stories (rasa test core) and the NLU gate
# (intent macro-F1 on the held-out split must be >= 0.93 in each language).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
model=$(scripts/train.sh | tail -n1)
cd bot
export HOME="$RASA_HOME_DIR" TMPDIR="$RASA_HOME_DIR/tmp"
echo "==> NLU data checks (intents match the domain, >= 40 examples, no held-out text in training)"
.venv/bin/python -m pytest -q -p no:cacheprovider nlu_eval/tests
echo "==> rasa data validate"
.venv/bin/rasa data validate --domain domain --data data --config config.yml --fail-on-warnings
echo "==> rasa test core (test stories in bot/tests)"
rm -rf results/core
.venv/bin/rasa test core --model "$model" --stories tests --out results/core --fail-on-prediction-errors
echo "==> NLU evaluation on the held-out split (gate: macro-F1 >= 0.93 per language)"
.venv/bin/python nlu_eval/evaluate.py --model "$model" --threshold 0.93
echo "==> the release check trains and evaluates a base's NLU itself (tests/release; two rasa train nlu, a few minutes)"
cd ..
backend/.venv/bin/python -m pytest -q -p no:cacheprovider tests/release
