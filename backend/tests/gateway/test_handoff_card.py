"""The hand-off card an agent sees at the top of an escalated conversation: why it was
escalated, the case number, the borrower's language, verified or not, each loan's line
(overdue, DPD, next due, open dispute / promise / arrangement) and the summary so far, all
through the ledger's door; never an identity answer, a phone or a national ID in clear."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from huanxin_testkit.gw_helpers import Widget, desk_for
from ledger.db import models as m
from ledger.services import escalations, verification
from ledger.services.context import Ledger

D1_PHONE, D1_DOB, D1_LAST4 = "13800000001", date(1990, 3, 15), "4321"


async def verified_and_escalated(client, ledger: Ledger, summary: str) -> Widget:
    """D1 verifies in the widget's conversation, the bot files an escalation, then hands off."""
    widget = await Widget.open(client)
    await widget.send("hello", "m0")
    session = await verification.verify(
        ledger, conversation_id=widget.conversation_id, phone=D1_PHONE, date_of_birth=D1_DOB, id_last4=D1_LAST4
    )
    await escalations.escalate(
        ledger,
        conversation_id=widget.conversation_id,
        reason="request_human",
        summary=summary,
        language="zh",
        token=session.token,
    )
    await widget.send("I want a human", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    return widget


async def test_the_card_shows_why_case_language_verification_loans_and_summary(ledger_gateway):
    client, ledger, _, _ = ledger_gateway
    widget = await verified_and_escalated(client, ledger, "borrower lost her job; asks for a lower payment")
    desk = await desk_for(client, "li.na")
    resp = await desk.view(widget.conversation_id)
    assert resp.status == 200
    card = (await resp.json())["handoff"]
    assert card["reason"] == "request_human"
    assert card["escalated_at"] is not None
    assert card["case_number"].startswith("ESC-") and len(card["case_number"].split("-")[2]) == 6
    assert card["language"] == "zh"  # the borrower's language on record (the widget chats in en)
    assert card["conversation_language"] == "en"
    assert card["verified"] is True
    assert card["summary"] == "borrower lost her job; asks for a lower payment"
    assert card["borrower_messages"] == 2
    assert card["last_borrower_messages"] == ["hello", "I want a human"]
    assert card["stop_contact"] is False
    (loan,) = card["loans"]
    assert loan["loan_number"] == "HX0000000001"
    assert loan["days_past_due"] == 15 and loan["bucket"] == "M1"
    assert isinstance(loan["overdue_total"], str) and loan["overdue_total"] != "0.00"
    assert set(loan["next_due"]) == {"due_date", "amount"}
    assert loan["open_dispute"] is None and loan["open_promise"] is None and loan["active_arrangement"] is None


async def test_open_dispute_promise_and_arrangement_flags(ledger_gateway):
    """D7's loan has an open dispute (the demo portfolio): its line names the case and reply date."""
    client, ledger, sessions, ids = ledger_gateway
    widget = await Widget.open(client)
    async with sessions() as s, s.begin():
        s.add(
            m.Escalation(
                conversation_id=widget.conversation_id,
                borrower_id=ids["D7"],
                case_number="ESC-2026-000777",
                reason="dispute",
                summary="says the amount is wrong",
                language="zh",
                status="open",
                created_at=datetime.now(UTC),
            )
        )
    await widget.send("I want a human", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    desk = await desk_for(client, "li.na")
    card = (await (await desk.view(widget.conversation_id)).json())["handoff"]
    assert card["case_number"] == "ESC-2026-000777"
    assert card["verified"] is False  # linked by the escalation, never verified in this conversation
    assert card["loans"][0]["open_dispute"]["case_number"].startswith("DSP-")
    assert set(card["loans"][0]["open_dispute"]) == {"case_number", "reply_due_by"}


async def test_no_identity_answer_phone_or_national_id_in_the_card(ledger_gateway):
    """A summary the bot wrote with a phone or an ID number in it is masked on the way out too,
    and nothing of the borrower's record but the name and language crosses the door."""
    client, ledger, sessions, ids = ledger_gateway
    widget = await verified_and_escalated(client, ledger, "call me")
    async with sessions() as s, s.begin():  # a row written before summaries were masked
        s.add(
            m.Escalation(
                conversation_id=widget.conversation_id,
                borrower_id=ids["D1"],
                case_number="ESC-2026-000999",
                reason="request_human",
                summary="call me on 13800000001, ID 110101199003154321",
                language="zh",
                status="open",
                created_at=datetime.now(UTC) + timedelta(seconds=1),
            )
        )
    desk = await desk_for(client, "li.na")
    view = await (await desk.view(widget.conversation_id)).json()
    card = view["handoff"]
    assert card["case_number"] == "ESC-2026-000999"  # the latest escalation
    text = json.dumps(view, ensure_ascii=False)
    for secret in (D1_PHONE, "110101199003154321", "1990-03-15", "4321"):
        assert secret not in json.dumps(card, ensure_ascii=False)
    assert D1_PHONE not in text and "110101199003154321" not in text
    assert "borrower_id" not in card and "national_id" not in text


async def test_a_conversation_the_ledger_does_not_know_still_has_a_card(gateway_client):
    """No borrower linked: the card has the reason and the gateway's summary, nothing from the ledger."""
    widget = await Widget.open(gateway_client)
    await widget.send("I want a human", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    desk = await desk_for(gateway_client, "li.na")
    card = (await (await desk.view(widget.conversation_id)).json())["handoff"]
    assert card["reason"] == "request_human"
    assert card["case_number"] is None and card["loans"] == [] and card["verified"] is None
    assert card["language"] == "en" and card["borrower_messages"] == 1


async def test_a_live_bot_conversation_has_no_card(gateway_client):
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    desk = await desk_for(gateway_client, "li.na")
    assert (await (await desk.view(widget.conversation_id)).json())["handoff"] is None
