import asyncio

from sqlalchemy import func, select

from ledger.db import models as m
from ledger.web.keys import LEDGER

from .conftest import PAYMENTS
from .helpers import as_borrower, loan_number, row_counts


def pay(client, key="D1", ref="PAY-1", amount="500.00", received_on=None, **extra):
    today = client.app[LEDGER].today().isoformat()
    body = {"external_ref": ref, "amount": amount, "received_on": received_on or today, **extra}
    return client.post(f"/api/v1/loans/{loan_number(key)}/payments", headers=PAYMENTS, json=body)


async def payments_with_ref(client, ref):
    async with client.app[LEDGER].sessions() as session:
        return (
            await session.execute(select(func.count()).select_from(m.Payment).where(m.Payment.external_ref == ref))
        ).scalar_one()


async def test_a_payment_reduces_what_is_overdue(client, demo):
    headers = await as_borrower(client, "D1")
    url = f"/api/v1/loans/{loan_number('D1')}/status"
    before = await (await client.get(url, headers=headers)).json()
    resp = await pay(client, amount=before["amount_to_bring_current"])
    assert resp.status == 201
    after = await (await client.get(url, headers=headers)).json()
    assert after["days_past_due"] == 0 and after["overdue"]["total"] == "0.00"
    listed = await (await client.get(f"/api/v1/loans/{loan_number('D1')}/payments", headers=headers)).json()
    assert listed["payments"][0]["external_ref"] == "PAY-1"


async def test_same_reference_same_data_returns_the_original(client, demo):
    first = await pay(client)
    second = await pay(client)
    assert (first.status, second.status) == (201, 200)
    assert (await first.json())["payment_id"] == (await second.json())["payment_id"]
    assert await payments_with_ref(client, "PAY-1") == 1


async def test_same_reference_different_data_is_a_conflict(client, demo):
    assert (await pay(client)).status == 201
    resp = await pay(client, amount="501.00")
    assert resp.status == 409 and (await resp.json())["code"] == "duplicate_payment_conflict"
    other_loan = await pay(client, key="D2")
    assert other_loan.status == 409
    assert await payments_with_ref(client, "PAY-1") == 1


async def test_concurrent_identical_payments_record_one(client, demo):
    responses = await asyncio.gather(*(pay(client, ref="RACE-1") for _ in range(4)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 200, 200, 201]
    assert len({(await r.json())["payment_id"] for r in responses}) == 1
    assert await payments_with_ref(client, "RACE-1") == 1


async def test_bad_payments_are_rejected_and_change_nothing(client, demo):
    before = await row_counts(client)
    bad = [
        {"amount": "-5.00"},
        {"amount": "0"},
        {"amount": "1.005"},
        {"amount": 100},
        {"amount": "1e3"},
        {"amount": "NaN"},
        {"amount": "10000000000.00"},
        {"received_on": "2026-02-30"},
        {"received_on": "2999-01-01"},
        {"received_on": "1999-01-01"},
        {"ref": ""},
        {"channel": "DROP TABLE"},
        {"surprise": True},
    ]
    for change in bad:
        kwargs = {k: v for k, v in change.items()}
        resp = await pay(client, **kwargs)
        assert 400 <= resp.status < 500, (change, resp.status)
        assert resp.content_type == "application/problem+json"
    resp = await client.post(
        "/api/v1/loans/HX9999999999/payments",
        headers=PAYMENTS,
        json={"external_ref": "X", "amount": "1.00", "received_on": "2026-01-01"},
    )
    assert resp.status == 404
    assert await row_counts(client) == before
