"""A flooding borrower cannot take the desk down: per-conversation message limit, queue account
summaries read once (not per conversation per request), single queue items for desk deltas."""

from __future__ import annotations

import pytest

from gateway.keys import service_key
from huanxin_testkit.gw_desk import gateway_factory
from huanxin_testkit.gw_fake_rasa import received_key
from huanxin_testkit.gw_helpers import Widget, desk_for, escalated_conversation


class CountingAccounts:
    def __init__(self) -> None:
        self.calls = 0

    async def account(self, conversation_id: str):
        self.calls += 1
        return {"borrower_name": "Zhang San", "bucket": "B1", "loans": []}


@pytest.fixture
def make_desk_gateway(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa):
    return gateway_factory(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa)


async def test_queue_does_not_read_every_account_on_every_request(make_desk_gateway):
    accounts = CountingAccounts()
    client = await make_desk_gateway(accounts=accounts)
    for _ in range(3):
        await escalated_conversation(client)
    desk = await desk_for(client, "li.na")
    first = await desk.queue()
    second = await desk.queue()
    assert len(first) == len(second) == 3
    assert all(item["bucket"] == "B1" and item["borrower_name"] == "Zhang San" for item in second)
    assert accounts.calls == 3


async def test_queue_summaries_are_read_again_once_stale(make_desk_gateway, clock):
    accounts = CountingAccounts()
    client = await make_desk_gateway(accounts=accounts)
    await escalated_conversation(client)
    desk = await desk_for(client, "li.na")
    await desk.queue()
    clock.advance(120)
    await desk.queue()
    assert accounts.calls == 2


async def test_one_queue_item_can_be_fetched_for_a_new_conversation(gateway_client):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")
    resp = await gateway_client.get(f"/desk/api/queue/{widget.conversation_id}")
    assert resp.status == 200
    item = await resp.json()
    assert item["conversation_id"] == widget.conversation_id and item["state"] == "agent"
    assert item["last_message"]
    assert (await gateway_client.get("/desk/api/queue/no-such-conversation")).status == 404
    await desk.take(widget.conversation_id)


async def test_a_flooding_borrower_is_asked_to_slow_down_and_not_routed(gateway_client, fake_rasa):
    widget = await Widget.open(gateway_client)
    for i in range(20):
        await widget.send(f"message {i}", f"m{i}")
    assert len(fake_rasa.app[received_key]) == 20
    await widget.send("message 20", "m20")
    notice = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "system")
    assert "slow down" in notice["text"]
    await widget.send("message 21", "m21")
    assert len(fake_rasa.app[received_key]) == 20
    transcript = await gateway_client.app[service_key].transcript(widget.conversation_id, include_agent_only=True)
    texts = [m["text"] for m in transcript if m["sender"] == "borrower"]
    assert "message 20" not in texts and "message 21" not in texts
    assert [m["sender"] for m in transcript].count("system") == 1  # one notice, not one per extra message

    other = await Widget.open(gateway_client)
    await other.send("hello", "o1")
    answer = await other.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    assert "hello" in answer["text"]


async def test_a_flood_in_an_escalated_conversation_does_not_reach_the_desk(gateway_client):
    widget = await escalated_conversation(gateway_client)  # one message used
    await desk_for(gateway_client, "li.na")
    ws = await gateway_client.ws_connect("/ws/desk")
    assert (await ws.receive_json())["type"] == "hello"
    for i in range(25):  # under the per-socket limit (30 a minute), over the per-conversation one (20)
        await widget.send(f"are you there {i}", f"f{i}")
    seen = []
    while True:
        try:
            event = await ws.receive_json(timeout=0.5)
        except TimeoutError:
            break
        if event["type"] == "message":
            seen.append(event["sender"])
    assert seen.count("borrower") == 19 and seen.count("system") == 1
    await ws.close()
