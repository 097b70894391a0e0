"""Each API client has a scope (bot, desk, payments, analytics) and every endpoint says which
scopes it accepts: a token outside them gets 403 problem+json and changes nothing.

Table-driven over the operations registry, so an endpoint added without a scope, or without a
sample request here, fails a test."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from huanxin_testkit.ledger_cli import ledger_in_process, ledger_process
from ledger.db import models as m
from ledger.scopes import SCOPES
from ledger.web.keys import LEDGER, SETTINGS
from ledger.web.registry import OPERATIONS

from .conftest import AUTH, PAYMENTS, SCOPE_HEADERS
from .helpers import HARDSHIP, as_borrower, evaluate, first_offer, loan_number, row_counts

AUTHENTICATED = [op for op in OPERATIONS if op.client_auth]

# A request each endpoint would accept (when called with a scope it allows), so that a missing
# scope check would show as a change in the database, not as a 4xx for some other reason.
SAMPLE_BODIES: dict[str, dict] = {
    "create_verification": {
        "conversation_id": "conv-1",
        "phone": "13800000001",
        "date_of_birth": "1990-03-15",
        "id_last4": "4321",
    },
    "put_contact_preferences": {"stop_all": True, "opted_out_channels": ["sms"]},
    "post_stop_reply": {"channel": "sms", "text": "TD", "phone": "13800000001"},
    "post_payment": {"external_ref": "SCOPE-PAY-1", "amount": "100.00", "received_on": "{today}"},
    "post_hardship_case": HARDSHIP,
    "post_evaluation": {"hardship_case_id": "{hardship_case_id}"},
    "post_acceptance": {},
    "post_promise": {"amount": "100.00", "promised_date": "{promise_date}"},
    "post_dispute": {"reason": "not mine"},
    "post_dispute_withdrawal": {"reason": "by mistake"},
    "post_payment_trace": {"paid_on": "{today}", "amount": "100.00", "reference": "SCOPE-TRACE-1"},
    "post_complaint_withdrawal": {"conversation_id": "conv-1"},
    "post_escalation": {"conversation_id": "conv-1", "reason": "request_human", "summary": "wants a person"},
    "post_complaint": {"conversation_id": "conv-1", "text": "rude"},
    "post_manual_verification": {"agent": "agent1", "method": "callback_on_record", "note": "called back"},
}


async def audit_count(client) -> int:
    async with client.app[LEDGER].sessions() as session:
        return (await session.execute(select(func.count()).select_from(m.AuditEntry))).scalar_one()


async def fixture_values(client, demo) -> dict[str, str]:
    headers = await as_borrower(client, "D1")
    evaluation = await evaluate(client, headers, "D1")
    ledger = client.app[LEDGER]
    async with ledger.sessions() as session:
        case_id = (await session.execute(select(m.HardshipCase.id))).scalars().first()
    return {
        "borrower_id": demo["D1"],
        "loan_number": loan_number("D1"),
        "offer_id": first_offer(evaluation),
        "conversation_id": "conv-1",
        "hardship_case_id": case_id,
        "promise_date": (ledger.today() + timedelta(days=3)).isoformat(),
        "today": ledger.today().isoformat(),
        "token": headers["X-Verification-Token"],
        # a dispute and a complaint that do not exist: the scope check comes before the lookup
        "case_number": "DSP-2000-000000",
        "complaint_id": "no-such-complaint",
    }


def request_for(op, values: dict[str, str]) -> tuple[str, dict | None]:
    path = op.path.format(**values)
    body = None
    if op.body is not None:
        assert op.operation_id in SAMPLE_BODIES, f"add a sample body for {op.operation_id} to SAMPLE_BODIES"
        body = {k: (v.format(**values) if isinstance(v, str) else v) for k, v in SAMPLE_BODIES[op.operation_id].items()}
    return path, body


def test_every_authenticated_endpoint_declares_known_scopes():
    assert AUTHENTICATED
    for op in AUTHENTICATED:
        assert op.scopes, f"{op.method} {op.path} declares no scope"
        assert set(op.scopes) <= set(SCOPES), (op.operation_id, op.scopes)
    declared = {scope for op in AUTHENTICATED for scope in op.scopes}
    assert declared == set(SCOPES), "a scope that no endpoint accepts is useless"


def test_the_bot_cannot_record_payments_and_payments_can_only_record_payments():
    by_id = {op.operation_id: op for op in AUTHENTICATED}
    assert "bot" not in by_id["post_payment"].scopes
    assert [op.operation_id for op in AUTHENTICATED if "payments" in op.scopes] == ["post_payment"]
    assert all(op.method == "GET" for op in AUTHENTICATED if "analytics" in op.scopes)


async def test_the_openapi_document_shows_each_operations_scopes_and_403(client):
    document = await (await client.get("/api/v1/openapi.json")).json()
    for op in AUTHENTICATED:
        entry = document["paths"][op.path][op.method.lower()]
        assert entry["security"] == [{"bearerAuth": list(op.scopes)}], op.operation_id
        assert entry["x-scopes"] == list(op.scopes)
        assert entry["responses"]["403"]["content"]["application/problem+json"]


@pytest.mark.parametrize("scope", SCOPES)
async def test_every_scope_is_refused_outside_its_endpoints_and_changes_nothing(client, demo, scope):
    values = await fixture_values(client, demo)
    refused = [op for op in AUTHENTICATED if scope not in op.scopes]
    assert refused, f"scope {scope} may call everything"
    for op in refused:
        path, body = request_for(op, values)
        headers = {**SCOPE_HEADERS[scope], "X-Verification-Token": values["token"], "X-Conversation-Id": "conv-1"}
        before, audits = await row_counts(client), await audit_count(client)
        resp = await client.request(op.method, path, headers=headers, json=body)
        assert resp.status == 403, (scope, op.method, op.path, resp.status, await resp.text())
        assert resp.content_type == "application/problem+json"
        problem = await resp.json()
        assert problem["code"] == "forbidden" and scope in problem["detail"]
        assert await row_counts(client) == before, (scope, op.operation_id)
        assert await audit_count(client) == audits, (scope, op.operation_id)


@pytest.mark.parametrize("scope", SCOPES)
async def test_every_scope_is_let_through_on_its_endpoints(client, demo, scope):
    values = await fixture_values(client, demo)
    for op in AUTHENTICATED:
        if scope not in op.scopes:
            continue
        path, body = request_for(op, values)
        headers = {**SCOPE_HEADERS[scope], "X-Verification-Token": values["token"], "X-Conversation-Id": "conv-1"}
        resp = await client.request(op.method, path, headers=headers, json=body)
        assert resp.status not in (401, 403), (scope, op.method, op.path, resp.status, await resp.text())


async def test_the_bots_token_records_no_payment_and_the_payments_token_does(client, demo):
    body = {"external_ref": "PAY-SCOPE", "amount": "100.00", "received_on": client.app[LEDGER].today().isoformat()}
    url = f"/api/v1/loans/{loan_number('D1')}/payments"
    refused = await client.post(url, headers=AUTH, json=body)
    assert refused.status == 403
    async with client.app[LEDGER].sessions() as session:
        refs = (await session.execute(select(m.Payment.external_ref))).scalars().all()
    assert "PAY-SCOPE" not in refs
    assert (await client.post(url, headers=PAYMENTS, json=body)).status == 201


async def test_an_unknown_token_is_still_401_not_403(client, demo):
    resp = await client.get("/api/v1/policy/texts", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401 and (await resp.json())["code"] == "unauthorized"


def test_cli_create_token_registers_a_client_with_its_scope(settings, tmp_path):
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the CLI path is the same on both databases; SQLite is enough")
    env = {**os.environ, "ID_HASH_SALT": "s", "DATABASE_URL": settings.database_url}
    ok = ledger_process(["create-token", "--name", "psp-1", "--scope", "payments"], env)  # this file's real one
    assert ok.returncode == 0, ok.stderr
    assert len(ok.stdout.strip()) >= 32
    bad = ledger_in_process(["create-token", "--name", "x", "--scope", "root"], env)
    assert bad.returncode == 2 and "scope" in bad.stderr
    no_scope = ledger_in_process(["create-token", "--name", "y"], env)
    assert no_scope.returncode == 2 and "--scope" in no_scope.stderr


async def test_a_registered_client_token_is_held_to_its_scope(client, demo):
    from ledger.cli import _create_client

    await _create_client(client.app[SETTINGS], "psp-2", "psp-2-token", "payments")
    headers = {"Authorization": "Bearer psp-2-token"}
    body = {"external_ref": "PAY-PSP-2", "amount": "100.00", "received_on": client.app[LEDGER].today().isoformat()}
    assert (await client.post(f"/api/v1/loans/{loan_number('D1')}/payments", headers=headers, json=body)).status == 201
    resp = await client.post("/api/v1/verifications", headers=headers, json=SAMPLE_BODIES["create_verification"])
    assert resp.status == 403 and (await resp.json())["code"] == "forbidden"


def test_scoped_tokens_are_read_from_the_environment_and_must_differ():
    from ledger.settings import Settings, SettingsError

    env = {
        "LEDGER_API_TOKEN": "b",
        "LEDGER_DESK_TOKEN": "d",
        "LEDGER_PAYMENTS_TOKEN": "p",
        "LEDGER_ANALYTICS_TOKEN": "a",
        "ID_HASH_SALT": "s",
    }
    settings = Settings.from_env(env)
    assert [(name, scope) for name, scope, _ in settings.static_clients()] == [
        ("api", "bot"),
        ("api:desk", "desk"),
        ("api:payments", "payments"),
        ("api:analytics", "analytics"),
    ]
    settings.require_serving()
    with pytest.raises(SettingsError, match="LEDGER_PAYMENTS_TOKEN"):
        Settings.from_env({**env, "LEDGER_PAYMENTS_TOKEN": "b"}).require_serving()


async def test_a_head_request_is_held_to_the_scopes_of_the_get_it_runs(client, demo):
    headers = {**PAYMENTS, **(await as_borrower(client, "D1"))}
    headers["Authorization"] = PAYMENTS["Authorization"]
    before = await audit_count(client)
    resp = await client.head(f"/api/v1/loans/{loan_number('D1')}/status", headers=headers)
    assert resp.status == 403
    assert await audit_count(client) == before  # no status disclosure was audited, none happened
