"""Status of every demo borrower after seeding equals the pure domain's derivation."""

import pytest

from ledger.domain.account import derive_status
from ledger.domain.demo import DEMO_LOANS, demo_loans
from ledger.domain.money import format_money
from ledger.web.keys import LEDGER

from .helpers import as_borrower, audit_actions, loan_number

EXPECTED_DPD = {
    "D1": (15, "M1"),
    "D2": (45, "M2"),
    "D3": (120, "M3+"),
    "D4": (20, "M1"),
    "D5": (0, "M0"),
    "D6": (35, "M2"),
    "D7": (30, "M1"),
    "D8a": (10, "M1"),
    "D8b": (0, "M0"),
}


@pytest.mark.parametrize("key", sorted(DEMO_LOANS))
async def test_demo_status_matches_the_domain(client, demo, key):
    ledger = client.app[LEDGER]
    today = ledger.today()
    contract, payments, arrangements = demo_loans(today)[key]
    expected = derive_status(contract, payments, arrangements, today, ledger.policy)
    borrower = DEMO_LOANS[key].borrower
    headers = await as_borrower(client, borrower)
    resp = await client.get(f"/api/v1/loans/{loan_number(key)}/status", headers=headers)
    assert resp.status == 200
    got = await resp.json()
    assert (got["days_past_due"], got["bucket"]) == EXPECTED_DPD[key]
    assert (got["days_past_due"], got["bucket"]) == (expected.days_past_due, expected.bucket)
    assert got["overdue"] == {
        "principal": format_money(expected.overdue.principal),
        "interest": format_money(expected.overdue.interest),
        "penalty_interest": format_money(expected.overdue.penalty_interest),
        "late_fees": format_money(expected.overdue.late_fees),
        "total": format_money(expected.overdue.total),
    }
    assert got["payoff_amount"] == format_money(expected.payoff_amount)
    assert got["amount_to_bring_current"] == format_money(expected.amount_to_bring_current)
    assert [(i["number"], i["state"], i["paid"]) for i in got["instalments"]] == [
        (i.number, i.state, format_money(i.paid)) for i in expected.instalments
    ]
    assert (got["open_dispute"] is not None) == (key == "D7")
    assert got["as_of"] == today.isoformat()
    assert "status_disclosed" in await audit_actions(client, demo[borrower])


async def test_status_as_of_a_past_date_is_derived_for_that_date(client, demo):
    headers = await as_borrower(client, "D1")
    ledger = client.app[LEDGER]
    day = ledger.today().replace(day=1) if ledger.today().day > 1 else ledger.today()
    resp = await client.get(
        f"/api/v1/loans/{loan_number('D1')}/status", headers=headers, params={"as_of": day.isoformat()}
    )
    assert resp.status == 200 and (await resp.json())["as_of"] == day.isoformat()


async def test_reseeding_rebases_and_keeps_borrower_ids(client, demo):
    from ledger.services.seeding import seed_demo

    from .conftest import SALT

    ledger = client.app[LEDGER]
    again = await seed_demo(ledger.sessions, salt=SALT, today=ledger.today())
    assert again == demo
    headers = await as_borrower(client, "D2")
    got = await (await client.get(f"/api/v1/loans/{loan_number('D2')}/status", headers=headers)).json()
    assert got["days_past_due"] == 45


async def test_a_borrower_with_two_loans_sees_both_in_the_profile_and_each_status(client, demo):
    headers = await as_borrower(client, "D8")
    resp = await client.get(f"/api/v1/borrowers/{demo['D8']}", headers=headers)
    assert resp.status == 200
    assert (await resp.json())["loans"] == [
        {"loan_number": "HX0000000008", "product": "fenfu"},
        {"loan_number": "HX0000000009", "product": "cash_loan"},
    ]
    got = {}
    for key in ("D8a", "D8b"):
        resp = await client.get(f"/api/v1/loans/{loan_number(key)}/status", headers=headers)
        assert resp.status == 200
        got[key] = await resp.json()
    assert (got["D8a"]["days_past_due"], got["D8a"]["bucket"]) == (10, "M1")
    assert (got["D8b"]["days_past_due"], got["D8b"]["overdue"]["total"]) == (0, "0.00")
    # another borrower's token reaches neither
    other = await as_borrower(client, "D1", "conv-2")
    resp = await client.get(f"/api/v1/loans/{loan_number('D8a')}/status", headers=other)
    assert resp.status == 404  # existence is not revealed
