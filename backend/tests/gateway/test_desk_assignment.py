"""Working a queue: an escalation goes to the least busy agent on shift (open desk, under the
capacity), waits when nobody is, and is assigned when an agent's desk opens; a supervisor
reassigns and the displaced agent's desk is told at once; labels, unread counts and filters.
Every change is audited; bad input gets a clear 4xx and changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from gateway.keys import auth_key
from gateway.settings import DeskSettings, GatewaySettings, SettingsError
from huanxin_testkit.gw_helpers import PASSWORD, Desk, Widget, agent_desk, escalated_conversation


@pytest.fixture
async def gateway_client(make_gateway):
    """Escalations auto-assigned to the least busy agent (GATEWAY_DESK_ASSIGNMENT=least_busy)."""
    return await make_gateway(desk=DeskSettings(assignment="least_busy"))


async def next_event(ws, predicate) -> dict:
    async with asyncio.timeout(5.0):
        while True:
            event = await ws.receive_json()
            if predicate(event):
                return event


async def assigned(desk: Desk, cid: str) -> str | None:
    return (await (await desk.view(cid)).json())["conversation"]["assigned_agent"]


async def test_an_escalation_goes_to_the_least_busy_agent_on_shift(aiohttp_client, gateway_client, audit):
    li = await agent_desk(aiohttp_client, gateway_client, "li.na", "李娜")
    wang = await agent_desk(aiohttp_client, gateway_client, "wang.wei", "王伟")
    await agent_desk(aiohttp_client, gateway_client, "boss", "Boss", role="supervisor")  # never auto-assigned
    first = await escalated_conversation(gateway_client)
    owner = await assigned(li, first.conversation_id)
    assert owner in ("li.na", "wang.wei")
    joined = await first.wait_for(
        lambda e: e.get("type") == "message" and e.get("sender") == "system" and "joined" in e["text"]
    )
    assert ("李娜" if owner == "li.na" else "王伟") in joined["text"] and owner not in joined[
        "text"
    ]  # display name, not login
    second = await escalated_conversation(gateway_client)
    other = "wang.wei" if owner == "li.na" else "li.na"
    assert await assigned(wang, second.conversation_id) == other  # the one with fewer conversations
    entries = [(actor, detail) for actor, action, _, detail in audit.entries if action == "desk.auto_assigned"]
    assert [actor for actor, _ in entries] == [owner, other]
    assert entries[0][1] == {"load_before": 0, "capacity": 5}


async def test_nobody_on_shift_waits_and_is_assigned_when_a_desk_opens(aiohttp_client, gateway_client):
    li = await agent_desk(aiohttp_client, gateway_client, "li.na", "李娜", online=False)
    widget = await escalated_conversation(gateway_client)
    assert await assigned(li, widget.conversation_id) is None
    li.ws = await li.client.ws_connect("/ws/desk")
    await next_event(li.ws, lambda e: e.get("type") == "conversation" and e.get("assigned_agent") == "li.na")
    assert await assigned(li, widget.conversation_id) == "li.na"


async def test_an_agent_at_capacity_gets_no_more(aiohttp_client, make_gateway):
    client = await make_gateway(desk=DeskSettings(assignment="least_busy", agent_capacity=1))
    li = await agent_desk(aiohttp_client, client, "li.na", "李娜")
    first = await escalated_conversation(client)
    second = await escalated_conversation(client)
    assert await assigned(li, first.conversation_id) == "li.na"
    assert await assigned(li, second.conversation_id) is None  # waits for a free agent


async def test_a_supervisor_reassigns_and_the_displaced_desk_is_told(aiohttp_client, make_gateway, audit):
    client = await make_gateway(desk=DeskSettings(assignment="least_busy", agent_capacity=1))
    li = await agent_desk(aiohttp_client, client, "li.na", "李娜")
    widget = await escalated_conversation(client)
    cid = widget.conversation_id
    assert await assigned(li, cid) == "li.na"
    wang = await agent_desk(aiohttp_client, client, "wang.wei", "王伟")
    boss = await agent_desk(aiohttp_client, client, "boss", "Boss", role="supervisor")
    assert (await wang.post(f"/desk/api/conversations/{cid}/assign", {"agent": "wang.wei"})).status == 404  # not his
    assert (await li.post(f"/desk/api/conversations/{cid}/assign", {"agent": "wang.wei"})).status == 403
    resp = await boss.post(f"/desk/api/conversations/{cid}/assign", {"agent": "wang.wei"})
    assert resp.status == 200 and (await resp.json())["assigned_agent"] == "wang.wei"
    told = await next_event(li.ws, lambda e: e.get("type") == "conversation" and e.get("previous_agent") == "li.na")
    assert told["assigned_agent"] == "wang.wei" and told["previous_agent"] == "li.na"
    assert (await li.reply(cid, "hello")).status == 404  # no longer hers
    assert (await wang.reply(cid, "您好，我是王伟。")).status == 201
    moves = [(actor, detail) for actor, action, _, detail in audit.entries if action == "desk.reassigned"]
    assert moves == [("boss", {"from": "li.na", "to": "wang.wei"})]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"agent": "nobody"}, 422),
        ({"agent": "ana"}, 422),  # an analyst takes no conversations
        ({"agent": 5}, 422),
        ({}, 422),
        ({"agent": "li.na"}, 409),  # already hers
    ],
)
async def test_a_bad_reassignment_changes_nothing(aiohttp_client, gateway_client, body, status):
    li = await agent_desk(aiohttp_client, gateway_client, "li.na", "李娜")
    await gateway_client.app[auth_key].create_agent("ana", PASSWORD, "analyst", display_name="Ana")
    boss = await agent_desk(aiohttp_client, gateway_client, "boss", "Boss", role="supervisor", online=False)
    widget = await escalated_conversation(gateway_client)
    cid = widget.conversation_id
    resp = await boss.post(f"/desk/api/conversations/{cid}/assign", body)
    assert resp.status == status and (await resp.json())["detail"]
    assert await assigned(li, cid) == "li.na"


async def test_reassigning_a_closed_conversation_is_refused(aiohttp_client, gateway_client):
    boss = await agent_desk(aiohttp_client, gateway_client, "boss", "Boss", role="supervisor", online=False)
    await agent_desk(aiohttp_client, gateway_client, "li.na", "李娜", online=False)
    widget = await escalated_conversation(gateway_client)
    assert (await boss.close(widget.conversation_id, "resolved")).status == 200
    resp = await boss.post(f"/desk/api/conversations/{widget.conversation_id}/assign", {"agent": "li.na"})
    assert resp.status == 409


async def test_filters_mine_unassigned_waiting(aiohttp_client, make_gateway):
    client = await make_gateway(desk=DeskSettings(assignment="least_busy", agent_capacity=1))
    li = await agent_desk(aiohttp_client, client, "li.na", "李娜")
    mine = await escalated_conversation(client)
    waiting = await escalated_conversation(client)
    live = await Widget.open(client)
    await live.send("hello", "m1")

    async def ids(query: str) -> set[str]:
        resp = await li.client.get(f"/desk/api/queue{query}")
        assert resp.status == 200
        return {c["conversation_id"] for c in (await resp.json())["conversations"]}

    assert await ids("?filter=mine") == {mine.conversation_id}
    assert await ids("?filter=waiting") == {waiting.conversation_id}
    assert await ids("?filter=unassigned") == {waiting.conversation_id, live.conversation_id}
    assert await ids("") == {mine.conversation_id, waiting.conversation_id, live.conversation_id}
    for bad in ("?filter=everything", "?filter=", "?label=" + "x" * 40):
        resp = await li.client.get(f"/desk/api/queue{bad}")
        assert resp.status == 400 and (await resp.json())["detail"]


async def test_unread_counts_the_borrowers_messages_since_the_agent_last_looked(aiohttp_client, gateway_client):
    li = await agent_desk(aiohttp_client, gateway_client, "li.na", "李娜")
    widget = await escalated_conversation(gateway_client)
    cid = widget.conversation_id

    async def unread() -> int:
        lines = (await (await li.client.get("/desk/api/queue")).json())["conversations"]
        return next(c["unread"] for c in lines if c["conversation_id"] == cid)

    assert await unread() == 1  # "I want a human"
    await li.view(cid)
    assert await unread() == 0
    await widget.send("are you there?", "m2")
    await widget.send("hello?", "m3")
    assert await unread() == 2
    await li.view(cid)
    assert await unread() == 0


async def test_labels_are_added_removed_filtered_and_audited(aiohttp_client, gateway_client, audit):
    li = await agent_desk(aiohttp_client, gateway_client, "li.na", "李娜")
    widget = await escalated_conversation(gateway_client)
    other = await escalated_conversation(gateway_client)
    cid = widget.conversation_id
    resp = await li.post(f"/desk/api/conversations/{cid}/labels", {"add": ["hardship", "回访"]})
    assert resp.status == 200 and (await resp.json())["labels"] == ["hardship", "回访"]
    resp = await li.post(f"/desk/api/conversations/{cid}/labels", {"add": ["vip"], "remove": ["hardship"]})
    assert (await resp.json())["labels"] == ["vip", "回访"]
    lines = (await (await li.client.get("/desk/api/queue?label=vip")).json())["conversations"]
    assert [c["conversation_id"] for c in lines] == [cid] and lines[0]["labels"] == ["vip", "回访"]
    assert other.conversation_id not in {c["conversation_id"] for c in lines}
    changes = [detail for _, action, _, detail in audit.entries if action == "desk.labels"]
    assert changes == [{"added": ["hardship", "回访"], "removed": []}, {"added": ["vip"], "removed": ["hardship"]}]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"add": "vip"},
        {"add": [""]},
        {"add": ["x" * 33]},
        {"add": ["a b"]},
        {"add": ["<b>"]},
        {"add": [1]},
        {"add": [f"l{i}" for i in range(11)]},
        {"remove": [None]},
    ],
)
async def test_bad_labels_change_nothing(aiohttp_client, gateway_client, body):
    li = await agent_desk(aiohttp_client, gateway_client, "li.na", "李娜")
    widget = await escalated_conversation(gateway_client)
    resp = await li.post(f"/desk/api/conversations/{widget.conversation_id}/labels", body)
    assert resp.status == 422 and (await resp.json())["detail"]
    assert (await (await li.view(widget.conversation_id)).json())["conversation"]["labels"] == []


async def test_manual_assignment_leaves_escalations_for_agents_to_take(aiohttp_client, make_gateway):
    client = await make_gateway()  # the default: GATEWAY_DESK_ASSIGNMENT=manual
    li = await agent_desk(aiohttp_client, client, "li.na", "李娜")
    widget = await escalated_conversation(client)
    assert await assigned(li, widget.conversation_id) is None
    assert (await li.take(widget.conversation_id)).status == 200


def test_the_assignment_mode_and_capacity_are_checked_at_start():
    desk = GatewaySettings.from_env({"GATEWAY_DESK_ASSIGNMENT": "least_busy", "GATEWAY_DESK_AGENT_CAPACITY": "3"}).desk
    assert desk.assignment == "least_busy" and desk.agent_capacity == 3
    with pytest.raises(SettingsError, match="GATEWAY_DESK_ASSIGNMENT"):
        GatewaySettings.from_env({"GATEWAY_DESK_ASSIGNMENT": "round_robin_please"})
    with pytest.raises(SettingsError, match="GATEWAY_DESK_AGENT_CAPACITY"):
        GatewaySettings.from_env({"GATEWAY_DESK_AGENT_CAPACITY": "-1"})


async def test_every_desk_drops_a_line_another_agent_gets(aiohttp_client, make_gateway):
    """A conversation leaves the unassigned queue: every desk that listed it is told (before, the
    event went to the new owner only, and the line stayed on the others, stale, 404 when opened)."""
    client = await make_gateway()  # manual: wang takes it
    li = await agent_desk(aiohttp_client, client, "li.na", "李娜")
    wang = await agent_desk(aiohttp_client, client, "wang.wei", "王伟")
    widget = await escalated_conversation(client)
    assert (await wang.take(widget.conversation_id)).status == 200
    told = await next_event(li.ws, lambda e: e.get("type") == "conversation" and e.get("assigned_agent") == "wang.wei")
    assert told["previous_agent"] is None and told["conversation_id"] == widget.conversation_id
