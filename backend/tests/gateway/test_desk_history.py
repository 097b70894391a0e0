"""The borrower's earlier conversations on the desk (gateway/desk_history.py): which ones are the
borrower's is the ledger's to say (the conversations that borrower verified in); listed newest
first with outcome and agents, each openable read-only with the agent-only notes marked, and
searchable. Only the agent who has the open conversation or a supervisor sees them; an unverified
conversation gets none, and two borrowers are never mixed."""

from __future__ import annotations

import pytest

from huanxin_testkit.gw_helpers import Widget, agent_desk, desk_for, escalated_conversation, record_verification


async def said(widget: Widget, text: str) -> None:
    await widget.send(text)
    await widget.wait_for(lambda e: e.get("type") == "message" and e.get("text") == text)


async def earlier_conversation(client, desk, sessions, borrower_id: str, words: list[str]) -> str:
    """A web conversation the borrower verified in, worked by ``desk`` (a reply and an agent-only
    note) and closed."""
    widget = await escalated_conversation(client)
    cid = widget.conversation_id
    await record_verification(sessions, borrower_id, cid)
    for text in words:
        await said(widget, text)
    assert (await desk.take(cid)).status == 200
    assert (await desk.reply(cid, "We can split it into instalments.")).status == 201
    assert (await desk.reply(cid, "borrower sounded worried", agent_only=True)).status == 201
    assert (await desk.close(cid, "arrangement_agreed")).status == 200
    return cid


@pytest.fixture
async def two_borrowers(ledger_gateway, aiohttp_client):
    """D1 with an earlier conversation and an open one (taken by li.na), D2 with one of their own
    holding the same words."""
    client, _, sessions, ids = ledger_gateway
    agent = await agent_desk(aiohttp_client, client, "li.na", "李娜", online=False)
    first = await earlier_conversation(
        client, agent, sessions, ids["D1"], ["我想分期还款 50%_off", "Salary comes on the 15th"]
    )
    other = await earlier_conversation(client, agent, sessions, ids["D2"], ["我也想分期", "salary is late"])
    widget = await escalated_conversation(client)
    await record_verification(sessions, ids["D1"], widget.conversation_id)
    assert (await agent.take(widget.conversation_id)).status == 200
    return client, agent, widget.conversation_id, first, other


async def get(desk, path: str):
    return await desk.client.get(path)


async def test_the_borrowers_earlier_conversation_is_listed_not_another_borrowers(two_borrowers, audit):
    _, agent, open_id, first, other = two_borrowers
    resp = await get(agent, f"/desk/api/conversations/{open_id}/history")
    assert resp.status == 200
    body = await resp.json()
    assert body["verified"] is True
    (line,) = body["conversations"]
    assert line["conversation_id"] == first and line["reference"] == first[:8]
    assert line["channel"] == "web" and line["state"] == "closed" and line["outcome"] == "arrangement_agreed"
    assert line["escalation_reason"] == "request_human" and line["agents"] == ["李娜"]
    assert line["started_at"] and line["last_activity_at"]
    assert other not in {c["conversation_id"] for c in body["conversations"]}
    assert ("li.na", "desk.history") in {(a, action) for a, action, _, _ in audit.entries}


