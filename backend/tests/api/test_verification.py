import json
import logging

import pytest
from sqlalchemy import select

from ledger.db import models as m
from ledger.domain.demo import DEMO_BORROWERS
from ledger.web.keys import LEDGER

from .conftest import AUTH
from .helpers import as_borrower, audit_actions, loan_number, row_counts, verify


def attempt(client, key="D1", **changes):
    b = DEMO_BORROWERS[key]
    body = {
        "conversation_id": "conv-1",
        "phone": b.phone,
        "date_of_birth": b.date_of_birth.isoformat(),
        "id_last4": b.id_last4,
    }
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}
    return client.post("/api/v1/verifications", headers=AUTH, json=body)


async def test_correct_details_return_a_token_bound_to_the_borrower(client, demo):
    v = await verify(client, "D1")
    assert v["borrower"] == {"borrower_id": demo["D1"], "name": "王芳", "language": "zh"}
    assert len(v["token"]) >= 32


async def test_loan_number_can_replace_the_phone(client, demo):
    resp = await attempt(client, "D4", phone=None, loan_number=loan_number("D4"))
    assert resp.status == 201
    assert (await resp.json())["borrower"]["borrower_id"] == demo["D4"]


async def test_wrong_details_fail_with_attempts_left_and_three_failures_lock_for_30_minutes(client, demo, clock):
    r1 = await attempt(client, id_last4="0000")
    assert r1.status == 401 and (await r1.json())["attempts_left"] == 2
    r2 = await attempt(client, date_of_birth="1990-03-16")
    assert r2.status == 401 and (await r2.json())["attempts_left"] == 1
    r3 = await attempt(client, id_last4="9999")
    body = await r3.json()
    assert r3.status == 423 and body["code"] == "verification_locked" and "locked_until" in body
    correct_while_locked = await attempt(client)
    assert correct_while_locked.status == 423
    clock.advance(minutes=29)
    assert (await attempt(client)).status == 423
    clock.advance(minutes=2)
    assert (await attempt(client)).status == 201


async def test_a_success_resets_the_failure_count(client, demo):
    await attempt(client, id_last4="0000")
    await attempt(client, id_last4="0000")
    assert (await attempt(client)).status == 201
    resp = await attempt(client, id_last4="0000")
    assert (await resp.json())["attempts_left"] == 2


async def test_unknown_phone_gets_the_same_answers_as_a_known_one(client, demo):
    known = await attempt(client, id_last4="0000")
    unknown = await attempt(client, phone="13999999999", id_last4="0000")
    k, u = await known.json(), await unknown.json()
    assert (known.status, unknown.status) == (401, 401)
    assert {**k, "detail": None} == {**u, "detail": None}
    await attempt(client, phone="13999999999")
    third = await attempt(client, phone="13999999999")
    assert third.status == 423


async def test_every_attempt_is_audited(client, demo):
    await attempt(client, id_last4="0000")
    await attempt(client)
    await attempt(client, phone="13999999999")
    assert (await audit_actions(client, demo["D1"])).count("verification_attempt") == 2
    assert (await audit_actions(client)).count("verification_attempt") >= 3


async def test_token_expires_after_30_idle_minutes_and_slides_with_use(client, demo, clock):
    headers = await as_borrower(client, "D1")
    url = f"/api/v1/loans/{loan_number('D1')}/status"
    clock.advance(minutes=20)
    assert (await client.get(url, headers=headers)).status == 200
    clock.advance(minutes=20)
    assert (await client.get(url, headers=headers)).status == 200
    clock.advance(minutes=31)
    resp = await client.get(url, headers=headers)
    assert resp.status == 401 and (await resp.json())["code"] == "verification_required"


async def test_missing_or_wrong_api_token_is_unauthorized(client, demo):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        resp = await client.get("/api/v1/policy/texts", headers=headers)
        assert resp.status == 401
        assert resp.content_type == "application/problem+json"
        assert (await resp.json())["code"] == "unauthorized"


async def test_non_ascii_identity_answers_and_conversation_ids_are_refused_not_crashed(client, demo):
    """Constant-time comparison of str raises on non-ASCII text; the ledger compares bytes."""
    resp = await attempt(client, id_last4="四三二一")
    assert resp.status in (401, 422)
    headers = await as_borrower(client, "D1")
    headers["X-Conversation-Id"] = "conv-é"
    resp = await client.get(f"/api/v1/loans/{loan_number('D1')}/status", headers=headers)
    assert resp.status == 401 and (await resp.json())["code"] == "verification_required"


# ---------------------------------------------------------------- per-client limit (client_ref)

