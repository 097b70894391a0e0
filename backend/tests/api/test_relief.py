"""Evaluations, offers and acceptance: exactly one arrangement, clear errors."""

import asyncio
import re
from decimal import Decimal

from sqlalchemy import func, select

from ledger.db import models as m
from ledger.web.keys import LEDGER

from .helpers import as_borrower, audit_actions, evaluate, first_offer, loan_number


async def arrangements_of(client, key):
    async with client.app[LEDGER].sessions() as session:
        stmt = (
            select(func.count())
            .select_from(m.Arrangement)
            .join(m.Loan, m.Loan.id == m.Arrangement.loan_id)
            .where(m.Loan.loan_number == loan_number(key))
        )
        return (await session.execute(stmt)).scalar_one()


async def test_offers_sum_to_what_they_claim_and_acceptance_creates_the_arrangement(client, demo):
    headers = await as_borrower(client, "D1")
    evaluation = await evaluate(client, headers, "D1")
    offers = [p["offer"] for p in evaluation["plans"] if p["offer"]]
    assert offers
    for offer in offers:
        assert sum(Decimal(r["amount"]) for r in offer["schedule"]) == Decimal(offer["total_to_repay"])
    offer_id = first_offer(evaluation, "term_extension")
    resp = await client.post(f"/api/v1/offers/{offer_id}/acceptance", headers=headers, json={})
    assert resp.status == 201
    arrangement = await resp.json()
    assert arrangement["state"] == "active" and arrangement["offer_id"] == offer_id
    status = await (await client.get(f"/api/v1/loans/{loan_number('D1')}/status", headers=headers)).json()
    assert status["active_arrangement"]["arrangement_id"] == arrangement["arrangement_id"]
    listed = await (await client.get(f"/api/v1/loans/{loan_number('D1')}/arrangements", headers=headers)).json()
    assert [a["arrangement_id"] for a in listed["arrangements"]] == [arrangement["arrangement_id"]]
    actions = await audit_actions(client, demo["D1"])
    assert "offers_made" in actions and "offer_accepted" in actions


async def test_accepting_twice_is_a_conflict(client, demo):
    headers = await as_borrower(client, "D1")
    evaluation = await evaluate(client, headers, "D1")
    offer_id = first_offer(evaluation)
    assert (await client.post(f"/api/v1/offers/{offer_id}/acceptance", headers=headers, json={})).status == 201
    again = await client.post(f"/api/v1/offers/{offer_id}/acceptance", headers=headers, json={})
    assert again.status == 409 and (await again.json())["code"] == "offer_already_accepted"
    sibling = [p["offer"]["offer_id"] for p in evaluation["plans"] if p["offer"] and p["offer"]["offer_id"] != offer_id]
    if sibling:
        resp = await client.post(f"/api/v1/offers/{sibling[0]}/acceptance", headers=headers, json={})
        assert resp.status == 409
    assert await arrangements_of(client, "D1") == 1


async def test_concurrent_acceptances_make_exactly_one_arrangement(client, demo):
    headers = await as_borrower(client, "D1")
    evaluation = await evaluate(client, headers, "D1")
    offer_ids = [p["offer"]["offer_id"] for p in evaluation["plans"] if p["offer"]]
    targets = [offer_ids[0], offer_ids[0]] + offer_ids[1:]
    responses = await asyncio.gather(
        *(client.post(f"/api/v1/offers/{oid}/acceptance", headers=headers, json={}) for oid in targets)
    )
    statuses = sorted(r.status for r in responses)
    assert statuses.count(201) == 1 and all(s == 409 for s in statuses if s != 201), statuses
    assert await arrangements_of(client, "D1") == 1


