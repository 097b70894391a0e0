"""Desk hours and who is on shift: an escalation nobody can answer now tells the borrower when
they will hear back; the queue puts overdue conversations first. All with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.settings import DeskSettings, GatewaySettings, SettingsError
from huanxin_testkit.gw_desk import gateway_factory
from huanxin_testkit.gw_helpers import Widget, desk_for, escalated_conversation, other_client

HOURS = {"GATEWAY_DESK_HOURS": "Mon-Fri 09:00-18:00", "GATEWAY_DESK_TZ": "Asia/Shanghai"}


@pytest.fixture
def make_desk_gateway(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa):
    return gateway_factory(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa)


async def handoff_notice(client) -> str:
    widget = await Widget.open(client)
    await widget.send("I want a human", "m1")
    notice = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "system")
    return notice["text"]


@pytest.mark.parametrize(
    "value", ["Mon-Fry 09:00-18:00", "Mon-Fri 9-18", "Mon-Fri 18:00-09:00", "weekdays", "Mon-Fri 09:00-25:00"]
)
def test_unusable_desk_hours_are_refused_at_start_naming_the_variable(value):
    with pytest.raises(SettingsError, match="GATEWAY_DESK_HOURS"):
        GatewaySettings.from_env({"GATEWAY_DESK_HOURS": value})


def test_unknown_desk_time_zone_is_refused_at_start_naming_the_variable():
    with pytest.raises(SettingsError, match="GATEWAY_DESK_TZ"):
        GatewaySettings.from_env({**HOURS, "GATEWAY_DESK_TZ": "Mars/Olympus_Mons"})


def test_several_desk_hour_ranges_are_accepted():
    desk = DeskSettings.from_env({"GATEWAY_DESK_HOURS": "Mon-Fri 09:00-18:00; Sat 10:00-14:00"})
    assert desk.hours is not None and desk.hours.describe("en") == "Mon-Fri 09:00-18:00; Sat 10:00-14:00"


async def test_handoff_outside_desk_hours_tells_the_hours_and_when_they_will_hear_back(make_desk_gateway, clock):
    clock.now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # Saturday 11:00 in Shanghai
    client = await make_desk_gateway(desk=HOURS)
    text = await handoff_notice(client)
    assert "joining" not in text
    assert "Mon-Fri 09:00-18:00" in text and "Mon 30 Nov 09:00" in text


async def test_handoff_outside_desk_hours_in_chinese(make_desk_gateway, clock):
    clock.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday 20:00 in Shanghai
    client = await make_desk_gateway(desk=HOURS)
    widget = await Widget.open(client, language="zh")
    await widget.send("我要人工", "m1")
    notice = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "system")
    assert "周一至周五 09:00-18:00" in notice["text"] and "11月26日（周四）09:00" in notice["text"]


async def test_handoff_in_hours_with_nobody_on_shift_says_the_request_is_queued(make_desk_gateway, clock):
    client = await make_desk_gateway(desk=HOURS)  # Wednesday 10:00 in Shanghai
    text = await handoff_notice(client)
    assert "joining" not in text and "queued" in text


async def test_handoff_in_hours_with_an_agent_on_shift_says_someone_is_joining(
    make_desk_gateway, aiohttp_client, clock
):
    client = await make_desk_gateway(desk=HOURS)
    await desk_for(await other_client(aiohttp_client, client), "li.na")
    assert "joining" in await handoff_notice(client)


async def test_an_agent_last_seen_long_ago_is_not_on_shift_but_an_open_desk_is(
    make_desk_gateway, aiohttp_client, clock
):
    client = await make_desk_gateway(desk=HOURS)
    agent_client = await other_client(aiohttp_client, client)
    await desk_for(agent_client, "li.na")
    clock.advance(30 * 60)
    assert "queued" in await handoff_notice(client)
    ws = await agent_client.ws_connect("/ws/desk")
    assert (await ws.receive_json())["type"] == "hello"
    clock.advance(30 * 60)
    assert "joining" in await handoff_notice(client)
    await ws.close()


async def test_without_desk_hours_the_handoff_says_joining_only_when_an_agent_is_on_the_desk(
    make_desk_gateway, aiohttp_client
):
    client = await make_desk_gateway()
    text = await handoff_notice(client)
    assert "joining" not in text and "queued" in text  # nobody on the desk: no promise of a person now
    await desk_for(await other_client(aiohttp_client, client), "li.na")
    assert "joining" in await handoff_notice(client)


async def test_queue_shows_overdue_conversations_first_and_marks_them(make_desk_gateway, aiohttp_client, clock):
    client = await make_desk_gateway(desk={**HOURS, "GATEWAY_DESK_OVERDUE_MINUTES": "15"})
    taken = await escalated_conversation(client)
    clock.advance(60)
    waiting = await escalated_conversation(client)
    sup = await desk_for(await other_client(aiohttp_client, client), "boss", role="supervisor")
    assert (await sup.take(taken.conversation_id)).status == 200
    queue = await sup.queue()
    assert [q["overdue"] for q in queue] == [False, False]
    clock.advance(16 * 60)
    queue = await sup.queue()
    assert [q["conversation_id"] for q in queue][:2] == [waiting.conversation_id, taken.conversation_id]
    assert queue[0]["overdue"] is True and queue[1]["overdue"] is False
