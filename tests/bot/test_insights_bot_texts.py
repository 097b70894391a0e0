"""The ledger's copy of the bot's texts (backend/src/ledger/bot_texts.json, read by the insights
funnel) is what scripts/insights_bot_texts.py writes from the bot now: a text changed in
bot/actions/texts.py or bot/domain/responses.yml without regenerating the copy fails here."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("insights_bot_texts", ROOT / "scripts" / "insights_bot_texts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_ledgers_copy_is_current():
    script = _script()
    assert script.main(["--check"]) == 0, "run: bot/.venv/bin/python scripts/insights_bot_texts.py"


def test_every_text_and_response_is_in_both_languages():
    from actions.texts import T

    copy = json.loads((ROOT / "backend" / "src" / "ledger" / "bot_texts.json").read_text(encoding="utf-8"))
    assert set(T) <= set(copy) and "utter_greet" in copy
    assert copy["status_overdue"] == T["status_overdue"]
    assert copy["utter_greet"]["en"].startswith("Hello") and copy["utter_greet"]["zh"].startswith("您好")
