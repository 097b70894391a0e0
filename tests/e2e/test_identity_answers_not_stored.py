"""Privacy through the real stack: after a verification, Rasa's tracker store (the SQLite file
of RASA_TRACKER_DB) holds none of the identity answers of that conversation, while the
conversation stays usable (its intents and the bot's answers are there)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from stack_helpers.e2e_stack import DEMO


def test_tracker_store_holds_no_phone_birth_date_or_id_digits(chat, ledger):
    path = os.environ.get("RASA_TRACKER_DB")
    if not path:
        pytest.skip("RASA_TRACKER_DB is not set (scripts/e2e.sh sets the stack's tracker store)")
    who = DEMO["D5"]
    c = chat()
    answer = c.verify(who, "我欠多少钱")
    assert who.name in answer

    with sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (c.sender,)).fetchall()
    assert rows, "the conversation is not in the tracker store"
    stored = "\n".join(data for _, data in rows)
    for secret in (who.phone, who.dob, "1995年1月9日"):
        assert secret not in stored, f"{secret} is stored in the tracker"
    user_texts = [json.loads(data).get("text") for kind, data in rows if kind == "user"]
    assert who.id_last4 not in user_texts and who.phone not in user_texts
    assert "我欠多少钱" in user_texts  # the conversation itself is kept
    bot_texts = [json.loads(data).get("text") or "" for kind, data in rows if kind == "bot"]
    assert any(who.name in t for t in bot_texts)
