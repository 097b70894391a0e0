"""Review and annotation (pure: ledger/domain/review.py): the transcript an analyst reads
(identity answers shown as such, identity numbers masked, every message's intent and
confidence, every bot turn's actions), the review state and lines (the filters run in the
database: tests/analytics/test_review_query.py), and the export of corrected
intents as Rasa NLU training data (valid YAML in the bot's layout, no identity data, no
duplicates)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from huanxin_redaction import IDENTITY_ANSWER, MASK
from huanxin_testkit.stream_events import Conv
from ledger.domain.review import (
    INTENTS,
    Annotation,
    exportable_examples,
    rasa_nlu_yaml,
    review_entry,
    review_marks,
    transcript,
)

REPO = Path(__file__).resolve().parents[3]


def said(conv: Conv, intent: str, text: str, confidence: float = 0.9) -> Conv:
    conv.user(intent, confidence)
    conv.events[-1]["text"] = text
    conv.events[-1]["parse_data"]["text"] = text
    return conv


def identity_conversation() -> Conv:
    c = Conv("rv-1")
    said(c, "ask_overdue_status", "how much do I owe")
    c.action("verification_form").slot("requested_slot", "identity_phone")
    said(c, "inform", "13800000001")  # an identity answer the store missed: shown as such anyway
    c.slot("identity_phone", "13800000001")
    c.slot("requested_slot", "identity_dob")
    said(c, "inform", MASK)  # what the tracker store keeps of an identity answer
    c.slot("requested_slot", None)
    c.slot("verified", True)
    c.action("action_show_overdue_status").bot("status_overdue")
    c.events[-1]["text"] = "Your number 13912345678 is on file; you owe 1,200.00"
    said(c, "nlu_fallback", "my id is 110101199003151234 and I cannot pay", 0.2)
    c.gateway("agent_message", agent="a1", text="call me at 13700000000")
    return c


def test_the_transcript_never_shows_an_identity_answer_or_number():
    view = transcript("rv-1", identity_conversation().events)
    text = repr(view)
    for secret in ("13800000001", "13912345678", "110101199003151234", "13700000000", "1990"):
        assert secret not in text
    users = [m for m in view["messages"] if m["kind"] == "user"]
    assert [m["text"] for m in users[:3]] == ["how much do I owe", IDENTITY_ANSWER, IDENTITY_ANSWER]
    assert users[1]["identity_answer"] and not users[0]["identity_answer"]
    assert users[3]["text"] == f"my id is {MASK} and I cannot pay"
    assert [m["turn"] for m in users] == [1, 2, 3, 4]
    assert users[3]["intent"] == "nlu_fallback" and users[3]["confidence"] == 0.2
    bot = next(m for m in view["messages"] if m["kind"] == "bot")
    assert bot["text_key"] == "status_overdue" and bot["actions"] == ["action_show_overdue_status"]
    assert "1,200.00" in bot["text"]  # amounts stay readable
    agent = view["messages"][-1]
    assert agent["kind"] == "agent" and agent["text"] == f"call me at {MASK}"


def test_annotations_are_shown_on_their_message():
    events = identity_conversation().events
    first = events[0]["huanxin_event_id"]
    note = Annotation(
        "rv-1", first, "ask_fees", "wrong_intent", "meant fees", False, "ana", datetime(2026, 11, 2, tzinfo=UTC)
    )
    view = transcript("rv-1", events, [note])
    assert view["messages"][0]["annotation"]["intent"] == "ask_fees"
    assert view["messages"][0]["annotation"]["tag"] == "wrong_intent"


def test_review_state_from_annotations():
    when = datetime(2026, 11, 2, tzinfo=UTC)
    later = datetime(2026, 11, 3, tzinfo=UTC)
    notes = [
        Annotation("c1", None, None, "callback", None, True, "ana", when),
        Annotation("c1", None, None, None, None, False, "ana", later),  # unmarked later: the latest counts
        Annotation("c1", "e1", "ask_fees", "wrong_intent", None, False, "ana", later),  # a message's: no say
        Annotation("c2", None, None, None, "fine", True, "bo", when),
    ]
    marks = review_marks(notes)
    assert marks["c1"] == {"reviewed": False, "tags": ["callback", "wrong_intent"], "annotations": 3}
    assert marks["c2"]["reviewed"] is True


def test_a_review_line():
    row = {"conversation_id": "c1", "started_at": datetime(2026, 11, 2, tzinfo=UTC), "languages": ["en"],
           "channel": "web", "turns": 3, "escalated": None}  # fmt: skip
    line = review_entry(row, {"reviewed": True, "tags": ["x"]})
    assert line["language"] == "en" and line["started_at"] == "2026-11-02T00:00:00+00:00"
    assert line["escalated"] is False and line["reviewed"] is True and line["tags"] == ["x"]


def example(event_id, text, intent, language="zh", identity=False):
    return {"event_id": event_id, "text": text, "intent": intent, "language": language, "identity_answer": identity}


def test_the_export_is_rasa_nlu_yaml_without_identity_data_or_duplicates():
    examples = [
        example("e1", "我下个月才能还", "promise_to_pay"),
        example("e2", "我下个月才能还！", "promise_to_pay"),  # the same text once normalised
        example("e3", "13800000001", "inform", identity=True),
        example("e4", MASK, "inform"),
        example("e5", f"my phone is {MASK}", "inform", "en"),
        example("e6", "call 13912345678", "request_human", "en"),  # the mask would change it: left out
        example("e7", '/inform{"choice":"deferral"}', "inform"),  # a button payload
        example("e8", "可以减免吗", "request_fee_waiver"),
        example("e9", "可以减免吗", "request_payment_plan"),  # one text, two intents: left out
        example("e10", "  what about\nthe fees: 100% ", "ask_fees", "en"),
        example("e11", "hi", "not_an_intent", "en"),
    ]
    chosen = exportable_examples(examples)
    assert chosen["left_out"] == {
        "identity": 4,
        "duplicate": 1,
        "conflict": 2,
        "payload": 1,
        "unknown_intent": 1,
        "in_training": 0,
    }
    zh = rasa_nlu_yaml(chosen["examples"]["zh"])
    en = rasa_nlu_yaml(chosen["examples"]["en"])
    for doc in (zh, en):
        for secret in ("13800000001", "13912345678", MASK, IDENTITY_ANSWER):
            assert secret not in doc
    parsed = yaml.safe_load(zh)
    assert parsed["version"] == "3.1"
    assert parsed["nlu"] == [{"intent": "promise_to_pay", "examples": "- 我下个月才能还\n"}]
    parsed_en = yaml.safe_load(en)
    assert parsed_en["nlu"] == [{"intent": "ask_fees", "examples": "- what about the fees: 100%\n"}]


def test_the_export_reads_like_the_bots_training_files():
    """Same layout as bot/data/nlu/*/*.yml: version, nlu, intent blocks with `examples: |`."""
    chosen = exportable_examples([example("e1", "how much is the late fee", "ask_fees", "en")])
    doc = rasa_nlu_yaml(chosen["examples"]["en"])
    assert doc.startswith('version: "3.1"\n')
    assert "- intent: ask_fees\n  examples: |\n    - how much is the late fee\n" in doc
    shipped = yaml.safe_load((REPO / "bot/data/nlu/en/hardship.yml").read_text(encoding="utf-8"))
    assert set(shipped) == set(yaml.safe_load(doc))


def test_the_intents_are_the_bots_contract():
    contract = yaml.safe_load((REPO / "bot/domain/intents.yml").read_text(encoding="utf-8"))["intents"]
    assert set(INTENTS) == set(contract)


def test_the_borrowers_rating_shows_in_the_transcript_and_the_review_line():
    from ledger.domain.review import transcript

    conv = Conv("rated").user("goodbye").gateway("csat", score=4).gateway("csat", score=9)
    desk = [m for m in transcript("rated", conv.events)["messages"] if m["kind"] == "desk"]
    assert [(m["name"], m.get("score")) for m in desk] == [("csat", 4), ("csat", None)]  # 9 is no score
    line = review_entry({"conversation_id": "rated", "csat": 4}, {})
    assert line["csat"] == 4
