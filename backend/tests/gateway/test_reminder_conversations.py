"""The conversation that follows a reminder (docs/outbound.md): the SMS provider's inbound
webhook passes STOP replies to the ledger; in the web chat a verified borrower's STOP is the
gateway's to record and confirm; a chat opened from a reminder's link keeps its reference and
passes it to the bot with every message. The ledger here is the real one, in-process, on the
demo portfolio."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from gateway.keys import service_key
from huanxin_testkit.gw_fake_rasa import metadata_key, received_key
from huanxin_testkit.gw_helpers import record_verification
from ledger.db import models as m

SECRET = "sms-webhook-secret"
ZH_CONFIRMATION = "【还信】已为您退订此渠道的还款提醒。您仍可随时登录还信联系我们。"


@pytest.fixture
def ledger(demo_ledger):
    return demo_ledger


@pytest.fixture
def make_client(make_ledger_client):
    return make_ledger_client


async def preferences(sessions, borrower_id: str) -> tuple[bool, list[str]] | None:
    async with sessions() as s:
        pref = await s.get(m.ContactPreference, borrower_id)
        return None if pref is None else (pref.stop_all, list(pref.opted_out_channels))


async def opt_out_audits(sessions) -> list[dict]:
    async with sessions() as s:
        rows = (await s.execute(select(m.AuditEntry).where(m.AuditEntry.action == "contact_opted_out"))).scalars()
        return [r.detail for r in rows]


# ---- the SMS inbound webhook -------------------------------------------------------------


async def test_sms_webhook_is_off_without_its_secret(make_client, ledger):
    client = await make_client()
    r = await client.post("/api/sms/inbound", json={"from": "13800000001", "text": "TD"})
    assert r.status == 404
    assert await preferences(ledger[0], ledger[1]["D1"]) in (None, (False, []))


@pytest.mark.parametrize("headers, status", [({}, 401), ({"X-Webhook-Secret": "wrong"}, 403)])
async def test_sms_webhook_without_the_right_secret_changes_nothing(make_client, ledger, headers, status):
    client = await make_client(sms_webhook_secret=SECRET)
    r = await client.post("/api/sms/inbound", json={"from": "13800000001", "text": "TD"}, headers=headers)
    assert r.status == status
    assert (await r.json())["code"] in ("unauthorized", "forbidden")
    assert await preferences(ledger[0], ledger[1]["D1"]) in (None, (False, []))
    assert await opt_out_audits(ledger[0]) == []


async def test_sms_td_opts_the_senders_sms_out_and_returns_the_confirmation(make_client, ledger):
    sessions, ids = ledger
    client = await make_client(sms_webhook_secret=SECRET)
    r = await client.post(
        "/api/sms/inbound", json={"from": "+8613800000001", "text": " td。"}, headers={"X-Webhook-Secret": SECRET}
    )
    assert r.status == 200
    assert await r.json() == {"stop": True, "reply": ZH_CONFIRMATION}
    assert await preferences(sessions, ids["D1"]) == (False, ["sms"])
    (audit,) = await opt_out_audits(sessions)
    assert audit["channel"] == "sms" and "13800000001" not in str(audit)  # never the phone
    # STOP is English: the English confirmation; D1 stays opted out once
    r = await client.post(
        "/api/sms/inbound", json={"from": "13800000001", "text": "STOP"}, headers={"X-Webhook-Secret": SECRET}
    )
    assert (await r.json())["reply"].startswith("Huanxin: you will receive no more")
    assert await preferences(sessions, ids["D1"]) == (False, ["sms"])


async def test_sms_other_text_and_unknown_numbers_change_nothing(make_client, ledger):
    sessions, ids = ledger
    client = await make_client(sms_webhook_secret=SECRET)
    headers = {"X-Webhook-Secret": SECRET}
    r = await client.post("/api/sms/inbound", json={"from": "13800000002", "text": "我下周还"}, headers=headers)
    assert await r.json() == {"stop": False, "reply": None}
    r = await client.post("/api/sms/inbound", json={"from": "13999999999", "text": "TD"}, headers=headers)
    assert await r.json() == {"stop": True, "reply": ZH_CONFIRMATION}  # the same answer as a borrower's number
    assert await preferences(sessions, ids["D2"]) in (None, (False, []))
    assert await opt_out_audits(sessions) == []


@pytest.mark.parametrize(
    "body, key",
    [({"text": "TD"}, "from"), ({"from": "13800000001"}, "text"), ({"from": 138, "text": "TD"}, "from")],
)
async def test_sms_webhook_bad_body_names_the_key(make_client, ledger, body, key):
    client = await make_client(sms_webhook_secret=SECRET)
    r = await client.post("/api/sms/inbound", json=body, headers={"X-Webhook-Secret": SECRET})
    assert r.status == 422
    assert (await r.json())["detail"].startswith(key)
    assert await opt_out_audits(ledger[0]) == []


# ---- the web chat ------------------------------------------------------------------------


async def new_chat(client, **body) -> str:
    r = await client.post("/api/chat/conversations", json={"language": "zh", **body})
    assert r.status == 201, await r.text()
    return (await r.json())["conversation_id"]


async def test_a_verified_borrowers_stop_in_the_web_chat_is_recorded_and_confirmed(make_client, ledger, fake_rasa):
    sessions, ids = ledger
    client = await make_client()
    conv_id = await new_chat(client)
    await record_verification(sessions, ids["D5"], conv_id)
    result = await client.app[service_key].handle_borrower_message(conv_id, "退订")
    assert [r["text"] for r in result.replies] == [ZH_CONFIRMATION]
    assert fake_rasa.app[received_key] == []  # the gateway answered, not the bot
    assert await preferences(sessions, ids["D5"]) == (False, ["web"])
    (audit,) = await opt_out_audits(sessions)
    assert audit["conversation_id"] == conv_id and audit["channel"] == "web"


async def test_a_stop_in_a_chat_opened_from_an_sms_reminder_opts_out_of_sms(make_client, ledger):
    sessions, ids = ledger
    async with sessions() as s, s.begin():
        loan = (await s.execute(select(m.Loan).where(m.Loan.borrower_id == ids["D5"]))).scalars().first()
        now = datetime.now(UTC)
        row = m.ContactRecord(
            idempotency_key="k-d5", borrower_id=ids["D5"], loan_id=loan.id, reason="before_due", channel="sms",
            template="before_due", language="zh", subject={}, status="delivered", send_after=now,
            send_before=now, attempts=1, delivered_at=now, created_at=now, updated_at=now,
        )  # fmt: skip
        s.add(row)
    from ledger.domain.reminder_refs import reminder_ref

    client = await make_client()
    conv_id = await new_chat(client, reminder_ref=reminder_ref(row.id))
    await record_verification(sessions, ids["D5"], conv_id)
    await client.app[service_key].handle_borrower_message(conv_id, "TD")
    assert await preferences(sessions, ids["D5"]) == (False, ["sms"])


async def test_a_bare_stop_in_a_chat_not_opened_from_a_reminder_is_the_bots(make_client, ledger, fake_rasa):
    """In a form, "stop" means leaving it (the bot's reading): not an opt-out, unless the chat
    follows a reminder."""
    sessions, ids = ledger
    client = await make_client()
    conv_id = await new_chat(client)
    await record_verification(sessions, ids["D5"], conv_id)
    await client.app[service_key].handle_borrower_message(conv_id, "stop")
    assert [message for _, message in fake_rasa.app[received_key]] == ["stop"]
    assert await opt_out_audits(sessions) == []
    from_link = await new_chat(client, reminder_ref="r1")
    await record_verification(sessions, ids["D5"], from_link)
    result = await client.app[service_key].handle_borrower_message(from_link, "STOP!")
    assert result.replies[0]["text"].startswith("Huanxin: you will receive no more")
    assert await preferences(sessions, ids["D5"]) == (False, ["web"])  # r1 is no reminder of D5's


async def test_a_stop_before_verification_goes_to_the_bot_and_changes_nothing(make_client, ledger, fake_rasa):
    sessions, ids = ledger
    client = await make_client()
    conv_id = await new_chat(client)
    await client.app[service_key].handle_borrower_message(conv_id, "STOP")
    assert [message for _, message in fake_rasa.app[received_key]] == ["STOP"]
    assert await opt_out_audits(sessions) == []


async def test_a_chat_opened_from_a_reminder_link_passes_its_reference_to_the_bot(make_client, ledger, fake_rasa):
    client = await make_client()
    conv_id = await new_chat(client, reminder_ref="r1a")
    await client.app[service_key].handle_borrower_message(conv_id, "你好")
    assert fake_rasa.app[metadata_key][-1]["reminder_ref"] == "r1a"
    plain = await new_chat(client)
    await client.app[service_key].handle_borrower_message(plain, "你好")
    assert "reminder_ref" not in fake_rasa.app[metadata_key][-1]


@pytest.mark.parametrize("ref", ["R1", "r", "r1a; drop", 12, "r" + "1" * 13])
async def test_a_bad_reminder_reference_is_refused_naming_the_key(make_client, ledger, ref):
    client = await make_client()
    r = await client.post("/api/chat/conversations", json={"language": "zh", "reminder_ref": ref})
    assert r.status == 422
    assert (await r.json())["detail"].startswith("reminder_ref")


async def test_a_td_on_wechat_opts_the_verified_borrower_out_of_wechat(make_client, ledger, fake_rasa):
    sessions, ids = ledger
    client = await make_client()
    service = client.app[service_key]
    conv = await service.conversation_for_external("wechat", "oHX_openid_reminder_1")
    await record_verification(sessions, ids["D1"], conv.id)
    result = await service.handle_borrower_message(conv.id, "ＴＤ")  # full-width, as a phone keyboard may send it
    assert [r["text"] for r in result.replies] == [ZH_CONFIRMATION]
    assert fake_rasa.app[received_key] == []
    assert await preferences(sessions, ids["D1"]) == (False, ["wechat"])