async def test_an_expired_offer_is_gone(client, demo, clock):
    headers = await as_borrower(client, "D4")
    offer_id = first_offer(await evaluate(client, headers, "D4"))
    clock.advance(hours=72, seconds=1)
    headers = await as_borrower(client, "D4")
    resp = await client.post(f"/api/v1/offers/{offer_id}/acceptance", headers=headers, json={})
    assert resp.status == 410 and (await resp.json())["code"] == "offer_expired"
    assert await arrangements_of(client, "D4") == 0


async def test_a_new_evaluation_supersedes_earlier_offers(client, demo):
    headers = await as_borrower(client, "D4")
    old_offer = first_offer(await evaluate(client, headers, "D4"))
    new_offer = first_offer(await evaluate(client, headers, "D4"))
    resp = await client.post(f"/api/v1/offers/{old_offer}/acceptance", headers=headers, json={})
    assert resp.status == 409 and (await resp.json())["code"] == "offer_superseded"
    assert (await client.post(f"/api/v1/offers/{new_offer}/acceptance", headers=headers, json={})).status == 201


async def test_d6_is_refused_a_restructure_and_d7_gets_no_offers(client, demo):
    headers = await as_borrower(client, "D6")
    plans = {p["plan_type"]: p for p in (await evaluate(client, headers, "D6"))["plans"]}
    for plan in ("deferral", "term_extension", "reduced_rate", "quarterly"):
        assert plans[plan]["eligible"] is False and plans[plan]["offer"] is None
    headers = await as_borrower(client, "D7")
    evaluation = await evaluate(client, headers, "D7")
    assert all(not p["eligible"] and p["offer"] is None for p in evaluation["plans"])
    assert {r["code"] for p in evaluation["plans"] for r in p["reasons"]} == {"dispute_open"}


async def test_unknown_offer_or_hardship_case_is_not_found(client, demo):
    headers = await as_borrower(client, "D1")
    resp = await client.post("/api/v1/offers/no-such-offer/acceptance", headers=headers, json={})
    assert resp.status == 404
    resp = await client.post(
        f"/api/v1/loans/{loan_number('D1')}/evaluations", headers=headers, json={"hardship_case_id": "nope"}
    )
    assert resp.status == 404


async def test_an_offer_superseded_while_its_acceptance_waits_for_the_loan_lock_is_refused(client, demo, monkeypatch):
    """The audit's race: an acceptance has read its offer, a new evaluation supersedes the offer
    before the acceptance takes the loan lock. The acceptance must see the supersession.
    (SQLite serialises whole write transactions, so there the evaluation simply runs after.)"""
    from ledger.db import repositories as repo

    headers = await as_borrower(client, "D4")
    old_offer = first_offer(await evaluate(client, headers, "D4"))
    at_gate, evaluated = asyncio.Event(), asyncio.Event()
    original = repo.lock_loan

    async def gated(session, loan_id):
        at_gate.set()
        try:
            await asyncio.wait_for(evaluated.wait(), 2)
        except TimeoutError:
            pass  # SQLite: the evaluation waits for this transaction instead
        await original(session, loan_id)

    monkeypatch.setattr(repo, "lock_loan", gated)
    acceptance = asyncio.create_task(client.post(f"/api/v1/offers/{old_offer}/acceptance", headers=headers, json={}))
    await asyncio.wait_for(at_gate.wait(), 10)
    await evaluate(client, headers, "D4")
    evaluated.set()
    resp = await acceptance
    async with client.app[LEDGER].sessions() as session:
        stale = (
            await session.execute(
                select(func.count())
                .select_from(m.Arrangement)
                .join(m.Offer, m.Offer.id == m.Arrangement.offer_id)
                .where(m.Offer.superseded_at.is_not(None))
            )
        ).scalar_one()
    assert stale == 0, "an arrangement was made from a superseded offer"
    if client.app[LEDGER].sessions.kw["bind"].dialect.name == "postgresql":
        assert resp.status == 409 and (await resp.json())["code"] == "offer_superseded"
        assert await arrangements_of(client, "D4") == 0


