"""Supervisors keep the canned replies on the desk (gateway/canned_store.py, canned_web.py): the
packaged file seeds the table; every save is checked by the file's rules (400 naming the field,
nothing changes), audited with before and after, versioned (409 on a stale version), and the
desks are told; agents get 403 on every route."""

from __future__ import annotations

import pytest

from gateway.keys import canned_key
from gateway.settings import GatewaySettings
from huanxin_testkit.gw_helpers import agent_desk, desk_for, escalated_conversation

NEW = {
    "id": "call_back",
    "title": {"zh": "回电", "en": "Call back"},
    "text": {
        "zh": "{borrower_name}您好，我是{agent_name}，稍后给您回电。",
        "en": "{borrower_name}, {agent_name} will call you back.",
    },
}


async def listing(desk) -> dict[str, dict]:
    resp = await desk.client.get("/desk/api/canned")
    assert resp.status == 200
    return {r["id"]: r for r in (await resp.json())["replies"]}


async def test_the_packaged_replies_seed_the_table_once(gateway_client):
    boss = await desk_for(gateway_client, "boss", "supervisor")
    replies = await listing(boss)
    packaged = GatewaySettings().canned.replies
    assert list(replies) == [r.id for r in packaged]
    assert all(r["version"] == 1 and r["updated_by"] is None and not r["retired"] for r in replies.values())
    store = gateway_client.app[canned_key]
    assert await store.seed(GatewaySettings().canned) == 0  # a restart adds nothing, overwrites nothing


async def test_a_supervisor_adds_edits_and_retires_audited(gateway_client, audit):
    boss = await desk_for(gateway_client, "boss", "supervisor")
    resp = await boss.post("/desk/api/canned", NEW)
    assert resp.status == 201
    added = await resp.json()
    assert added["version"] == 1 and added["updated_by"] == "boss"
    edited = {
        "version": 1,
        "title": {"zh": "回电", "en": "We call back"},
        "text": {**NEW["text"], "en": "We will call you back, {borrower_name}."},
    }
    resp = await boss.post("/desk/api/canned/call_back", edited)
    assert resp.status == 200
    after = await resp.json()
    assert after["version"] == 2 and after["title"]["en"] == "We call back"
    resp = await boss.post("/desk/api/canned/call_back/retire", {"version": 2})
    assert resp.status == 200 and (await resp.json())["retired"] is True
    entries = [(actor, action, d) for actor, action, cid, d in audit.entries if action.startswith("desk.canned_reply")]
    assert [a for _, a, _ in entries] == [
        "desk.canned_reply.added",
        "desk.canned_reply.edited",
        "desk.canned_reply.retired",
    ]
    assert all(actor == "agent:boss" for actor, _, _ in entries)
    _, _, detail = entries[1]
    assert detail["canned_id"] == "call_back"
    assert detail["before"]["text"]["en"] == NEW["text"]["en"]
    assert detail["after"]["text"]["en"] == "We will call you back, {borrower_name}."
    assert entries[0][2]["before"] is None


async def test_agents_see_the_new_set_at_once_and_desks_are_told(aiohttp_client, gateway_client):
    boss = await desk_for(gateway_client, "boss", "supervisor")
    agent = await agent_desk(aiohttp_client, gateway_client, "li.na", "李娜")
    widget = await escalated_conversation(gateway_client)
    cid = widget.conversation_id
    replies = await listing(boss)
    greeting = replies["greeting"]
    body = {
        "version": greeting["version"],
        "title": greeting["title"],
        "text": {**greeting["text"], "en": "Hi, {agent_name} here."},
    }
    assert (await boss.post("/desk/api/canned/greeting", body)).status == 200
    while True:  # the agent's desk socket hears of it (the desk reloads its replies)
        event = await agent.ws.receive_json(timeout=5)
        if event["type"] == "canned_changed":
            break
    assert event["canned_id"] == "greeting" and event["version"] == 2
    offered = await (await agent.client.get(f"/desk/api/conversations/{cid}/canned")).json()
    assert {r["id"]: r for r in offered["replies"]}["greeting"]["text"] == "Hi, 李娜 here."
    await agent.take(cid)
    resp = await agent.post(f"/desk/api/conversations/{cid}/messages", {"canned_id": "greeting"})
    assert resp.status == 201 and (await resp.json())["text"] == "Hi, 李娜 here."
    assert (await boss.post("/desk/api/canned/greeting/retire", {"version": 2})).status == 200
    offered = await (await agent.client.get(f"/desk/api/conversations/{cid}/canned")).json()
    assert "greeting" not in {r["id"] for r in offered["replies"]}
    resp = await agent.post(f"/desk/api/conversations/{cid}/messages", {"canned_id": "greeting"})
    assert resp.status == 422  # a retired reply is not sent


