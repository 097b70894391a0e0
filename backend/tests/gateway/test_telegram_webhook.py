"""The Telegram bot's webhook (docs/outbound.md): a borrower's STOP ("TD", "退订", "STOP") in
the chat their reminders come to opts them out of Telegram at once, through the ledger's door,
and the webhook's answer carries the confirmation back to that chat (Bot API "reply in the
webhook response"). Anything else is answered 200 ``{}`` and changes nothing: Telegram retries
any other status. The ledger here is the real one, in-process, on the demo portfolio."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ledger.db import models as m
from ledger.services.channel_bindings import bind

SECRET = "telegram-webhook-secret_0123"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHAT_ID = 555000111
ZH_CONFIRMATION = "【还信】已为您退订此渠道的还款提醒。您仍可随时登录还信联系我们。"


@pytest.fixture
async def ledger(demo_ledger):
    """The demo ledger with D1 bound to the Telegram chat CHAT_ID."""
    sessions, ids = demo_ledger
    await bind(sessions.kw["bind"], ids["D1"], "telegram", str(CHAT_ID), datetime.now(UTC), "test")
    return demo_ledger


@pytest.fixture
def make_client(make_ledger_client, ledger):
    return make_ledger_client


def update(text: str | None = "TD", chat_id: object = CHAT_ID) -> dict:
    """A Telegram Update carrying a private message from ``chat_id``."""
    message: dict = {"message_id": 7, "date": 1764547200, "chat": {"id": chat_id, "type": "private"}}
    if text is not None:
        message["text"] = text
    return {"update_id": 10001, "message": message}


async def preferences(sessions, borrower_id: str) -> tuple[bool, list[str]] | None:
    async with sessions() as s:
        pref = await s.get(m.ContactPreference, borrower_id)
        return None if pref is None else (pref.stop_all, list(pref.opted_out_channels))


async def opt_out_audits(sessions) -> list[m.AuditEntry]:
    async with sessions() as s:
        return list((await s.execute(select(m.AuditEntry).where(m.AuditEntry.action == "contact_opted_out"))).scalars())


async def unchanged(sessions, ids) -> bool:
    return await preferences(sessions, ids["D1"]) in (None, (False, [])) and await opt_out_audits(sessions) == []


async def test_telegram_webhook_is_off_without_its_secret(make_client, ledger):
    client = await make_client()
    r = await client.post("/api/telegram/webhook", json=update(), headers={HEADER: SECRET})
    assert r.status == 404
    assert await unchanged(*ledger)


@pytest.mark.parametrize("headers, status", [({}, 401), ({HEADER: "wrong"}, 403), ({HEADER: SECRET + "x"}, 403)])
async def test_telegram_webhook_without_the_right_secret_changes_nothing(make_client, ledger, headers, status):
    client = await make_client(telegram_webhook_secret=SECRET)
    r = await client.post("/api/telegram/webhook", json=update(), headers=headers)
    assert r.status == status
    assert (await r.json())["code"] in ("unauthorized", "forbidden")
    assert await unchanged(*ledger)


@pytest.mark.parametrize("word", ["TD", "退订", " td。", "/stop@HuanxinBot"])
async def test_telegram_stop_from_a_bound_chat_opts_out_and_confirms(make_client, ledger, word, caplog):
    sessions, ids = ledger
    client = await make_client(telegram_webhook_secret=SECRET)
    with caplog.at_level(logging.DEBUG):
        r = await client.post("/api/telegram/webhook", json=update(word), headers={HEADER: SECRET})
    assert r.status == 200
    body = await r.json()
    if word.startswith("/"):  # the bot command "/stop" is the English STOP
        assert body["text"].startswith("Huanxin: you will receive no more")
        body["text"] = ZH_CONFIRMATION
    assert body == {"method": "sendMessage", "chat_id": CHAT_ID, "text": ZH_CONFIRMATION}
    assert await preferences(sessions, ids["D1"]) == (False, ["telegram"])
    (audit,) = await opt_out_audits(sessions)
    assert audit.borrower_id == ids["D1"] and audit.actor == "gateway:stop_reply"
    assert audit.detail["channel"] == "telegram" and str(CHAT_ID) not in str(audit.detail)  # never the chat id
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith(("aiosqlite", "sqlalchemy", "asyncio"))]
    assert ours and not [line for line in ours if str(CHAT_ID) in line]  # the driver's debug log aside


async def test_telegram_stop_in_english_confirms_in_english_and_stays_opted_out_once(make_client, ledger):
    sessions, ids = ledger
    client = await make_client(telegram_webhook_secret=SECRET)
    for word in ("STOP", "stop!"):
        r = await client.post("/api/telegram/webhook", json=update(word), headers={HEADER: SECRET})
        body = await r.json()
        assert r.status == 200 and body["method"] == "sendMessage" and body["chat_id"] == CHAT_ID
        assert body["text"].startswith("Huanxin: you will receive no more")
    assert await preferences(sessions, ids["D1"]) == (False, ["telegram"])


@pytest.mark.parametrize(
    "payload",
    [
        update("我下周还"),  # any other text
        update("TD", chat_id=999000999),  # a chat nobody bound
        update("TD", chat_id=str(CHAT_ID)),  # Telegram's chat ids are integers
        update("TD", chat_id=True),
        update(None),  # a sticker, a photo: no text
        update(["TD"]),
        {"update_id": 10002},  # no message (a callback, a channel post)
        {"update_id": 10003, "edited_message": update()["message"]},
        {"update_id": 10004, "message": "TD"},
        {"update_id": 10005, "message": {"text": "TD"}},
        {"update_id": 10006, "message": {"text": "TD", "chat": []}},
        ["not", "an", "update"],
    ],
)
async def test_telegram_other_updates_answer_empty_and_change_nothing(make_client, ledger, payload):
    client = await make_client(telegram_webhook_secret=SECRET)
    r = await client.post("/api/telegram/webhook", json=payload, headers={HEADER: SECRET})
    assert r.status == 200
    assert await r.json() == {}
    assert await unchanged(*ledger)


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b""])
async def test_telegram_malformed_body_is_200_empty_and_logged_without_content(make_client, ledger, raw, caplog):
    client = await make_client(telegram_webhook_secret=SECRET)
    with caplog.at_level(logging.DEBUG, logger="gateway.telegram"):
        r = await client.post(
            "/api/telegram/webhook", data=raw, headers={HEADER: SECRET, "Content-Type": "application/json"}
        )
    assert r.status == 200
    assert await r.json() == {}
    assert "unreadable" in caplog.text and "not json" not in caplog.text
    assert await unchanged(*ledger)


async def test_telegram_malformed_body_with_a_wrong_secret_is_still_refused(make_client, ledger):
    client = await make_client(telegram_webhook_secret=SECRET)
    r = await client.post("/api/telegram/webhook", data=b"{not json", headers={HEADER: "wrong"})
    assert r.status == 403
