"""Structured actions from the desk (gateway/desk_actions.py).

Relief plans: the agent evaluates the plans of the borrower's loan through the
ledger's engine, sends one as a card in the web chat, the borrower accepts it there and the
ledger makes the arrangement after checking it again. Bad input (a loan in dispute, a
conversation not the agent's or closed, an unknown plan, a plan not offered, an expired or
re-used card) gets a clear 4xx and changes nothing.

Payment traces: the borrower says they paid and the ledger does not show it; the ledger opens
the trace (case TRC-...) by its own rules, audited as the agent; bad input opens nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from gateway.db import DeskPlanCard
from huanxin_testkit.gw_helpers import Widget, agent_desk, desk_for
from ledger.db import models as m
from ledger.services import loans, verification
from ledger.services.context import Ledger

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
D1 = ("13800000001", date(1990, 3, 15), "4321", "HX0000000001")
D4 = ("13800000004", date(1992, 6, 21), "3456", "HX0000000004")
D7 = ("13800000007", date(1980, 12, 5), "1357", "HX0000000007")  # the demo loan with an open dispute
HARDSHIP = {
    "reason": "job_loss",
    "duration": "temporary",
    "monthly_income": Decimal("8000.00"),
    "essential_expenses": Decimal("3000.00"),
    "other_debt_payments": Decimal("500.00"),
}


async def verified_widget(client, ledger: Ledger, who=D1, hardship: bool = True) -> Widget:
    """A web chat whose borrower verified and (``hardship``) gave hardship answers, then asked for a person."""
    widget = await Widget.open(client)
    result = await verification.verify(
        ledger, conversation_id=widget.conversation_id, phone=who[0], date_of_birth=who[1], id_last4=who[2]
    )
    if hardship:
        await loans.open_hardship_case(
            ledger, token=result.token, conversation_id=widget.conversation_id, loan_number=who[3], notes=None,
            **HARDSHIP,
        )  # fmt: skip
    await widget.send("I want a human", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    return widget


async def arrangements(sessions, loan_number: str = "HX0000000001") -> int:
    async with sessions() as s:
        return (
            await s.execute(
                select(func.count())
                .select_from(m.Arrangement)
                .join(m.Loan, m.Loan.id == m.Arrangement.loan_id)
                .where(m.Loan.loan_number == loan_number)
            )
        ).scalar_one()


async def cards(sessions) -> list[DeskPlanCard]:
    async with sessions() as s:
        return list((await s.execute(select(DeskPlanCard))).scalars())


async def ledger_audit(sessions, action: str) -> list[m.AuditEntry]:
    async with sessions() as s:
        return list((await s.execute(select(m.AuditEntry).where(m.AuditEntry.action == action))).scalars())


def accept(client, widget: Widget, card_id: str, token: str | None = None):
    return client.post(
        f"/api/chat/conversations/{widget.conversation_id}/plan-cards/{card_id}/accept",
        headers={"X-Client-Token": token if token is not None else widget.token},
    )


async def evaluated_and_sent(client, ledger, sessions, plan_type: str | None = None):
    widget = await verified_widget(client, ledger)
    desk = await desk_for(client, "li.na")
    cid = widget.conversation_id
    await desk.take(cid)
    resp = await desk.post(f"/desk/api/conversations/{cid}/plans/evaluate", {"loan_number": "HX0000000001"})
    assert resp.status == 200, await resp.text()
    evaluation = await resp.json()
    eligible = [p["plan_type"] for p in evaluation["plans"] if p["eligible"]]
    chosen = plan_type or eligible[0]
    resp = await desk.post(
        f"/desk/api/conversations/{cid}/plans/send", {"loan_number": "HX0000000001", "plan_type": chosen}
    )
    assert resp.status == 201, await resp.text()
    return widget, desk, evaluation, await resp.json()


async def test_a_plan_sent_from_the_desk_is_accepted_in_the_chat(ledger_gateway, audit):
    client, ledger, sessions, _ = ledger_gateway
    widget, desk, evaluation, sent = await evaluated_and_sent(client, ledger, sessions)
    assert evaluation["loan_number"] == "HX0000000001"
    offered = [p for p in evaluation["plans"] if p["offer"]]
    assert offered and all("offer_id" not in p["offer"] for p in offered)  # no ledger ids on the desk
    assert "evaluation_id" not in evaluation
    (made,) = await ledger_audit(sessions, "offers_made")
    assert made.actor == "agent:li.na"
    # the card in the borrower's chat: one button carrying the card and its id
    card_msg = await widget.wait_for(lambda e: e["type"] == "message" and e.get("buttons"))
    (button,) = card_msg["buttons"]
    assert button["card"]["desk_card"] == sent["card_id"] and button["card"]["rows"]
    assert card_msg["sender"] == "agent" and card_msg["sender_name"]
    assert sent["total_to_repay"] in card_msg["text"]
    assert await arrangements(sessions) == 0
    resp = await accept(client, widget, sent["card_id"])
    assert resp.status == 201, await resp.text()
    accepted = await resp.json()
    assert accepted["arrangement"]["plan_type"] == sent["plan_type"]
    assert accepted["arrangement"]["total_to_repay"] == sent["total_to_repay"]
    assert await arrangements(sessions) == 1
    (ok,) = await ledger_audit(sessions, "offer_accepted")
    assert ok.actor.startswith("borrower:") and ok.detail["plan_type"] == sent["plan_type"]
    (card,) = await cards(sessions)
    assert card.status == "accepted" and card.decided_at is not None
    await widget.wait_for(
        lambda e: e["type"] == "message" and sent["total_to_repay"] in e["text"] and e["sender"] == "system"
    )
    actions = [a for _, a, _, _ in audit.entries]
    assert "desk.plans_evaluated" in actions and "desk.plan_sent" in actions
    # twice: refused, still one arrangement
    again = await accept(client, widget, sent["card_id"])
    assert again.status == 409 and (await again.json())["code"] == "offer_already_accepted"
    assert await arrangements(sessions) == 1
    # the loan has an arrangement now: no other plan can be sent
    other = await desk.post(
        f"/desk/api/conversations/{widget.conversation_id}/plans/send",
        {"loan_number": "HX0000000001", "plan_type": sent["plan_type"]},
    )
    assert other.status == 409 and (await other.json())["code"] == "arrangement_exists"


async def test_the_same_offer_is_sent_as_one_card(ledger_gateway, audit):
    """A second send of a plan whose offer already sits in the chat as a card is refused (409
    card_already_sent, naming the card's message) and adds no card, no line and no audit entry;
    a new evaluation makes a new offer, which may be sent."""
    client, ledger, sessions, _ = ledger_gateway
    widget, desk, evaluation, sent = await evaluated_and_sent(client, ledger, sessions)
    cid, body = widget.conversation_id, {"loan_number": "HX0000000001", "plan_type": sent["plan_type"]}
    lines = len((await (await desk.view(cid)).json())["messages"])
    again = await desk.post(f"/desk/api/conversations/{cid}/plans/send", body)
    assert again.status == 409, await again.text()
    problem = await again.json()
    assert problem["code"] == "card_already_sent" and problem["seq"] == sent["seq"]
    assert len(await cards(sessions)) == 1
    assert len((await (await desk.view(cid)).json())["messages"]) == lines
    assert [a for _, a, _, _ in audit.entries].count("desk.plan_sent") == 1
    # evaluated again: a new offer, a new card; the old one is refused when chosen
    resp = await desk.post(f"/desk/api/conversations/{cid}/plans/evaluate", {"loan_number": "HX0000000001"})
    assert resp.status == 200, await resp.text()
    fresh = await desk.post(f"/desk/api/conversations/{cid}/plans/send", body)
    assert fresh.status == 201, await fresh.text()
    assert (await fresh.json())["card_id"] != sent["card_id"] and len(await cards(sessions)) == 2


async def test_a_loan_in_dispute_gets_no_plan(ledger_gateway):
    client, ledger, sessions, _ = ledger_gateway
    widget = await verified_widget(client, ledger, D7)
    desk = await desk_for(client, "li.na")
    cid = widget.conversation_id
    await desk.take(cid)
    loan = (await (await desk.view(cid)).json())["handoff"]["loans"][0]["loan_number"]
    evaluation = await (await desk.post(f"/desk/api/conversations/{cid}/plans/evaluate", {"loan_number": loan})).json()
    assert not any(p["eligible"] for p in evaluation["plans"])
    resp = await desk.post(f"/desk/api/conversations/{cid}/plans/send", {"loan_number": loan, "plan_type": "deferral"})
    assert resp.status == 409
    problem = await resp.json()
    assert problem["code"] == "dispute_open" and "dispute" in problem["detail"]
    assert await cards(sessions) == [] and await arrangements(sessions, loan) == 0


async def test_a_dispute_opened_after_the_card_was_sent_stops_the_acceptance(ledger_gateway):
    client, ledger, sessions, _ = ledger_gateway
    widget, _, _, sent = await evaluated_and_sent(client, ledger, sessions)
    result = await verification.verify(
        ledger, conversation_id="other-chat", phone=D1[0], date_of_birth=D1[1], id_last4=D1[2]
    )
    await loans.open_dispute(
        ledger, token=result.token, conversation_id="other-chat", loan_number="HX0000000001",
        reason="amount is wrong", details=None,
    )  # fmt: skip
    resp = await accept(client, widget, sent["card_id"])
    assert resp.status == 409 and (await resp.json())["code"] == "dispute_open"
    assert await arrangements(sessions) == 0
    assert [c.status for c in await cards(sessions)] == ["sent"]


async def test_a_plan_no_longer_eligible_is_refused_at_acceptance(ledger_gateway):
    client, ledger, sessions, _ = ledger_gateway
    widget, _, _, sent = await evaluated_and_sent(client, ledger, sessions)
    # the loan is paid off meanwhile: nothing is owed, no plan is eligible any more
    result = await verification.verify(
        ledger, conversation_id="other-chat", phone=D1[0], date_of_birth=D1[1], id_last4=D1[2]
    )
    status = await loans.loan_status(
        ledger, token=result.token, conversation_id="other-chat", loan_number="HX0000000001", as_of=None
    )
    await loans.record_payment(
        ledger,
        loan_number="HX0000000001",
        external_ref="PAYOFF-1",
        amount=Decimal(status["payoff_amount"]),
        received_on=TODAY,
        channel="bank_transfer",
    )
    resp = await accept(client, widget, sent["card_id"])
    assert resp.status == 409, await resp.text()
    problem = await resp.json()
    assert problem["code"] == "offer_not_eligible" and "no longer eligible" in problem["detail"]
    assert await arrangements(sessions) == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"loan_number": "HX0000000001", "plan_type": "holiday"}, 422, "invalid_request"),  # unknown plan
        ({"loan_number": "HX0000000001", "plan_type": ""}, 422, "invalid_request"),
        ({"loan_number": "HX0000000001", "plan_type": 7}, 422, "invalid_request"),
        ({"loan_number": "HX0000000001"}, 422, "invalid_request"),
        ({"loan_number": "", "plan_type": "deferral"}, 422, "invalid_request"),
        ({"loan_number": "X" * 5000, "plan_type": "deferral"}, 422, "invalid_request"),
        ({"loan_number": ["HX0000000001"], "plan_type": "deferral"}, 422, "invalid_request"),
        ({"loan_number": "HX0000000009", "plan_type": "deferral"}, 404, "not_found"),  # not this borrower's
        ({"loan_number": "HX0000000001", "plan_type": "settlement"}, 409, "plan_not_offered"),
    ],
)
async def test_bad_plan_input_changes_nothing(ledger_gateway, body, status, code):
    client, ledger, sessions, _ = ledger_gateway
    widget = await verified_widget(client, ledger)
    desk = await desk_for(client, "li.na")
    cid = widget.conversation_id
    await desk.take(cid)
    await desk.post(f"/desk/api/conversations/{cid}/plans/evaluate", {"loan_number": "HX0000000001"})
    before = len((await (await desk.view(cid)).json())["messages"])
    resp = await desk.post(f"/desk/api/conversations/{cid}/plans/send", body)
    assert resp.status == status, await resp.text()
    problem = await resp.json()
    assert problem["code"] == code and problem["detail"]
    assert await cards(sessions) == []
    assert len((await (await desk.view(cid)).json())["messages"]) == before


async def test_plans_need_the_conversation_the_borrower_and_the_hardship_answers(ledger_gateway, aiohttp_client):
    client, ledger, sessions, _ = ledger_gateway
    widget = await verified_widget(client, ledger)
    cid = widget.conversation_id
    body = {"loan_number": "HX0000000001"}
    li = await desk_for(client, "li.na")
    wang = await agent_desk(aiohttp_client, client, "wang.wei", "Wang Wei", online=False)
    # not taken: nobody's yet
    assert (await li.post(f"/desk/api/conversations/{cid}/plans/evaluate", body)).status == 403
    await li.take(cid)
    # another agent's conversation: not even seen
    for path in ("plans/evaluate", "plans/send"):
        resp = await wang.post(f"/desk/api/conversations/{cid}/{path}", body | {"plan_type": "deferral"})
        assert resp.status == 404
    await li.close(cid, "resolved")
    resp = await li.post(f"/desk/api/conversations/{cid}/plans/evaluate", body)
    assert resp.status == 409 and "closed" in (await resp.json())["detail"]
    resp = await li.post(f"/desk/api/conversations/{cid}/plans/send", body | {"plan_type": "deferral"})
    assert resp.status == 409 and "closed" in (await resp.json())["detail"]
    assert await ledger_audit(sessions, "offers_made") == [] and await cards(sessions) == []
    # no hardship answers yet
    bare = await verified_widget(client, ledger, D4, hardship=False)
    await li.take(bare.conversation_id)
    resp = await li.post(f"/desk/api/conversations/{bare.conversation_id}/plans/evaluate", {"loan_number": D4[3]})
    assert resp.status == 409 and (await resp.json())["code"] == "no_hardship_case"
    # not verified in this conversation
    unverified = await Widget.open(client)
    await unverified.send("I want a human", "m1")
    await unverified.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    await li.take(unverified.conversation_id)
    resp = await li.post(f"/desk/api/conversations/{unverified.conversation_id}/plans/evaluate", body)
    assert resp.status == 409 and "verified" in (await resp.json())["detail"]
    assert await ledger_audit(sessions, "offers_made") == []


async def test_a_card_is_accepted_only_by_its_chat_and_not_after_close(ledger_gateway):
    client, ledger, sessions, _ = ledger_gateway
    widget, desk, _, sent = await evaluated_and_sent(client, ledger, sessions)
    other = await Widget.open(client)
    assert (await accept(client, widget, sent["card_id"], token="wrong")).status == 403
    assert (await accept(client, other, sent["card_id"])).status == 404  # another chat's card
    assert (await accept(client, widget, "no-such-card")).status == 404
    await desk.close(widget.conversation_id, "resolved")
    resp = await accept(client, widget, sent["card_id"])
    assert resp.status == 409 and "closed" in (await resp.json())["detail"]
    assert await arrangements(sessions) == 0
    assert [c.status for c in await cards(sessions)] == ["sent"]


async def test_an_expired_offer_is_refused(ledger_gateway):
    client, ledger, sessions, _ = ledger_gateway
    widget, _, _, sent = await evaluated_and_sent(client, ledger, sessions)
    async with sessions() as s, s.begin():
        offer = await s.get(m.Offer, (await cards(sessions))[0].offer_id)
        offer.expires_at = datetime.now(ZoneInfo("UTC")) - timedelta(minutes=1)
    resp = await accept(client, widget, sent["card_id"])
    assert resp.status == 410 and (await resp.json())["code"] == "offer_expired"
    assert await arrangements(sessions) == 0


# ---- payment traces ---------------------------------------------------------------------


async def traces(sessions) -> list[m.PaymentTrace]:
    async with sessions() as s:
        return list((await s.execute(select(m.PaymentTrace))).scalars())


def body(**changes):
    return {
        "loan_number": "HX0000000001",
        "paid_on": (TODAY - timedelta(days=2)).isoformat(),
        "amount": "1000.00",
        "reference": "WX20261128001",
        "channel": "wechat_pay",
    } | changes


async def test_an_agent_records_a_payment_trace(ledger_gateway, audit):
    client, ledger, sessions, _ = ledger_gateway
    widget = await verified_widget(client, ledger, D1, hardship=False)
    desk = await desk_for(client, "li.na")
    cid = widget.conversation_id
    assert (await desk.post(f"/desk/api/conversations/{cid}/payment-trace", body())).status == 403  # not taken
    await desk.take(cid)
    resp = await desk.post(f"/desk/api/conversations/{cid}/payment-trace", body())
    assert resp.status == 201, await resp.text()
    trace = await resp.json()
    assert trace["case_number"].startswith("TRC-") and trace["amount"] == "1000.00" and "trace_id" not in trace
    (stored,) = await traces(sessions)
    assert str(stored.amount) == "1000.00" and stored.reference == "WX20261128001"
    async with sessions() as s:
        opened = (
            await s.execute(select(m.AuditEntry).where(m.AuditEntry.action == "payment_trace_opened"))
        ).scalar_one()
    assert opened.actor == "agent:li.na"
    assert [d for _, a, _, d in audit.entries if a == "desk.payment_trace"] == [
        {"loan_number": "HX0000000001", "case_number": trace["case_number"]}
    ]
    view = await (await desk.view(cid)).json()
    assert any(trace["case_number"] in msg["text"] and msg["agent_only"] for msg in view["messages"])
    # the same claim again: the same trace, nothing new
    again = await desk.post(f"/desk/api/conversations/{cid}/payment-trace", body())
    assert again.status == 200 and (await again.json())["case_number"] == trace["case_number"]
    assert len(await traces(sessions)) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"paid_on": None, "amount": None},  # neither a day nor an amount
        {"amount": "12.345"},
        {"amount": 1000.0},  # money is a string, never a float
        {"amount": "0"},
        {"amount": "-5"},
        {"amount": ""},
        {"paid_on": "yesterday"},
        {"paid_on": "2026-02-30"},
        {"paid_on": (TODAY + timedelta(days=1)).isoformat()},  # in the future (the ledger's rule)
        {"paid_on": "2001-01-01"},  # before the loan was paid out
        {"reference": ""},
        {"reference": "has space"},
        {"reference": "R" * 65},
        {"reference": 42},
        {"channel": "Bank Transfer"},
        {"channel": "x" * 40},
        {"loan_number": ""},
        {"loan_number": "X" * 5000},
        {"loan_number": "HX0000000009"},  # not this borrower's
        {"note": "unknown field"},
    ],
)
async def test_bad_trace_input_changes_nothing(ledger_gateway, changes):
    client, ledger, sessions, _ = ledger_gateway
    widget = await verified_widget(client, ledger, D1, hardship=False)
    desk = await desk_for(client, "li.na")
    await desk.take(widget.conversation_id)
    resp = await desk.post(f"/desk/api/conversations/{widget.conversation_id}/payment-trace", body(**changes))
    assert resp.status in (404, 422), await resp.text()
    assert (await resp.json())["detail"]
    assert await traces(sessions) == []


async def test_no_trace_on_a_conversation_not_theirs_closed_or_unverified(ledger_gateway, aiohttp_client):
    client, ledger, sessions, _ = ledger_gateway
    widget = await verified_widget(client, ledger, D1, hardship=False)
    cid = widget.conversation_id
    li = await desk_for(client, "li.na")
    wang = await agent_desk(aiohttp_client, client, "wang.wei", "Wang Wei", online=False)
    await li.take(cid)
    assert (await wang.post(f"/desk/api/conversations/{cid}/payment-trace", body())).status == 404
    await li.close(cid, "resolved")
    resp = await li.post(f"/desk/api/conversations/{cid}/payment-trace", body())
    assert resp.status == 409 and "closed" in (await resp.json())["detail"]
    unverified = await Widget.open(client)
    await unverified.send("I want a human", "m1")
    await unverified.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    await li.take(unverified.conversation_id)
    resp = await li.post(f"/desk/api/conversations/{unverified.conversation_id}/payment-trace", body())
    assert resp.status == 409 and "verified" in (await resp.json())["detail"]
    assert await traces(sessions) == []
