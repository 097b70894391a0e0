"""A promise to pay recorded from the desk: by the ledger's own rules (window, amount, one open
promise, no promise while a dispute is open) through its door, audited as the agent; only for
a borrower verified in this conversation, only by the agent who has it; bad input gets a clear
4xx and records nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from huanxin_testkit.gw_helpers import Widget, desk_for
from ledger.db import models as m
from ledger.services import verification
from ledger.services.context import Ledger

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def escalated(client, ledger: Ledger | None = None, phone: str = "", dob: date | None = None, last4: str = ""):
    widget = await Widget.open(client)
    if ledger is not None:
        await verification.verify(
            ledger, conversation_id=widget.conversation_id, phone=phone, date_of_birth=dob, id_last4=last4
        )
    await widget.send("I want a human", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    return widget


async def promises_of(sessions, loan_number: str) -> list[m.Promise]:
    async with sessions() as s:
        loan = (await s.execute(select(m.Loan).where(m.Loan.loan_number == loan_number))).scalar_one()
        return list((await s.execute(select(m.Promise).where(m.Promise.loan_id == loan.id))).scalars())


def body(**changes):
    return {
        "loan_number": "HX0000000001",
        "amount": "500.00",
        "promised_date": (TODAY + timedelta(days=3)).isoformat(),
    } | changes


async def test_an_agent_records_a_promise_through_the_ledgers_rules(ledger_gateway, audit):
    client, ledger, sessions, _ = ledger_gateway
    widget = await escalated(client, ledger, "13800000001", date(1990, 3, 15), "4321")
    desk = await desk_for(client, "li.na")
    cid = widget.conversation_id
    assert (await desk.post(f"/desk/api/conversations/{cid}/promise", body())).status == 403  # not taken yet
    await desk.take(cid)
    resp = await desk.post(f"/desk/api/conversations/{cid}/promise", body())
    assert resp.status == 201
    promise = await resp.json()
    assert promise["amount"] == "500.00" and promise["state"] == "open" and "promise_id" not in promise
    (stored,) = await promises_of(sessions, "HX0000000001")
    assert str(stored.amount) == "500.00"
    async with sessions() as s:
        made = (await s.execute(select(m.AuditEntry).where(m.AuditEntry.action == "promise_made"))).scalar_one()
    assert made.actor == "agent:li.na" and made.detail["conversation_id"] == cid
    assert [d for _, a, _, d in audit.entries if a == "desk.promise"] == [
        {"loan_number": "HX0000000001", "amount": "500.00", "promised_date": body()["promised_date"]}
    ]
    view = await (await desk.view(cid)).json()
    assert any("500.00" in msg["text"] and msg["agent_only"] for msg in view["messages"])
    # the ledger's rule: one open promise at a time
    again = await desk.post(f"/desk/api/conversations/{cid}/promise", body(amount="600.00"))
    assert again.status == 422 and (await again.json())["code"] == "promise_rejected"
    assert len(await promises_of(sessions, "HX0000000001")) == 1


async def test_no_promise_while_a_dispute_is_open(ledger_gateway):
    client, ledger, sessions, _ = ledger_gateway
    # D7 (the demo portfolio): a loan with an open dispute
    widget = await escalated(client, ledger, "13800000007", date(1980, 12, 5), "1357")
    desk = await desk_for(client, "li.na")
    await desk.take(widget.conversation_id)
    loan = (await (await desk.view(widget.conversation_id)).json())["handoff"]["loans"][0]["loan_number"]
    resp = await desk.post(f"/desk/api/conversations/{widget.conversation_id}/promise", body(loan_number=loan))
    assert resp.status == 422
    problem = await resp.json()
    assert problem["code"] == "promise_rejected" and problem["reason"] == "dispute_open"
    assert await promises_of(sessions, loan) == []


async def test_an_unverified_borrower_gets_no_promise_from_the_desk(ledger_gateway):
    client, _, sessions, ids = ledger_gateway
    widget = await escalated(client)
    async with sessions() as s, s.begin():  # linked by an escalation only: the ledger knows who, not that it is them
        s.add(
            m.Escalation(
                conversation_id=widget.conversation_id,
                borrower_id=ids["D1"],
                case_number="ESC-2026-000001",
                reason="request_human",
                summary="",
                language="zh",
                status="open",
                created_at=datetime.now(UTC),
            )
        )
    desk = await desk_for(client, "li.na")
    await desk.take(widget.conversation_id)
    resp = await desk.post(f"/desk/api/conversations/{widget.conversation_id}/promise", body())
    assert resp.status == 409 and "verified" in (await resp.json())["detail"]
    assert await promises_of(sessions, "HX0000000001") == []


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": "12.345"},
        {"amount": "-5"},
        {"amount": 500.0},  # money is a string, never a float
        {"amount": "0"},
        {"amount": "1e3"},
        {"promised_date": "tomorrow"},
        {"promised_date": "2026-02-30"},
        {"loan_number": ""},
        {"loan_number": 7},
        {"loan_number": "HX9999999999"},  # not this borrower's
    ],
)
async def test_bad_promise_input_changes_nothing(ledger_gateway, changes):
    client, ledger, sessions, _ = ledger_gateway
    widget = await escalated(client, ledger, "13800000001", date(1990, 3, 15), "4321")
    desk = await desk_for(client, "li.na")
    await desk.take(widget.conversation_id)
    resp = await desk.post(f"/desk/api/conversations/{widget.conversation_id}/promise", body(**changes))
    assert resp.status in (404, 422) and (await resp.json())["detail"]
    assert await promises_of(sessions, "HX0000000001") == []
