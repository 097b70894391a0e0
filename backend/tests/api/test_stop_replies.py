"""STOP replies (POST /api/v1/stop-replies): "TD", "退订" or "STOP" on a channel opts the
borrower out of that channel at once and is confirmed in the word's language; the next
dispatch leaves that channel alone. A number that matches nobody gets the same answer and
changes nothing; other channels need the verified conversation; the phone is never audited."""

from __future__ import annotations

from sqlalchemy import select

from ledger.db import models as m
from ledger.domain.demo import DEMO_BORROWERS
from ledger.web.keys import LEDGER

from .conftest import AUTH, DESK
from .helpers import as_borrower


async def preferences(client, borrower_id: str) -> tuple[bool, list[str]]:
    async with client.app[LEDGER].sessions() as s:
        pref = await s.get(m.ContactPreference, borrower_id)
        return (pref.stop_all, list(pref.opted_out_channels)) if pref else (False, [])


async def test_td_by_sms_opts_that_channel_out_at_once_and_is_confirmed(client, demo):
    phone = "+86" + DEMO_BORROWERS["D5"].phone
    resp = await client.post(
        "/api/v1/stop-replies", headers=AUTH, json={"channel": "sms", "text": " td。", "phone": phone}
    )
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body == {"stop": True, "channel": "sms", "confirmation": body["confirmation"]}
    assert "退订" in body["confirmation"]
    assert await preferences(client, demo["D5"]) == (False, ["sms"])
    # again, with the other words: kept once; STOP answers in English
    for word in ("退订", "ＳＴＯＰ"):
        resp = await client.post(
            "/api/v1/stop-replies", headers=DESK, json={"channel": "sms", "text": word, "phone": phone}
        )
        assert (await resp.json())["stop"] is True
    assert "no more" in (await resp.json())["confirmation"]
    assert await preferences(client, demo["D5"]) == (False, ["sms"])
    async with client.app[LEDGER].sessions() as s:
        entries = (
            (
                await s.execute(
                    select(m.AuditEntry.detail).where(
                        m.AuditEntry.borrower_id == demo["D5"], m.AuditEntry.action == "contact_opted_out"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(entries) == 3 and all(e["channel"] == "sms" and e["by"] == "stop_reply" for e in entries)
    assert not any(DEMO_BORROWERS["D5"].phone in str(e) for e in entries)


async def test_a_reply_that_is_not_a_stop_changes_nothing(client, demo):
    phone = DEMO_BORROWERS["D5"].phone
    for text in ("好的", "stop calling me at night", "TDX", ""):
        resp = await client.post(
            "/api/v1/stop-replies", headers=AUTH, json={"channel": "sms", "text": text, "phone": phone}
        )
        assert await resp.json() == {"stop": False, "channel": "sms", "confirmation": None}, text
    assert await preferences(client, demo["D5"]) == (False, [])


async def test_an_unknown_number_gets_the_same_answer_and_changes_nothing(client, demo):
    known = await client.post(
        "/api/v1/stop-replies", headers=AUTH, json={"channel": "sms", "text": "TD", "phone": DEMO_BORROWERS["D1"].phone}
    )
    before = {key: await preferences(client, bid) for key, bid in demo.items()}
    unknown = await client.post(
        "/api/v1/stop-replies", headers=AUTH, json={"channel": "sms", "text": "TD", "phone": "13999999999"}
    )
    assert (known.status, await known.json()) == (unknown.status, await unknown.json())
    assert {key: await preferences(client, bid) for key, bid in demo.items()} == before
    assert before["D1"] == (False, ["sms"])


async def test_the_web_chat_needs_the_verified_conversation(client, demo):
    resp = await client.post(
        "/api/v1/stop-replies",
        headers=AUTH,
        json={"channel": "web", "text": "退订", "phone": DEMO_BORROWERS["D6"].phone},
    )
    assert resp.status == 401
    assert await preferences(client, demo["D6"]) == (False, [])
    headers = await as_borrower(client, "D6", "conv-stop")
    resp = await client.post("/api/v1/stop-replies", headers=headers, json={"channel": "web", "text": "退订"})
    assert resp.status == 200 and (await resp.json())["stop"] is True
    assert await preferences(client, demo["D6"]) == (False, ["web"])


async def test_bad_requests_are_refused_and_change_nothing(client, demo):
    for body in (
        {"channel": "pigeon", "text": "TD", "phone": DEMO_BORROWERS["D5"].phone},
        {"channel": "sms", "text": "TD", "phone": "not a phone"},
        {"channel": "sms", "text": "TD", "phone": DEMO_BORROWERS["D5"].phone, "extra": 1},
        {"channel": "sms", "text": 7, "phone": DEMO_BORROWERS["D5"].phone},
    ):
        resp = await client.post("/api/v1/stop-replies", headers=AUTH, json=body)
        assert resp.status == 422, body
    resp = await client.post("/api/v1/stop-replies", json={"channel": "sms", "text": "TD"})
    assert resp.status == 401
    assert await preferences(client, demo["D5"]) == (False, [])
