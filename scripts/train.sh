#!/usr/bin/env bash
# Trains the Rasa model when config, domain or training data changed, and only then.
# The model is named after a hash of its inputs, so an unchanged bot reuses the model on disk.
# Prints the model's path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
cd bot
sources=(); for p in config.yml domain domain.yml data; do [ -e "$p" ] && sources+=("$p"); done
inputs=$(find "${sources[@]}" -type f \( -name '*.yml' -o -name '*.yaml' \) 2>/dev/null | LC_ALL=C sort)
hash=$( { cat pyproject.toml; for f in $inputs; do echo "== $f"; cat "$f"; done; } | sha256sum | cut -c1-16)
model="models/huanxin-$hash.tar.gz"
if [ -f "$model" ]; then
  echo "==> Rasa model is up to date ($model)" >&2
else
  echo "==> training the Rasa model (config, domain or data changed; takes a few minutes)" >&2
  start=$(date +%s)
  domain_arg=domain; [ -d domain ] || domain_arg=domain.yml
  HOME="$RASA_HOME_DIR" TMPDIR="$RASA_HOME_DIR/tmp" .venv/bin/rasa train --domain "$domain_arg" \
    --config config.yml --data data --out models --fixed-model-name "huanxin-$hash" >&2
  echo "==> trained in $(( $(date +%s) - start )) s: $model" >&2
fi
echo "$PWD/$model"
