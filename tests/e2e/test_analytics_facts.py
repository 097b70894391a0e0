"""Analytics through the real stack: Rasa's event broker (the SQL stream of HUANXIN_EVENTS_DB)
receives the conversation redacted, and the stack's consumer (ledger consume-events) keeps the
conversation's facts row in the ledger's database."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from stack_helpers.e2e_stack import DEMO, conversation_facts


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def test_a_verified_conversation_that_asks_for_a_person_has_its_facts(chat, database_url):
    who = DEMO["D5"]
    c = chat()
    answer = c.verify(who, "how much do I owe?")
    assert who.name in answer
    c.say("I want to talk to a person")

    row = conversation_facts(database_url, c.sender, ready=lambda r: r["escalated"])
    assert row is not None, "no facts row for the conversation"
    assert row["escalated"], row
    assert row["verified"] and row["verification"] == "verified", row
    assert row["furthest_step"] == "status_explained", row
    assert row["escalation_reason"] == "request_human", row
    assert row["turns"] == 5, row  # the question, three identity answers, the request
    assert row["channel"] == "rest" and "en" in _json(row["languages"]), row
    intents = [i["intent"] for i in _json(row["intents"])]
    assert intents[0] == "ask_overdue_status" and intents[-1] == "request_human", intents
    assert row["last_bot_action"] == "action_request_human", row
    assert row["outcome"] == "none" and not row["handled_by_agent"], row

    path = os.environ.get("HUANXIN_EVENTS_DB")
    if not path:
        pytest.skip("HUANXIN_EVENTS_DB is not set (scripts/e2e.sh sets the stack's event stream)")
    with sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (c.sender,)).fetchall()
    stream = "\n".join(data for (data,) in rows)
    assert rows and "how much do I owe?" in stream  # the conversation is on the stream...
    for secret in (who.phone, who.dob, '"' + who.id_last4 + '"'):
        assert secret not in stream, f"{secret} left Rasa"  # ...without the identity answers