async def test_an_offer_that_expires_while_its_acceptance_waits_for_the_loan_lock_is_gone(
    client, demo, clock, monkeypatch
):
    from ledger.db import repositories as repo

    headers = await as_borrower(client, "D4")
    offer_id = first_offer(await evaluate(client, headers, "D4"))
    clock.advance(hours=71, minutes=59, seconds=59)
    headers = await as_borrower(client, "D4", "conv-2")
    original = repo.lock_loan

    async def slow_lock(session, loan_id):
        clock.advance(seconds=2)  # the offer expires while the acceptance waits for the lock
        await original(session, loan_id)

    monkeypatch.setattr(repo, "lock_loan", slow_lock)
    resp = await client.post(f"/api/v1/offers/{offer_id}/acceptance", headers=headers, json={})
    assert resp.status == 410 and (await resp.json())["code"] == "offer_expired"
    assert await arrangements_of(client, "D4") == 0


MONEY = r"^-?\d+\.\d{2}$"
HARDSHIP_IRREGULAR = {
    "reason": "irregular_income",
    "duration": "temporary",
    "monthly_income": "9000.00",
    "essential_expenses": "3000.00",
    "other_debt_payments": "500.00",
}


async def test_an_evaluation_compares_every_offer_with_today_s_schedule_in_money_strings(client, demo):
    headers = await as_borrower(client, "D1")
    evaluation = await evaluate(client, headers, "D1", HARDSHIP_IRREGULAR)
    cur = evaluation["current_schedule"]
    status = await (await client.get(f"/api/v1/loans/{loan_number('D1')}/status", headers=headers)).json()
    for key in ("payment_amount", "amount_due_now", "total_to_repay"):
        assert re.match(MONEY, cur[key]), key
    assert cur["amount_due_now"] == status["amount_to_bring_current"]
    assert cur["payment_frequency"] == "monthly" and cur["first_payment_date"] == status["as_of"]
    offers = {p["plan_type"]: p["offer"] for p in evaluation["plans"] if p["offer"]}
    assert {"fee_waiver", "deferral", "term_extension", "quarterly"} <= set(offers)
    for plan_type, offer in offers.items():
        c = offer["comparison"]
        for key in ("payment_amount", "total_to_repay", "total_change"):
            assert isinstance(c[key], str) and re.match(MONEY, c[key]), (plan_type, key)
        for key in ("later_payment_amount", "payment_change"):
            assert c[key] is None or re.match(MONEY, c[key]), (plan_type, key)
        assert c["payment_amount"] == offer["payment_amount"] == offer["schedule"][0]["amount"]
        assert c["payment_frequency"] == offer["payment_frequency"]
        assert Decimal(c["total_change"]) == Decimal(c["total_to_repay"]) - Decimal(cur["total_to_repay"])
        assert c["first_payment_date"] <= c["last_payment_date"]
    te = offers["term_extension"]["comparison"]
    assert Decimal(te["payment_change"]) < 0 and te["payment_count"] > cur["payment_count"] - 1
    fw = offers["fee_waiver"]
    assert Decimal(fw["comparison"]["total_change"]) == -Decimal(fw["waived"]["total"])
    assert fw["comparison"]["payment_change"] is None
    assert fw["comparison"]["later_payment_amount"] == cur["payment_amount"]
    assert offers["quarterly"]["comparison"]["payment_frequency"] == "quarterly"


async def test_the_openapi_document_describes_the_comparison(client):
    document = await (await client.get("/api/v1/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert {"comparison"} <= set(schemas["OfferOut"]["properties"])
    assert {"current_schedule"} <= set(schemas["EvaluationOut"]["properties"])
    comparison = schemas["OfferComparison"]["properties"]
    assert {
        "payment_amount",
        "payment_frequency",
        "later_payment_amount",
        "payment_count",
        "first_payment_date",
        "last_payment_date",
        "total_to_repay",
        "payment_change",
        "total_change",
    } <= set(comparison)
