"""Bad input to every endpoint: a 4xx problem+json with a stable code, and nothing changed."""

import pytest

from .conftest import AUTH
from .helpers import as_borrower, loan_number, row_counts, with_scope_for


def cases(demo):
    ln = loan_number("D1")
    bid = demo["D1"]
    return [
        (
            "POST",
            "/api/v1/verifications",
            {
                "conversation_id": "c",
                "phone": "13800000001",
                "loan_number": ln,
                "date_of_birth": "1990-03-15",
                "id_last4": "4321",
            },
        ),
        (
            "POST",
            "/api/v1/verifications",
            {"conversation_id": "c", "phone": "13800000001", "date_of_birth": "1990-02-30", "id_last4": "4321"},
        ),
        (
            "POST",
            "/api/v1/verifications",
            {"conversation_id": "c", "phone": "abc", "date_of_birth": "1990-03-15", "id_last4": "4321"},
        ),
        ("PUT", f"/api/v1/borrowers/{bid}/contact-preferences", {"stop_all": "yes", "opted_out_channels": []}),
        ("PUT", f"/api/v1/borrowers/{bid}/contact-preferences", {"stop_all": False, "opted_out_channels": ["fax"]}),
        ("GET", f"/api/v1/loans/{ln}/status?as_of=2026-13-01", None),
        ("GET", f"/api/v1/loans/{ln}/status?as_of=1900-01-01", None),
        ("POST", f"/api/v1/loans/{ln}/payments", {"external_ref": "R", "amount": "-1", "received_on": "2026-01-01"}),
        (
            "POST",
            f"/api/v1/loans/{ln}/hardship-cases",
            {
                "reason": "job_loss",
                "duration": "forever",
                "monthly_income": "1",
                "essential_expenses": "1",
                "other_debt_payments": "1",
            },
        ),
        (
            "POST",
            f"/api/v1/loans/{ln}/hardship-cases",
            {
                "reason": "job_loss",
                "duration": "temporary",
                "monthly_income": 5000.5,
                "essential_expenses": "1",
                "other_debt_payments": "1",
            },
        ),
        ("POST", f"/api/v1/loans/{ln}/evaluations", {"hardship_case_id": 7}),
        ("POST", "/api/v1/offers/x/acceptance", {"unexpected": 1}),
        ("POST", f"/api/v1/loans/{ln}/promises", {"amount": "1e9", "promised_date": "2026-01-01"}),
        ("POST", f"/api/v1/loans/{ln}/promises", {"amount": "100.00", "promised_date": "tomorrow"}),
        ("POST", f"/api/v1/loans/{ln}/disputes", {"reason": ""}),
        ("POST", "/api/v1/escalations", {"conversation_id": "c", "reason": "bored", "summary": "s"}),
        ("POST", "/api/v1/complaints", {"conversation_id": "c"}),
        ("POST", f"/api/v1/loans/{ln}/disputes/DSP-2026-000001/withdraw", {"reason": ["x"]}),
        ("POST", "/api/v1/complaints/x/withdraw", {"reason": "oops"}),
        ("POST", f"/api/v1/loans/{ln}/payment-traces", {"reference": "TX1"}),
        ("POST", f"/api/v1/loans/{ln}/payment-traces", {"amount": "-5", "paid_on": "2026-01-01"}),
        ("POST", f"/api/v1/loans/{ln}/promises", {"amount": "100.00", "promised_date": "2026-01-01", "replaces": 7}),
    ]


async def test_invalid_bodies_are_rejected_on_every_endpoint_and_change_nothing(client, demo):
    headers = await as_borrower(client, "D1")
    before = await row_counts(client)
    for method, path, body in cases(demo):
        resp = await client.request(method, path, headers=with_scope_for(headers, method, path), json=body)
        assert 400 <= resp.status < 500, (method, path, resp.status, await resp.text())
        assert resp.content_type == "application/problem+json"
        problem = await resp.json()
        assert problem["code"] in {"invalid_request", "not_found"} and problem["status"] == resp.status
    assert await row_counts(client) == before


@pytest.mark.parametrize("raw", [b"{", b"not json", b"\xff\xfe", b"[1, 2]", b"null", b""])
async def test_malformed_or_non_object_json_is_a_client_error(client, demo, raw):
    headers = {**(await as_borrower(client, "D1")), "Content-Type": "application/json"}
    before = await row_counts(client)
    for path in (
        "/api/v1/verifications",
        f"/api/v1/loans/{loan_number('D1')}/promises",
        "/api/v1/escalations",
        f"/api/v1/loans/{loan_number('D1')}/payments",
    ):
        resp = await client.post(path, headers=with_scope_for(headers, "POST", path), data=raw)
        assert resp.status in (400, 422), (path, raw, resp.status)
        assert (await resp.json())["code"] == "invalid_request"
    assert await row_counts(client) == before


async def test_oversized_bodies_are_refused_with_413(client, demo):
    headers = await as_borrower(client, "D1")
    before = await row_counts(client)
    resp = await client.post(
        "/api/v1/complaints", headers=headers, data=b'{"conversation_id": "c", "text": "' + b"x" * 70_000 + b'"}'
    )
    assert resp.status == 413 and (await resp.json())["code"] == "payload_too_large"
    assert await row_counts(client) == before


async def test_unknown_routes_and_methods_are_problems_not_crashes(client):
    resp = await client.get("/api/v1/nothing-here", headers=AUTH)
    assert resp.status == 404 and (await resp.json())["code"] == "not_found"
    resp = await client.delete("/api/v1/policy/texts", headers=AUTH)
    assert resp.status == 405 and (await resp.json())["code"] == "method_not_allowed"


async def test_healthz_reports_the_database(client):
    resp = await client.get("/healthz")
    assert resp.status == 200 and await resp.json() == {"status": "ok", "database": "ok"}
