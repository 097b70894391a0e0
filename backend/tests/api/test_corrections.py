"""Records the borrower can correct, over the API on SQLite and PostgreSQL: a dispute or a
complaint filed by mistake is withdrawn (kept on record, audited), an open promise is replaced
within the policy, and a payment the ledger does not show opens a payment trace."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ledger.db import models as m
from ledger.desk_door import DeskDoor
from ledger.domain.corrections import trace_reply_due
from ledger.web.keys import LEDGER

from .conftest import AUTH
from .helpers import as_borrower, audit_actions, evaluate, loan_number, row_counts


async def open_dispute(client, headers, key="D1", reason="the amount is wrong"):
    resp = await client.post(f"/api/v1/loans/{loan_number(key)}/disputes", headers=headers, json={"reason": reason})
    assert resp.status == 201, await resp.text()
    return await resp.json()


def withdraw_dispute(client, headers, case_number, key="D1", body=None):
    return client.post(
        f"/api/v1/loans/{loan_number(key)}/disputes/{case_number}/withdraw", headers=headers, json=body or {}
    )


async def status_of(client, headers, key="D1"):
    return await (await client.get(f"/api/v1/loans/{loan_number(key)}/status", headers=headers)).json()


async def dispute_row(client, case_number):
    async with client.app[LEDGER].sessions() as session:
        return (await session.execute(select(m.Dispute).where(m.Dispute.case_number == case_number))).scalar_one()


# ------------------------------------------------------------------ disputes


async def test_a_dispute_withdrawn_in_its_conversation_resumes_collection_and_stays_on_record(client, demo):
    headers = await as_borrower(client, "D1")
    dispute = await open_dispute(client, headers)
    assert (await status_of(client, headers))["open_dispute"]["case_number"] == dispute["case_number"]

    resp = await withdraw_dispute(client, headers, dispute["case_number"], body={"reason": "pressed the wrong button"})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["status"] == "withdrawn" and body["case_number"] == dispute["case_number"]
    assert body["withdrawn_at"] is not None

    assert (await status_of(client, headers))["open_dispute"] is None
    evaluation = await evaluate(client, headers, "D1")
    assert any(p["eligible"] for p in evaluation["plans"])  # plans are possible again
    when = (client.app[LEDGER].today() + timedelta(days=3)).isoformat()
    promise = await client.post(
        f"/api/v1/loans/{loan_number('D1')}/promises", headers=headers, json={"amount": "100.00", "promised_date": when}
    )
    assert promise.status == 201  # promises too

    row = await dispute_row(client, dispute["case_number"])
    assert row.status == "withdrawn" and row.withdrawal_reason == "pressed the wrong button"
    assert row.conversation_id == "conv-1"
    actions = await audit_actions(client, demo["D1"])
    assert actions.index("dispute_opened") < actions.index("dispute_withdrawn")


async def test_a_dispute_cannot_be_withdrawn_twice_or_when_unknown(client, demo):
    headers = await as_borrower(client, "D1")
    dispute = await open_dispute(client, headers)
    assert (await withdraw_dispute(client, headers, dispute["case_number"])).status == 200
    again = await withdraw_dispute(client, headers, dispute["case_number"])
    assert again.status == 409 and (await again.json())["code"] == "dispute_not_open"
    unknown = await withdraw_dispute(client, headers, "DSP-1999-000001")
    assert unknown.status == 404 and (await unknown.json())["code"] == "not_found"
    # a new dispute can be opened after a withdrawn one, and numbered on
    second = await open_dispute(client, headers, reason="really not mine")
    assert second["case_number"] != dispute["case_number"]
    assert (await audit_actions(client, demo["D1"])).count("dispute_withdrawn") == 1


async def test_only_the_conversation_that_opened_it_within_the_window_can_withdraw_it(client, demo, clock):
    headers = await as_borrower(client, "D1")
    dispute = await open_dispute(client, headers)
    other = await as_borrower(client, "D1", "conv-2")
    before = await row_counts(client)
    resp = await withdraw_dispute(client, other, dispute["case_number"])
    assert resp.status == 409 and (await resp.json())["code"] == "withdrawal_window_closed"

    clock.advance(hours=24, minutes=1)
    late = await as_borrower(client, "D1")  # the same conversation, verified again
    resp = await withdraw_dispute(client, late, dispute["case_number"])
    assert resp.status == 409 and (await resp.json())["code"] == "withdrawal_window_closed"
    assert (await dispute_row(client, dispute["case_number"])).status == "open"
    assert (await row_counts(client))["disputes"] == before["disputes"]
    assert "dispute_withdrawn" not in await audit_actions(client, demo["D1"])


async def test_a_seeded_dispute_with_no_conversation_is_withdrawn_by_a_person_only(client, demo):
    headers = await as_borrower(client, "D7")
    case_number = (await status_of(client, headers, "D7"))["open_dispute"]["case_number"]
    resp = await withdraw_dispute(client, headers, case_number, key="D7")
    assert resp.status == 409 and (await resp.json())["code"] == "withdrawal_window_closed"
    assert (await status_of(client, headers, "D7"))["open_dispute"] is not None


async def test_another_borrower_or_no_token_cannot_withdraw_a_dispute(client, demo):
    headers = await as_borrower(client, "D1")
    dispute = await open_dispute(client, headers)
    stranger = await as_borrower(client, "D4", "conv-1")  # even in the same conversation id
    resp = await withdraw_dispute(client, stranger, dispute["case_number"])
    assert resp.status == 404 and (await resp.json())["code"] == "not_found"
    resp = await withdraw_dispute(client, {**AUTH, "X-Conversation-Id": "conv-1"}, dispute["case_number"])
    assert resp.status == 401 and (await resp.json())["code"] == "verification_required"
    for bad in ({"reason": "x" * 501}, {"reason": 5}, {"why": "oops"}):
        resp = await withdraw_dispute(client, headers, dispute["case_number"], body=bad)
        assert resp.status == 422 and (await resp.json())["code"] == "invalid_request"
    assert (await dispute_row(client, dispute["case_number"])).status == "open"
    assert "dispute_withdrawn" not in await audit_actions(client, demo["D1"])


# ------------------------------------------------------------------ complaints


def withdraw_complaint(client, headers, complaint_id, conversation_id="conv-1", **extra):
    return client.post(
        f"/api/v1/complaints/{complaint_id}/withdraw",
        headers=headers,
        json={"conversation_id": conversation_id, **extra},
    )


async def file_complaint(client, headers, conversation_id="conv-1", text="the caller was rude"):
    resp = await client.post(
        "/api/v1/complaints", headers=headers, json={"conversation_id": conversation_id, "text": text}
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def complaint_rows(client, complaint_id):
    async with client.app[LEDGER].sessions() as session:
        complaint = await session.get(m.Complaint, complaint_id)
        escalation = await session.get(m.Escalation, complaint.escalation_id)
        return complaint, escalation


async def test_a_verified_borrowers_complaint_is_withdrawn_with_its_token_and_audited(client, demo):
    headers = await as_borrower(client, "D1")
    complaint = await file_complaint(client, headers)
    no_token = await withdraw_complaint(client, AUTH, complaint["complaint_id"])
    assert no_token.status == 401 and (await no_token.json())["code"] == "verification_required"

    resp = await withdraw_complaint(client, headers, complaint["complaint_id"], reason="wrong button")
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["status"] == "withdrawn" and body["escalation_id"] == complaint["escalation_id"]
    row, escalation = await complaint_rows(client, complaint["complaint_id"])
    assert (row.status, row.withdrawal_reason, escalation.status) == ("withdrawn", "wrong button", "withdrawn")
    assert "complaint_withdrawn" in await audit_actions(client, demo["D1"])

    again = await withdraw_complaint(client, headers, complaint["complaint_id"])
    assert again.status == 409 and (await again.json())["code"] == "complaint_not_open"


async def test_a_complaint_is_not_found_from_another_conversation_or_by_another_borrower(client, demo):
    headers = await as_borrower(client, "D1")
    complaint = await file_complaint(client, headers)
    other = await as_borrower(client, "D1", "conv-2")
    resp = await withdraw_complaint(client, other, complaint["complaint_id"], conversation_id="conv-2")
    assert resp.status == 404
    stranger = await as_borrower(client, "D4", "conv-1")
    resp = await withdraw_complaint(client, stranger, complaint["complaint_id"])
    assert resp.status == 404
    unknown = await withdraw_complaint(client, headers, "no-such-complaint")
    assert unknown.status == 404
    bad = await withdraw_complaint(client, headers, complaint["complaint_id"], surprise=True)
    assert bad.status == 422
    row, _ = await complaint_rows(client, complaint["complaint_id"])
    assert row.status == "open"
    assert "complaint_withdrawn" not in await audit_actions(client, demo["D1"])


async def test_an_unverified_complaint_is_withdrawn_from_its_conversation_within_the_window(client, demo, clock):
    complaint = await file_complaint(client, AUTH, conversation_id="conv-anon")
    assert (await withdraw_complaint(client, AUTH, complaint["complaint_id"], conversation_id="conv-x")).status == 404
    clock.advance(hours=25)
    late = await withdraw_complaint(client, AUTH, complaint["complaint_id"], conversation_id="conv-anon")
    assert late.status == 409 and (await late.json())["code"] == "withdrawal_window_closed"
    clock.advance(hours=-24)
    resp = await withdraw_complaint(client, AUTH, complaint["complaint_id"], conversation_id="conv-anon")
    assert resp.status == 200
    assert "complaint_withdrawn" in await audit_actions(client)


# ------------------------------------------------------------------ promises


def promise(client, headers, key="D1", amount="300.00", days=3, replaces=None):
    body = {"amount": amount, "promised_date": (client.app[LEDGER].today() + timedelta(days=days)).isoformat()}
    if replaces is not None:
        body["replaces"] = replaces
    return client.post(f"/api/v1/loans/{loan_number(key)}/promises", headers=headers, json=body)


async def promises_of(client, headers, key="D1"):
    listed = await (await client.get(f"/api/v1/loans/{loan_number(key)}/promises", headers=headers)).json()
    return listed["promises"]


async def test_an_open_promise_is_replaced_and_kept_on_record(client, demo):
    headers = await as_borrower(client, "D1")
    first = await (await promise(client, headers)).json()
    resp = await promise(client, headers, amount="500.00", days=9, replaces=first["promise_id"])
    assert resp.status == 201, await resp.text()
    second = await resp.json()
    assert second["state"] == "open" and second["replaces"] == first["promise_id"] and second["amount"] == "500.00"
    states = {p["promise_id"]: p["state"] for p in await promises_of(client, headers)}
    assert states == {first["promise_id"]: "replaced", second["promise_id"]: "open"}
    status = await status_of(client, headers)
    assert status["open_promise"]["promise_id"] == second["promise_id"]
    actions = await audit_actions(client, demo["D1"])
    assert actions.count("promise_made") == 2 and actions.count("promise_replaced") == 1

    again = await promise(client, headers, days=4, replaces=first["promise_id"])
    assert again.status == 409 and (await again.json())["code"] == "promise_not_open"
    unknown = await promise(client, headers, days=4, replaces="no-such-promise")
    assert unknown.status == 404
    # without replaces, one open promise is still the limit
    extra = await promise(client, headers, days=4)
    assert extra.status == 422 and (await extra.json())["reason"] == "open_promise_exists"


async def test_a_replacement_is_held_to_the_same_rules_and_changes_nothing_when_refused(client, demo):
    headers = await as_borrower(client, "D1")
    first = await (await promise(client, headers)).json()
    before = await row_counts(client)
    too_late = await promise(client, headers, days=15, replaces=first["promise_id"])
    problem = await too_late.json()
    assert too_late.status == 422 and problem["reason"] == "date_out_of_window"
    today = client.app[LEDGER].today()
    assert problem["latest_date"] == (today + timedelta(days=14)).isoformat()
    assert problem["earliest_date"] == today.isoformat()
    too_much = await promise(client, headers, amount="999999.00", replaces=first["promise_id"])
    assert (await too_much.json())["reason"] == "amount_out_of_range"
    assert await row_counts(client) == before
    assert [p["state"] for p in await promises_of(client, headers)] == ["open"]
    assert "promise_replaced" not in await audit_actions(client, demo["D1"])
    stranger = await as_borrower(client, "D4", "conv-4")
    resp = await promise(client, stranger, key="D4", replaces=first["promise_id"])
    assert resp.status == 404  # not a promise of the caller's loan


async def test_moving_a_promise_never_stretches_the_window_of_the_first_one(client, demo, clock):
    headers = await as_borrower(client, "D1")
    first = await (await promise(client, headers, days=5)).json()
    window_end = client.app[LEDGER].today() + timedelta(days=14)
    clock.advance(days=3)
    headers = await as_borrower(client, "D1")
    refused = await promise(client, headers, days=12, replaces=first["promise_id"])  # day 15 of the first
    assert (await refused.json())["latest_date"] == window_end.isoformat()
    moved = await promise(client, headers, days=11, replaces=first["promise_id"])  # day 14: allowed
    assert moved.status == 201, await moved.text()
    again = await promise(client, headers, days=11, amount="200.00", replaces=(await moved.json())["promise_id"])
    assert again.status == 201


# ------------------------------------------------------------------ payment traces


def trace(client, headers, key="D1", **body):
    return client.post(f"/api/v1/loans/{loan_number(key)}/payment-traces", headers=headers, json=body)


async def test_a_payment_claim_opens_a_trace_with_its_reply_date_once(client, demo):
    headers = await as_borrower(client, "D1")
    ledger = client.app[LEDGER]
    paid_on = (ledger.today() - timedelta(days=6)).isoformat()
    resp = await trace(
        client, headers, paid_on=paid_on, amount="1161.87", reference="TX20261119AB", channel="bank_transfer"
    )
    assert resp.status == 201, await resp.text()
    opened = await resp.json()
    assert opened["case_number"].startswith(f"TRC-{ledger.today().year}-") and opened["status"] == "open"
    assert opened["reply_due_by"] == trace_reply_due(ledger.today(), ledger.policy).isoformat()
    assert (opened["paid_on"], opened["amount"], opened["reference"]) == (paid_on, "1161.87", "TX20261119AB")

    same = await trace(
        client, headers, paid_on=paid_on, amount="1161.87", reference="TX20261119AB", channel="bank_transfer"
    )
    assert same.status == 200 and (await same.json())["case_number"] == opened["case_number"]
    amount_only = await trace(client, headers, amount="500.00")
    assert amount_only.status == 201 and (await amount_only.json())["paid_on"] is None
    assert (await audit_actions(client, demo["D1"])).count("payment_trace_opened") == 2

    # the desk's account panel lists the traces
    panel = await DeskDoor(ledger.sessions, ledger.policy).account_panel(["conv-1"])
    listed = panel["loans"][0]["payment_traces"]
    assert {t["case_number"] for t in listed} == {opened["case_number"], (await amount_only.json())["case_number"]}
    assert all(t["status"] == "open" for t in listed)


async def test_a_payment_claim_needs_a_plausible_day_or_amount_and_changes_nothing_otherwise(client, demo):
    headers = await as_borrower(client, "D1")
    stranger = await as_borrower(client, "D4", "conv-4")
    today = client.app[LEDGER].today()
    before = await row_counts(client)
    for body in (
        {},
        {"reference": "TX1"},
        {"paid_on": (today + timedelta(days=1)).isoformat()},
        {"paid_on": "2001-01-01"},
        {"amount": "0.00"},
        {"amount": 500},
        {"amount": "500.00", "reference": "has spaces"},
        {"amount": "500.00", "reference": "x" * 65},
        {"amount": "500.00", "channel": "Bank Transfer"},
        {"amount": "500.00", "note": "extra"},
    ):
        resp = await trace(client, headers, **body)
        assert resp.status == 422, (body, resp.status, await resp.text())
        assert (await resp.json())["code"] == "invalid_request"
    assert (await trace(client, stranger, amount="500.00")).status == 404
    assert (await trace(client, {**AUTH, "X-Conversation-Id": "conv-1"}, amount="500.00")).status == 401
    assert await row_counts(client) == before
    assert "payment_trace_opened" not in await audit_actions(client, demo["D1"])


async def test_a_reference_that_is_an_id_number_is_never_stored(client, demo):
    headers = await as_borrower(client, "D1")
    resp = await trace(client, headers, amount="500.00", reference="110101199003151234")
    assert resp.status == 201
    assert "199003151234" not in ((await resp.json())["reference"] or "")
    async with client.app[LEDGER].sessions() as session:
        stored = (await session.execute(select(m.PaymentTrace.reference))).scalars().all()
        details = (await session.execute(select(m.AuditEntry.detail))).scalars().all()
    assert not any("199003151234" in (r or "") for r in stored)
    assert not any("199003151234" in str(d) for d in details)


async def test_promises_max_open_is_what_the_ledger_holds_to(aiohttp_client, settings, clock):
    from dataclasses import replace

    from ledger.policy_file import load_policy
    from ledger.services.seeding import seed_demo
    from ledger.web.app import init_app

    from .conftest import SALT, clean

    await clean(settings.database_url)
    policy = load_policy()
    two = replace(policy, promises=replace(policy.promises, max_open=2))
    client = await aiohttp_client(init_app(settings, clock=clock, policy=two))
    ledger = client.app[LEDGER]
    await seed_demo(ledger.sessions, salt=SALT, today=ledger.today())
    headers = await as_borrower(client, "D1")
    assert (await promise(client, headers, days=2)).status == 201
    assert (await promise(client, headers, days=4)).status == 201
    third = await promise(client, headers, days=6)
    assert third.status == 422 and (await third.json())["reason"] == "open_promise_exists"
    assert [p["state"] for p in await promises_of(client, headers)] == ["open", "open"]
