"""What a borrower handed to the desk is told while nobody has the conversation yet: their place
in the queue (the conversations handed to the desk before theirs that nobody has yet, plus one),
in their language. A conversation an agent gets at once (auto-assignment) hears no place."""

from __future__ import annotations

from gateway.settings import DeskSettings
from huanxin_testkit.gw_helpers import Widget, agent_desk, desk_for, escalated_conversation


def places(widget: Widget) -> list[str]:
    return [m["text"] for m in widget.messages() if m["sender"] == "system" and "queue" in m["text"]]


async def test_each_waiting_borrower_hears_their_place_in_the_queue(gateway_client):
    first = await escalated_conversation(gateway_client)
    await first.wait_for(lambda e: e.get("type") == "message" and "number 1 in the queue" in e.get("text", ""))
    second = await escalated_conversation(gateway_client)
    await second.wait_for(lambda e: e.get("type") == "message" and "number 2 in the queue" in e.get("text", ""))
    zh = await Widget.open(gateway_client, language="zh")
    await zh.send("人工", "m1")
    await zh.wait_for(lambda e: e.get("type") == "message" and "第3位" in e.get("text", ""))


async def test_no_place_is_told_when_an_agent_gets_it_at_once(aiohttp_client, make_gateway):
    client = await make_gateway(desk=DeskSettings(assignment="least_busy"))
    await agent_desk(aiohttp_client, client, "li.na", "李娜")
    widget = await escalated_conversation(client)
    await widget.wait_for(lambda e: e.get("type") == "message" and "joined" in e.get("text", ""))
    assert places(widget) == []


async def test_the_borrower_sees_the_agents_display_name_never_the_login(gateway_client):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")  # display name "Li.Na"
    await desk.take(widget.conversation_id)
    assert (await desk.reply(widget.conversation_id, "您好")).status == 201
    reply = await widget.wait_for(lambda e: e.get("type") == "message" and e.get("sender") == "agent")
    assert reply["sender_name"] == "Li.Na"
    assert [e for e in widget.events if "li.na" in str(e)] == []


async def test_the_borrower_sees_the_agent_typing(gateway_client):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")
    path = f"/desk/api/conversations/{widget.conversation_id}/typing"
    assert (await desk.post(path, {"on": True})).status == 403  # not taken yet
    await desk.take(widget.conversation_id)
    assert (await desk.post(path, {"on": True})).status == 204
    typing = await widget.wait_for(lambda e: e.get("type") == "typing" and e.get("sender") == "agent")
    assert typing["on"] is True
    assert (await desk.post(path, {"on": False})).status == 204
    await widget.wait_for(lambda e: e.get("type") == "typing" and e.get("on") is False)
    for bad in ({}, {"on": "yes"}, {"on": 1}):
        resp = await desk.post(path, bad)
        assert resp.status == 422 and (await resp.json())["detail"]
