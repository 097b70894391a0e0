"""A borrower locked out of verification reaches a person: the desk sees the lock and an agent
who verified the borrower by other means records it, which clears the lock (audited)."""

import json

import pytest
from sqlalchemy import select

from ledger.db import models as m
from ledger.domain.demo import DEMO_BORROWERS
from ledger.web.keys import LEDGER

from .conftest import AUTH, DESK
from .test_verification import attempt

MANUAL = {"agent": "agent1", "method": "callback_on_record", "note": "called back on the phone on file"}


async def lock_out(client, key="D1"):
    for _ in range(3):
        await attempt(client, key, id_last4="0000")
    assert (await attempt(client, key)).status == 423


async def test_the_desk_sees_the_lock_of_a_borrower_and_of_a_conversation(client, demo):
    await lock_out(client)
    resp = await client.get(f"/api/v1/borrowers/{demo['D1']}/verification-state", headers=DESK)
    assert resp.status == 200, await resp.text()
    state = await resp.json()
    assert state["borrower_id"] == demo["D1"] and state["locked"] is True and state["locked_until"]
    resp = await client.get("/api/v1/conversations/conv-1/verification-state", headers=DESK)
    assert resp.status == 200, await resp.text()
    by_conversation = await resp.json()
    assert by_conversation["borrower_id"] == demo["D1"] and by_conversation["locked"] is True
    assert by_conversation["conversation_id"] == "conv-1" and by_conversation["verified"] is False


async def test_a_conversation_without_attempts_has_no_borrower_and_no_lock(client, demo):
    resp = await client.get("/api/v1/conversations/nobody-here/verification-state", headers=DESK)
    assert resp.status == 200
    state = await resp.json()
    assert state["borrower_id"] is None and state["locked"] is False and state["verified"] is False


async def test_an_agents_manual_verification_clears_the_lock_and_is_audited(client, demo):
    await lock_out(client)
    resp = await client.post(
        f"/api/v1/borrowers/{demo['D1']}/manual-verifications",
        headers=DESK,
        json={**MANUAL, "conversation_id": "conv-1"},
    )
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["borrower_id"] == demo["D1"] and body["method"] == "callback_on_record" and body["lock_cleared"] is True
    state = await (await client.get(f"/api/v1/borrowers/{demo['D1']}/verification-state", headers=DESK)).json()
    assert state["locked"] is False and state["failures"] == 0
    assert state["last_manual_verification"]["agent"] == "agent1"
    assert (await attempt(client)).status == 201  # the bot can verify the borrower again at once
    async with client.app[LEDGER].sessions() as session:
        entries = (
            (
                await session.execute(
                    select(m.AuditEntry).where(
                        m.AuditEntry.action == "manual_verification", m.AuditEntry.borrower_id == demo["D1"]
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor == "agent:agent1" and entry.at is not None
    assert entry.detail["method"] == "callback_on_record" and entry.detail["conversation_id"] == "conv-1"
    b = DEMO_BORROWERS["D1"]
    text = json.dumps(entry.detail, ensure_ascii=False)
    for answer in (b.phone, b.date_of_birth.isoformat(), b.id_last4):
        assert answer not in text


@pytest.mark.parametrize(
    "change",
    [
        {"method": "asked_nicely"},
        {"method": None},
        {"agent": ""},
        {"note": "DOB 1990-03-15, ID 4321"},  # identity answers never go into the audit
        {"note": "x" * 501},
        {"unexpected": True},
    ],
)
async def test_a_bad_manual_verification_is_422_and_leaves_the_lock(client, demo, change):
    await lock_out(client)
    body = {k: v for k, v in {**MANUAL, **change}.items() if v is not None}
    resp = await client.post(f"/api/v1/borrowers/{demo['D1']}/manual-verifications", headers=DESK, json=body)
    assert resp.status == 422 and (await resp.json())["code"] == "invalid_request"
    assert (await attempt(client)).status == 423


async def test_an_unknown_borrower_is_404(client, demo):
    resp = await client.post(
        "/api/v1/borrowers/00000000-0000-0000-0000-000000000000/manual-verifications", headers=DESK, json=MANUAL
    )
    assert resp.status == 404 and (await resp.json())["code"] == "not_found"
    resp = await client.get("/api/v1/borrowers/nope/verification-state", headers=DESK)
    assert resp.status == 404


async def test_the_bot_cannot_verify_manually_nor_read_the_lock(client, demo):
    await lock_out(client)
    resp = await client.post(f"/api/v1/borrowers/{demo['D1']}/manual-verifications", headers=AUTH, json=MANUAL)
    assert resp.status == 403
    resp = await client.get(f"/api/v1/borrowers/{demo['D1']}/verification-state", headers=AUTH)
    assert resp.status == 403
    assert (await attempt(client)).status == 423
