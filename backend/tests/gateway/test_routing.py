"""Borrower messages routed to the (fake) Rasa or to the agent; takeover, hand-back, order, replay."""

from __future__ import annotations

import asyncio

import aiohttp

from gateway.keys import service_key
from huanxin_testkit.gw_fake_rasa import make_fake_rasa, received_key, slots_key
from huanxin_testkit.gw_helpers import Widget, desk_for, escalated_conversation, other_client


async def test_bot_state_forwards_to_rasa_and_returns_its_reply_in_order(gateway_client, fake_rasa):
    widget = await Widget.open(gateway_client)
    await widget.send("how much do I owe?", "m1")
    reply = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    assert reply["text"] == "[rasa-1] echo: how much do I owe?"
    assert [(m["seq"], m["sender"]) for m in widget.messages()] == [(1, "borrower"), (2, "bot")]
    assert fake_rasa.app[received_key] == [(widget.conversation_id, "how much do I owe?")]


async def test_typing_indicator_brackets_the_bot_turn(gateway_client):
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "typing" and e["on"] is False)
    kinds = [(e["type"], e.get("on"), e.get("sender")) for e in widget.events if e["type"] in ("typing", "message")]
    assert kinds == [
        ("message", None, "borrower"),
        ("typing", True, "bot"),
        ("message", None, "bot"),
        ("typing", False, "bot"),
    ]


async def test_bot_buttons_reach_the_widget_and_a_click_sends_the_payload(gateway_client, fake_rasa):
    widget = await Widget.open(gateway_client)
    await widget.send("choose", "m1")
    offer = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    assert [b["title"] for b in offer["buttons"]] == ["Deferral", "Extension"]
    await widget.send("Extension", "m2", payload=offer["buttons"][1]["payload"])
    assert fake_rasa.app[received_key][-1][1] == '/inform{"plan": "term_extension"}'
    assert widget.messages()[2]["text"] == "Extension"  # the transcript shows what the borrower clicked


async def test_resent_message_with_the_same_client_id_is_handled_once(gateway_client, fake_rasa):
    widget = await Widget.open(gateway_client)
    first = await widget.send("hello", "same-id")
    second = await widget.send("hello", "same-id")
    assert second["duplicate"] is True and second["seq"] == first["seq"]
    assert len(fake_rasa.app[received_key]) == 1


async def test_handoff_switches_to_the_agent_and_the_bot_stops_seeing_messages(
    gateway_client, fake_rasa, aiohttp_client
):
    widget = await Widget.open(gateway_client)
    await widget.send("I want a human", "m1")
    notice = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "system")
    assert "queued" in notice["text"]  # no agent on the desk yet: the borrower is not promised one now
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    await widget.send("are you there?", "m2")
    await asyncio.sleep(0.1)
    assert [m for _, m in fake_rasa.app[received_key]] == ["I want a human"]

    agent_client = await other_client(aiohttp_client, gateway_client)
    desk = await desk_for(agent_client, "li.na")
    queue = await desk.queue()
    item = next(q for q in queue if q["conversation_id"] == widget.conversation_id)
    assert item["escalation_reason"] == "request_human" and item["state"] == "agent" and item["assigned_agent"] is None
    assert item["wait_seconds"] == 0
    view = await (await desk.view(widget.conversation_id)).json()
    assert [m["text"] for m in view["messages"] if m["sender"] == "borrower"] == ["I want a human", "are you there?"]

    assert (await desk.take(widget.conversation_id)).status == 200
    assert (await desk.reply(widget.conversation_id, "Hello, I'm Li Na. How can I help?")).status == 201
    agent_msg = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "agent")
    assert agent_msg["text"] == "Hello, I'm Li Na. How can I help?"

    # an agent-only note never reaches the borrower
    assert (await desk.reply(widget.conversation_id, "borrower sounds stressed", agent_only=True)).status == 201
    resp = await desk.handback(
        widget.conversation_id,
        note="Borrower will pay 500 on Friday",
        slots={"monthly_income": "5000"},
        internal_note="verified by phone",
    )
    assert resp.status == 200
    back = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot" and "back" in e["text"])
    assert back["text"] == "[rasa-1] I'm back. Agreed: Borrower will pay 500 on Friday"
    assert fake_rasa.app[slots_key][widget.conversation_id] == {
        "monthly_income": "5000",
        "escalated": False,
        "agent_note": "Borrower will pay 500 on Friday",
    }

    await widget.send("thanks, what next?", "m3")
    after = await widget.wait_for(
        lambda e: e["type"] == "message" and e["sender"] == "bot" and "what next" in e["text"]
    )
    assert after["text"] == "[rasa-1] echo: thanks, what next?"

    texts = [m["text"] for m in widget.messages()]
    assert "borrower sounds stressed" not in texts and "verified by phone" not in texts
    replay = await gateway_client.get(
        f"/api/chat/conversations/{widget.conversation_id}/messages", headers={"X-Client-Token": widget.token}
    )
    stored = [m["text"] for m in (await replay.json())["messages"]]
    assert "borrower sounds stressed" not in stored and "verified by phone" not in stored
    full = await (await desk.view(widget.conversation_id)).json()
    assert {"borrower sounds stressed", "verified by phone"} <= {m["text"] for m in full["messages"] if m["agent_only"]}
    seqs = [m["seq"] for m in full["messages"]]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_escalate_custom_payload_is_also_a_handoff(gateway_client):
    widget = await Widget.open(gateway_client, language="zh")
    await widget.send("complain", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    conv = await gateway_client.app[service_key].get(widget.conversation_id)
    assert conv.escalation_reason == "complaint"
    assert "人工客服" in widget.messages()[-1]["text"]


async def test_reconnect_replays_missed_messages(gateway_client, aiohttp_client):
    widget = await escalated_conversation(gateway_client)
    await widget.ws.close()
    seen = widget.last_seq

    agent_client = await other_client(aiohttp_client, gateway_client)
    desk = await desk_for(agent_client, "wang")
    await desk.take(widget.conversation_id)
    await desk.reply(widget.conversation_id, "sent while you were offline")

    await widget.connect()
    missed = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "agent")
    assert missed["text"] == "sent while you were offline"
    assert [m["seq"] for m in widget.messages() if m["seq"] > seen] == [seen + 1, seen + 2]


