"""The bot's texts per key and language (ledger/bot_texts.json), for the insights funnel.

The file is generated from the bot (bot/actions/texts.py and the utter_ responses of
bot/domain/responses.yml) by scripts/insights_bot_texts.py; `make test-bot` checks it is current.
The ledger cannot import the bot, and the stream's bot texts carry borrowers' figures.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

BOT_TEXTS_FILE = Path(__file__).resolve().parent / "bot_texts.json"


@functools.cache
def bot_texts() -> dict[str, dict[str, str]]:
    loaded = json.loads(BOT_TEXTS_FILE.read_text(encoding="utf-8"))
    return {str(key): {str(lang): str(text) for lang, text in entry.items()} for key, entry in loaded.items()}