WRONG_PHONES = [f"1390000{i:04d}" for i in range(20)]  # nobody's: failures here lock no real borrower


async def subjects(client) -> dict[str, tuple[int, object]]:
    async with client.app[LEDGER].sessions() as session:
        rows = (await session.execute(select(m.VerificationSubject))).scalars().all()
        return {r.subject: (r.failures, r.locked_until) for r in rows}


async def test_failures_from_one_client_across_many_borrowers_are_limited_with_429(client, demo, clock):
    """10 failed attempts per client_ref per hour, whichever borrowers they name; the 11th gets
    429 with Retry-After and touches no borrower's failure count, not even a correct one."""
    keys = ["D1", "D2", "D3", "D4", "D5"]
    for i in range(10):
        if i < 5:
            resp = await attempt(client, keys[i], id_last4="0000", client_ref="dev-a")
        else:
            resp = await attempt(client, phone=WRONG_PHONES[i], id_last4="0000", client_ref="dev-a")
        assert resp.status == 401, await resp.text()
    before = await subjects(client)
    for key, changes in (("D6", {"id_last4": "0000"}), ("D1", {}), ("D7", {})):
        resp = await attempt(client, key, client_ref="dev-a", **changes)
        assert resp.status == 429, await resp.text()
        assert resp.content_type == "application/problem+json"
        assert (await resp.json())["code"] == "verification_rate_limited"
        retry_after = int(resp.headers["Retry-After"])
        assert 0 < retry_after <= 3600
    assert await subjects(client) == before
    clock.advance(minutes=61)
    assert (await attempt(client, "D6", client_ref="dev-a")).status == 201


async def test_one_clients_failures_do_not_limit_another_client(client, demo):
    for i in range(10):
        await attempt(client, phone=WRONG_PHONES[i], id_last4="0000", client_ref="dev-a")
    assert (await attempt(client, "D1", client_ref="dev-a")).status == 429
    assert (await attempt(client, "D1", client_ref="dev-b")).status == 201
    assert (await attempt(client, "D2")).status == 201  # no client_ref: the per-borrower lock still applies


async def test_successes_do_not_count_and_do_not_reset_the_client_count(client, demo):
    for i in range(9):
        await attempt(client, phone=WRONG_PHONES[i], id_last4="0000", client_ref="dev-a")
    assert (await attempt(client, "D1", client_ref="dev-a")).status == 201
    assert (await attempt(client, phone=WRONG_PHONES[9], id_last4="0000", client_ref="dev-a")).status == 401
    assert (await attempt(client, "D1", client_ref="dev-a")).status == 429


async def test_the_per_borrower_lock_still_holds_below_the_client_limit(client, demo):
    for _ in range(2):
        assert (await attempt(client, id_last4="0000", client_ref="dev-a")).status == 401
    assert (await attempt(client, id_last4="0000", client_ref="dev-b")).status == 423


@pytest.mark.parametrize("client_ref", [123, "", "x" * 65, ["a"], "has space", None])
async def test_a_bad_client_ref_is_422_and_changes_nothing(client, demo, client_ref):
    b = DEMO_BORROWERS["D1"]
    body = {
        "conversation_id": "conv-1",
        "phone": b.phone,
        "date_of_birth": b.date_of_birth.isoformat(),
        "id_last4": b.id_last4,
        "client_ref": client_ref,
    }
    before = await row_counts(client)
    resp = await client.post("/api/v1/verifications", headers=AUTH, json=body)
    if client_ref is None:  # explicit null is the same as leaving it out
        assert resp.status == 201
        return
    assert resp.status == 422 and (await resp.json())["code"] == "invalid_request"
    assert await row_counts(client) == before


async def test_the_client_ref_is_kept_only_as_a_keyed_hash_and_never_logged(client, demo, caplog):
    caplog.set_level(logging.DEBUG)
    secret_ref = "0123456789abcdef"
    await attempt(client, id_last4="0000", client_ref=secret_ref)
    await attempt(client, client_ref=secret_ref)
    async with client.app[LEDGER].sessions() as session:
        stored = [r for r in (await session.execute(select(m.VerificationClient))).scalars().all()]
        audits = (await session.execute(select(m.AuditEntry.detail))).scalars().all()
    assert stored and all(secret_ref not in r.client_key for r in stored)
    assert all(secret_ref not in json.dumps(d) for d in audits)
    assert secret_ref not in caplog.text


async def test_concurrent_failures_from_one_client_never_exceed_its_limit(client, demo):
    import asyncio

    responses = await asyncio.gather(
        *(attempt(client, phone=WRONG_PHONES[i], id_last4="0000", client_ref="dev-burst") for i in range(15))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [401] * 10 + [429] * 5, statuses