async def test_concurrent_messages_keep_one_ordered_transcript(make_gateway, aiohttp_server):
    jittery = await aiohttp_server(make_fake_rasa("jitter", jitter_s=0.03))
    client = await make_gateway(rasa_urls=(str(jittery.make_url("")).rstrip("/"),))
    service = client.app[service_key]
    conv, _ = await service.create_web_conversation("en")
    texts = [f"message {i}" for i in range(20)]
    await asyncio.gather(
        *(service.handle_borrower_message(conv.id, t, client_msg_id=f"c{i}") for i, t in enumerate(texts))
    )
    transcript = await service.transcript(conv.id)
    assert [m["seq"] for m in transcript] == list(range(1, 41))
    # strictly alternating: each bot reply answers the borrower message right before it
    for borrower, bot in zip(transcript[0::2], transcript[1::2], strict=True):
        assert borrower["sender"] == "borrower" and bot["sender"] == "bot"
        assert bot["text"] == f"[jitter] echo: {borrower['text']}"
    # and Rasa received them in transcript order
    assert [m for _, m in jittery.app[received_key]] == [m["text"] for m in transcript[0::2]]


async def test_turns_are_spread_round_robin_over_several_rasa_instances(make_gateway, aiohttp_server):
    one = await aiohttp_server(make_fake_rasa("one"))
    two = await aiohttp_server(make_fake_rasa("two"))
    client = await make_gateway(rasa_urls=tuple(str(s.make_url("")).rstrip("/") for s in (one, two)))
    service = client.app[service_key]
    conv, _ = await service.create_web_conversation("en")
    for i in range(4):
        await service.handle_borrower_message(conv.id, f"turn {i}")
    assert len(one.app[received_key]) == 2 and len(two.app[received_key]) == 2


async def test_an_unreachable_rasa_instance_is_skipped(make_gateway, aiohttp_server, refused_port):
    alive = await aiohttp_server(make_fake_rasa("alive"))
    client = await make_gateway(rasa_urls=(f"http://127.0.0.1:{refused_port}", str(alive.make_url("")).rstrip("/")))
    service = client.app[service_key]
    conv, _ = await service.create_web_conversation("en")
    for i in range(3):
        result = await service.handle_borrower_message(conv.id, f"turn {i}")
        assert result.replies[0]["text"] == f"[alive] echo: turn {i}"


async def test_no_rasa_at_all_gives_a_polite_system_message(make_gateway, refused_port):
    client = await make_gateway(rasa_urls=(f"http://127.0.0.1:{refused_port}",))
    service = client.app[service_key]
    conv, _ = await service.create_web_conversation("zh")
    result = await service.handle_borrower_message(conv.id, "你好")
    assert result.replies[0]["sender"] == "system" and "转人工" in result.replies[0]["text"]


async def test_widget_socket_needs_the_conversation_token(gateway_client):
    widget = await Widget.open(gateway_client)
    wrong = Widget(gateway_client, widget.conversation_id, "wrong")
    await wrong.connect()
    closing = await wrong.ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4403
    resp = await gateway_client.get(
        f"/api/chat/conversations/{widget.conversation_id}/messages", headers={"X-Client-Token": "wrong"}
    )
    assert resp.status == 403


async def test_closed_conversation_reopens_with_the_bot(gateway_client, aiohttp_client):
    widget = await escalated_conversation(gateway_client)
    agent_client = await other_client(aiohttp_client, gateway_client)
    desk = await desk_for(agent_client, "zhao")
    await desk.take(widget.conversation_id)
    assert (await desk.close(widget.conversation_id, "resolved")).status == 200
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "closed")
    await widget.send("one more question", "m2")
    reply = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot" and "one more" in e["text"])
    assert reply["text"] == "[rasa-1] echo: one more question"