def edit_of(reply: dict, **changes) -> dict:
    return {"version": reply["version"], "title": dict(reply["title"]), "text": dict(reply["text"]), **changes}


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda r: edit_of(r, text={**r["text"], "en": "Hello {nickname}"}), "text.en"),  # unknown placeholder
        (lambda r: edit_of(r, text={"zh": r["text"]["zh"]}), "text.en"),  # a language missing
        (lambda r: edit_of(r, title={"en": "Greeting"}), "title.zh"),
        (lambda r: edit_of(r, text={**r["text"], "zh": "x" * 2001}), "text.zh"),  # over MAX_TEXT
        (lambda r: edit_of(r, text={**r["text"], "zh": "再不还钱就让警察来抓你"}), "text.zh"),  # the guard stops it
        (lambda r: edit_of(r, text={**r["text"], "en": "We will tell your employer, {borrower_name}."}), "text.en"),
        (lambda r: edit_of(r, text={**r["text"], "en": "a { brace"}), "text.en"),
        (lambda r: edit_of(r, colour="red"), "colour"),
        (lambda r: edit_of(r, version="1"), "version"),
        (lambda r: edit_of(r, version=10**30), "version"),  # no database integer overflows
        (lambda r: edit_of(r, text={**r["text"], "en": "Hello\ud800"}), "text.en"),  # a lone surrogate
        (lambda r: edit_of(r, title={**r["title"], "zh": "问\x00候"}), "title.zh"),
        (lambda r: {"title": r["title"], "text": r["text"]}, "version"),
        (lambda r: [1, 2], "body"),
    ],
)
async def test_a_bad_edit_is_400_naming_the_field_and_changes_nothing(gateway_client, audit, make, field):
    boss = await desk_for(gateway_client, "boss", "supervisor")
    before = await listing(boss)
    resp = await boss.client.post(
        "/desk/api/canned/greeting", json=make(before["greeting"]), headers={"X-CSRF-Token": boss.csrf}
    )
    assert resp.status == 400
    problem = await resp.json()
    assert problem["field"] == field and problem["detail"]
    assert await listing(boss) == before
    assert not [a for _, a, _, _ in audit.entries if a.startswith("desk.canned_reply")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "id": "Bad Id"}, "id"),
        ({**NEW, "id": "greeting"}, "id"),  # used already
        ({k: v for k, v in NEW.items() if k != "title"}, "title"),
        ({**NEW, "text": {"zh": NEW["text"]["zh"], "en": "{amount_due:>10}"}}, "text.en"),
    ],
)
async def test_a_bad_new_reply_is_400_and_adds_nothing(gateway_client, body, field):
    boss = await desk_for(gateway_client, "boss", "supervisor")
    before = await listing(boss)
    resp = await boss.post("/desk/api/canned", body)
    assert resp.status == 400 and (await resp.json())["field"] == field
    assert await listing(boss) == before


async def test_bad_ids_and_unknown_replies(gateway_client):
    boss = await desk_for(gateway_client, "boss", "supervisor")
    assert (await boss.post("/desk/api/canned/Nope%00/retire", {"version": 1})).status == 400
    assert (await boss.post("/desk/api/canned/" + "a" * 49, edit_of((await listing(boss))["greeting"]))).status == 400
    resp = await boss.post("/desk/api/canned/no_such_reply/retire", {"version": 1})
    assert resp.status == 404
    resp = await boss.post("/desk/api/canned/no_such_reply", edit_of((await listing(boss))["greeting"]))
    assert resp.status == 404


async def test_two_supervisors_do_not_overwrite_each_other(aiohttp_client, gateway_client):
    boss = await desk_for(gateway_client, "boss", "supervisor")
    other = await agent_desk(aiohttp_client, gateway_client, "zhang.min", "张敏", "supervisor", online=False)
    greeting = (await listing(boss))["greeting"]
    first = edit_of(greeting, title={"zh": "问候语", "en": "Hello"})
    second = edit_of(greeting, title={"zh": "开场", "en": "Opening"})
    assert (await boss.post("/desk/api/canned/greeting", first)).status == 200
    resp = await other.post("/desk/api/canned/greeting", second)
    assert resp.status == 409 and "boss" in (await resp.json())["detail"]
    assert (await listing(boss))["greeting"]["title"]["en"] == "Hello"
    assert (await other.post("/desk/api/canned/greeting/retire", {"version": 1})).status == 409
    assert (await other.post("/desk/api/canned/greeting/retire", {"version": 2})).status == 200
    again = await other.post("/desk/api/canned/greeting", edit_of((await listing(boss))["greeting"]))
    assert again.status == 409  # retired: not edited any more


async def test_agents_get_403_on_every_route(gateway_client, audit):
    agent = await desk_for(gateway_client, "li.na")
    assert (await gateway_client.get("/desk/api/canned")).status == 403
    assert (await gateway_client.get("/desk/canned")).status == 403
    assert (await agent.post("/desk/api/canned", NEW)).status == 403
    greeting = {"version": 1, "title": NEW["title"], "text": NEW["text"]}
    assert (await agent.post("/desk/api/canned/greeting", greeting)).status == 403
    assert (await agent.post("/desk/api/canned/greeting/retire", {"version": 1})).status == 403
    assert (await agent.post("/desk/api/canned/greeting", {"junk": True})).status == 403  # before the body is read
    assert not [a for _, a, _, _ in audit.entries if a.startswith("desk.canned_reply")]
    store = gateway_client.app[canned_key]
    assert [r.id for r in (await store.active()).replies][0] == "greeting"


async def test_the_supervisor_page_is_served(gateway_client):
    await desk_for(gateway_client, "boss", "supervisor")
    resp = await gateway_client.get("/desk/canned")
    assert resp.status == 200 and "canned_admin.js" in await resp.text()