async def test_an_earlier_conversation_opens_read_only_with_notes_marked(two_borrowers):
    _, agent, open_id, first, other = two_borrowers
    resp = await get(agent, f"/desk/api/conversations/{open_id}/history/{first}")
    assert resp.status == 200
    body = await resp.json()
    assert body["conversation"]["conversation_id"] == first
    texts = {m["text"]: m for m in body["messages"]}
    assert texts["我想分期还款 50%_off"]["sender"] == "borrower"
    assert texts["borrower sounded worried"]["agent_only"] is True
    assert texts["We can split it into instalments."]["agent_only"] is False
    assert (await get(agent, f"/desk/api/conversations/{open_id}/history/{other}")).status == 404  # D2's
    assert (await get(agent, f"/desk/api/conversations/{open_id}/history/{open_id}")).status == 404  # itself


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("分期", ["我想分期还款 50%_off"]),  # Chinese; D2's "我也想分期" is not theirs
        ("SALARY", ["Salary comes on the 15th"]),  # case-insensitive
        ("50%_", ["我想分期还款 50%_off"]),  # % and _ are literal
        ("%", ["我想分期还款 50%_off"]),
        ("_", ["我想分期还款 50%_off"]),
        ("instalments", ["We can split it into instalments."]),
        ("worried", ["borrower sounded worried"]),
        ("nothing like this", []),
    ],
)
async def test_searching_the_earlier_conversations(two_borrowers, query, found):
    _, agent, open_id, first, _ = two_borrowers
    resp = await agent.client.get(f"/desk/api/conversations/{open_id}/history/search", params={"q": query})
    assert resp.status == 200
    body = await resp.json()
    assert [m["text"] for m in body["matches"]] == found
    assert all(
        m["conversation_id"] == first and m["reference"] == first[:8] and m["started_at"] for m in body["matches"]
    )


async def test_only_the_assignee_or_a_supervisor_sees_the_history(two_borrowers, aiohttp_client):
    client, _, open_id, first, _ = two_borrowers
    other_agent = await agent_desk(aiohttp_client, client, "wang.wei", "王伟", online=False)
    for path in ("history", f"history/{first}", "history/search?q=salary"):
        assert (await get(other_agent, f"/desk/api/conversations/{open_id}/{path}")).status == 404  # not even seen
    boss = await agent_desk(aiohttp_client, client, "boss", "主管", "supervisor", online=False)
    body = await (await get(boss, f"/desk/api/conversations/{open_id}/history")).json()
    assert [c["conversation_id"] for c in body["conversations"]] == [first]
    # an agent who may see a conversation but has not taken it: 403
    waiting = await escalated_conversation(client)
    resp = await get(other_agent, f"/desk/api/conversations/{waiting.conversation_id}/history")
    assert resp.status == 403


async def test_an_unverified_conversation_shows_no_history(ledger_gateway, aiohttp_client):
    client, _, sessions, ids = ledger_gateway
    agent = await agent_desk(aiohttp_client, client, "li.na", "李娜", online=False)
    await earlier_conversation(client, agent, sessions, ids["D1"], ["hello"])
    widget = await escalated_conversation(client)  # nobody verified here
    await agent.take(widget.conversation_id)
    body = await (await get(agent, f"/desk/api/conversations/{widget.conversation_id}/history")).json()
    assert body["verified"] is False and body["conversations"] == [] and body["reason"]
    resp = await agent.client.get(
        f"/desk/api/conversations/{widget.conversation_id}/history/search", params={"q": "hello"}
    )
    assert (await resp.json())["matches"] == []


@pytest.mark.parametrize(
    "path",
    [
        "history/search",
        "history/search?q=",
        "history/search?q=%20%20",
        "history/search?q=" + "x" * 101,
        "history/search?q=a%00b",
        "history/not%20an%20id",
        "history/" + "a" * 65,
    ],
)
async def test_bad_input_is_400(two_borrowers, path):
    _, agent, open_id, _, _ = two_borrowers
    resp = await get(agent, f"/desk/api/conversations/{open_id}/{path}")
    assert resp.status == 400
    assert (await resp.json())["detail"]


async def test_a_bad_conversation_id_is_400(gateway_client):
    await desk_for(gateway_client, "li.na")
    for path in ("bad%20id/history", "bad%00/history/search?q=x", "a%2Fb/history/abc"):
        resp = await gateway_client.get(f"/desk/api/conversations/{path}")
        assert resp.status in (400, 404)  # an encoded slash may not reach the route at all
    assert (await gateway_client.get("/desk/api/conversations/bad%20id/history")).status == 400
    assert (await gateway_client.get("/desk/api/conversations/nope/history")).status == 404
