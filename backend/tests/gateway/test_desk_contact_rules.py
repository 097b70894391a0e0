"""Agent replies pushed through the WeChat customer-service API follow the contact rules
(opt-out, cease-contact, 08:00-21:00 in the borrower's time zone, a borrower message in the
last 48 h); a refused or failed send is kept agent-only and the agent is told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.keys import service_key
from gateway.wechat import WeChatApiError
from huanxin_testkit.gw_desk import gateway_factory
from huanxin_testkit.gw_helpers import desk_for

OPENID = "oHX_openid_borrower_001"


class RulesAccounts:
    """An account reader whose contact rules the test sets."""

    def __init__(self, **rules) -> None:
        self.rules = {
            "stop_all": False,
            "opted_out_channels": [],
            "timezone": "Asia/Shanghai",
            "open_dispute": False,
            **rules,
        }

    async def account(self, conversation_id: str):
        return {"borrower_name": "Zhang San", "bucket": "B1", "loans": []}

    async def contact_rules(self, conversation_id: str):
        return self.rules


class FailingWeChatClient:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_text(self, openid: str, content: str) -> None:
        raise WeChatApiError(45015, "response out of time limit or subscription is canceled")


@pytest.fixture
def make_desk_gateway(aiohttp_client, database_url, clock, audit, fake_rasa):
    def make(wechat_client, accounts, **settings):
        return gateway_factory(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa)(
            accounts=accounts, **settings
        )

    return make


async def taken_wechat_conversation(client):
    service = client.app[service_key]
    conv = await service.conversation_for_external("wechat", OPENID)
    await service.handle_borrower_message(conv.id, "我要人工", client_msg_id="w1")
    desk = await desk_for(client, "li.na")
    assert (await desk.take(conv.id)).status == 200
    return desk, conv.id


async def reply_texts(client, conversation_id: str) -> list[tuple[str, str, bool]]:
    view = await client.app[service_key].transcript(conversation_id, include_agent_only=True)
    return [(m["sender"], m["text"], m["agent_only"]) for m in view if m["sender"] in ("agent", "system")]


@pytest.mark.parametrize(
    "rules, reason",
    [
        ({"opted_out_channels": ["wechat"]}, "opted_out"),
        ({"stop_all": True}, "cease_contact"),
    ],
)
async def test_reply_to_a_borrower_who_said_stop_is_refused_and_kept_agent_only(
    make_desk_gateway, wechat_client, rules, reason
):
    client = await make_desk_gateway(wechat_client, RulesAccounts(**rules))
    desk, cid = await taken_wechat_conversation(client)
    sent_before = list(wechat_client.sent)
    resp = await desk.reply(cid, "Can you pay today?")
    assert resp.status == 409
    body = await resp.json()
    assert body["code"] == "contact_refused" and body["reason"] == reason and body["detail"]
    assert wechat_client.sent == sent_before
    texts = await reply_texts(client, cid)
    assert ("agent", "Can you pay today?", True) in texts
    assert any(sender == "system" and only and reason in text for sender, text, only in texts)


async def test_reply_outside_0800_2100_in_the_borrowers_time_zone_is_refused(make_desk_gateway, wechat_client, clock):
    clock.now = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai
    client = await make_desk_gateway(wechat_client, RulesAccounts())
    desk, cid = await taken_wechat_conversation(client)
    resp = await desk.reply(cid, "Still there?")
    assert resp.status == 409 and (await resp.json())["reason"] == "outside_contact_hours"
    assert not any("Still there?" in content for _, content in wechat_client.sent)


@pytest.mark.parametrize(
    "written, replies",
    [
        ((11, 59), [((11, 59), True), ((12, 0), False)]),  # 19:59 inside, 20:00 outside
        ((0, 59), [((0, 59), False), ((1, 0), True)]),  # 08:59 outside, 09:00 inside
    ],
)
async def test_the_window_is_the_policys(make_desk_gateway, wechat_client, clock, written, replies):
    """A lender whose policy allows 09:00-20:00 (Shanghai = UTC+8)."""
    clock.now = datetime(2026, 11, 25, *written, tzinfo=UTC)  # the borrower writes
    client = await make_desk_gateway(wechat_client, RulesAccounts(window_start="09:00", window_end="20:00"))
    desk, cid = await taken_wechat_conversation(client)
    for at, allowed in replies:
        clock.now = datetime(2026, 11, 25, *at, tzinfo=UTC)
        resp = await desk.reply(cid, f"at {at}")
        body = await resp.json()
        assert (resp.status == 201) == allowed, (at, body)
        if not allowed:
            assert body.get("reason") == "outside_contact_hours" and "09:00-20:00" in body["detail"], body


async def test_the_window_follows_the_borrowers_own_time_zone(make_desk_gateway, wechat_client, clock):
    clock.now = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)  # 13:30 in London
    client = await make_desk_gateway(wechat_client, RulesAccounts(timezone="Europe/London"))
    desk, cid = await taken_wechat_conversation(client)
    assert (await desk.reply(cid, "Still there?")).status == 201
    assert (OPENID, "Still there?") in wechat_client.sent


async def test_a_reply_during_an_open_dispute_is_a_reply_not_outbound_contact(make_desk_gateway, wechat_client):
    client = await make_desk_gateway(wechat_client, RulesAccounts(open_dispute=True))
    desk, cid = await taken_wechat_conversation(client)
    assert (await desk.reply(cid, "About your dispute: we are checking.")).status == 201
    assert (OPENID, "About your dispute: we are checking.") in wechat_client.sent


async def test_no_reply_once_the_borrower_has_been_silent_for_48_hours(make_desk_gateway, wechat_client, clock):
    client = await make_desk_gateway(wechat_client, RulesAccounts(), session_ttl_s=72 * 3600)
    desk, cid = await taken_wechat_conversation(client)
    clock.advance(49 * 3600)
    resp = await desk.reply(cid, "Hello again")
    assert resp.status == 409 and (await resp.json())["reason"] == "no_recent_borrower_message"


async def test_a_failed_send_is_reported_to_the_agent_and_kept_agent_only(make_desk_gateway, clock):
    client = await make_desk_gateway(FailingWeChatClient(), RulesAccounts())
    desk, cid = await taken_wechat_conversation(client)
    ws = await client.ws_connect("/ws/desk")
    assert (await ws.receive_json())["type"] == "hello"
    resp = await desk.reply(cid, "Can we talk?")
    assert resp.status == 502
    body = await resp.json()
    assert body["code"] == "send_failed" and "45015" in body["detail"]
    while True:
        event = await ws.receive_json(timeout=5)
        if event["type"] == "delivery_failed":
            break
    assert event["conversation_id"] == cid and event["seq"] == body["seq"]
    texts = await reply_texts(client, cid)
    assert ("agent", "Can we talk?", True) in texts
    await ws.close()


async def test_web_widget_replies_are_not_subject_to_app_contact_rules(make_desk_gateway, wechat_client, clock):
    from huanxin_testkit.gw_helpers import escalated_conversation

    clock.now = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    client = await make_desk_gateway(wechat_client, RulesAccounts(stop_all=True))
    widget = await escalated_conversation(client)
    desk = await desk_for(client, "li.na")
    await desk.take(widget.conversation_id)
    assert (await desk.reply(widget.conversation_id, "I'm here")).status == 201


async def test_the_ledger_reader_tells_the_contact_rules_and_the_queue_summary(database_url):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from gateway.ledger_bridge import LedgerAccounts
    from ledger.db import models as m
    from ledger.db.session import create_engine, create_session_factory
    from ledger.desk_door import DeskDoor
    from ledger.policy_file import load_policy
    from ledger.services.seeding import seed_demo

    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    ids = await seed_demo(sessions, salt="test-salt", today=datetime.now(ZoneInfo("Asia/Shanghai")).date())
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        for key, conv in (("D1", "conv-d1"), ("D7", "conv-d7")):
            s.add(
                m.VerificationSession(
                    token_hash=conv.ljust(64, "0"),
                    borrower_id=ids[key],
                    conversation_id=conv,
                    created_at=now,
                    last_used_at=now,
                    expires_at=now + timedelta(minutes=30),
                )
            )
        pref = await s.get(m.ContactPreference, ids["D1"])
        pref.stop_all, pref.opted_out_channels = True, ["wechat"]
    reader = LedgerAccounts(sessions, DeskDoor(sessions, policy=load_policy()))
    d1 = await reader.contact_rules("conv-d1")
    assert d1 == {
        "stop_all": True,
        "opted_out_channels": ["wechat"],
        "timezone": "Asia/Shanghai",
        "open_dispute": False,
        "window_start": "08:00",  # the policy's contact window (contact.window_start / window_end)
        "window_end": "21:00",
    }
    assert (await reader.contact_rules("conv-d7"))["open_dispute"] is True
    assert await reader.contact_rules("conv-unverified") is None
    assert await reader.summary("conv-d1") == {
        "borrower_name": "王芳",
        "bucket": "M1",
        "case_number": None,
        "loan_numbers": ["HX0000000001"],
    }
    assert await reader.summary("conv-unverified") is None
    await engine.dispose()
