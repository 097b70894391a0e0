"""The facts as a table for CSV (pure: ledger/domain/facts_table.py): every value a string, no
identity data, one row per conversation in the selection."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.domain.facts_table import COLUMNS, facts_table
from ledger.domain.insights import Filters


def row(conversation, **extra):
    base = {
        "conversation_id": conversation,
        "gateway_conversation_id": "g-1",
        "channel": "web",
        "languages": ["zh", "en"],
        "started_at": datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        "ended_at": datetime(2026, 11, 2, 9, 41, tzinfo=UTC),
        "turns": 7,
        "verified": True,
        "verification": "verified",
        "intents": [{"intent": "inform", "confidence": 0.99}],
        "low_confidence": 0.41234,
        "fallbacks": 1,
        "furthest_step": "committed",
        "escalated": False,
        "escalation_reason": None,
        "handled_by_agent": True,
        "agents": ["li.na"],
        "outcome": "arrangement",
        "outcomes": ["arrangement", "promise"],
        "plan_type": "deferral",
        "agent_outcome": None,
        "csat": 5,
        "last_bot_action": "action_goodbye",
        "last_bot_text_key": "plan_accepted",
        "last_intent": "goodbye",
        "said_goodbye": True,
    }
    return {**base, **extra}


NOV = Filters(date(2026, 11, 1), date(2026, 11, 30), group="all")


def test_every_value_is_text_in_a_fixed_column_order():
    header, rows = facts_table([row("c1")], NOV)
    assert header == list(COLUMNS)
    values = dict(zip(header, rows[0], strict=True))
    assert all(isinstance(v, str) for v in rows[0])
    assert values["conversation_id"] == "c1"
    assert values["language"] == "zh" and values["languages"] == "zh en"
    assert values["started_at"] == "2026-11-02T09:30:00+00:00"
    assert values["duration_seconds"] == "660"
    assert values["verified"] == "true" and values["escalated"] == "false"
    assert values["low_confidence"] == "0.4123"
    assert values["outcomes"] == "arrangement promise" and values["escalation_reason"] == ""
    assert values["csat"] == "5"


def test_no_intent_texts_or_identity_columns():
    header, _ = facts_table([row("c1")], NOV)
    assert "intents" not in header  # per-message detail stays in the review
    assert not {"phone", "national_id", "borrower_id", "name", "text"} & set(header)


def test_the_selection_follows_the_filters():
    rows = [row("c1"), row("c2", languages=["en"]), row("c3", started_at=datetime(2026, 12, 2, tzinfo=UTC))]
    _, selected = facts_table(rows, NOV)
    assert [r[0] for r in selected] == ["c1", "c2"]
    _, english = facts_table(rows, Filters(date(2026, 11, 1), date(2026, 11, 30), language="en"))
    assert [r[0] for r in english] == ["c2"]


def test_a_value_a_spreadsheet_would_run_is_quoted():
    _, rows = facts_table([row("=HYPERLINK(1)", channel="@x")], NOV)
    assert rows[0][0] == "'=HYPERLINK(1)" and rows[0][2] == "'@x"
