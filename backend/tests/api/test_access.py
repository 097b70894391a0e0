"""Borrower A's token never reads or changes borrower B; tokens are bound to a conversation."""

import pytest

from .helpers import HARDSHIP, as_borrower, evaluate, first_offer, loan_number, row_counts


def borrower_scoped_calls(demo, target: str):
    ln = loan_number(target)
    bid = demo[target]
    return [
        ("GET", f"/api/v1/borrowers/{bid}", None),
        ("PUT", f"/api/v1/borrowers/{bid}/contact-preferences", {"stop_all": True, "opted_out_channels": ["sms"]}),
        ("GET", f"/api/v1/loans/{ln}/status", None),
        ("GET", f"/api/v1/loans/{ln}/payments", None),
        ("POST", f"/api/v1/loans/{ln}/hardship-cases", HARDSHIP),
        ("POST", f"/api/v1/loans/{ln}/evaluations", {"hardship_case_id": "00000000-0000-0000-0000-000000000000"}),
        ("GET", f"/api/v1/loans/{ln}/arrangements", None),
        ("POST", f"/api/v1/loans/{ln}/promises", {"amount": "100.00", "promised_date": "2030-01-01"}),
        ("GET", f"/api/v1/loans/{ln}/promises", None),
        ("POST", f"/api/v1/loans/{ln}/disputes", {"reason": "not mine"}),
    ]


async def test_a_token_never_reaches_another_borrower_on_any_endpoint(client, demo):
    headers_a = await as_borrower(client, "D1")
    before = await row_counts(client)
    for method, path, body in borrower_scoped_calls(demo, "D2"):
        resp = await client.request(method, path, headers=headers_a, json=body)
        assert resp.status == 404, (method, path, resp.status, await resp.text())
        assert (await resp.json())["code"] == "not_found"
    assert await row_counts(client) == before


async def test_another_borrowers_offer_cannot_be_accepted(client, demo):
    headers_b = await as_borrower(client, "D2", "conv-b")
    offer_id = first_offer(await evaluate(client, headers_b, "D2"))
    headers_a = await as_borrower(client, "D1")
    resp = await client.post(f"/api/v1/offers/{offer_id}/acceptance", headers=headers_a, json={})
    assert resp.status == 404
    assert (await row_counts(client))["arrangements"] == 1  # only D6's demo arrangement


@pytest.mark.parametrize("change", ["wrong_conversation", "no_token", "bogus_token"])
async def test_borrower_calls_need_the_token_of_this_conversation(client, demo, change):
    headers = await as_borrower(client, "D1")
    if change == "wrong_conversation":
        headers["X-Conversation-Id"] = "another-conversation"
    elif change == "no_token":
        del headers["X-Verification-Token"]
    else:
        headers["X-Verification-Token"] = "bogus"
    before = await row_counts(client)
    for method, path, body in borrower_scoped_calls(demo, "D1"):
        resp = await client.request(method, path, headers=headers, json=body)
        assert resp.status == 401, (method, path, resp.status)
        assert (await resp.json())["code"] == "verification_required"
    assert await row_counts(client) == before
