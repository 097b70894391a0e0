"""The chat socket writes a turn's frames in bursts (chat_web.FrameBurst, issue 11): the same
frames in the same order as one write each, in fewer writes."""

from __future__ import annotations

import asyncio
import json
import struct
from asyncio import selector_events

import aiohttp
from sqlalchemy import event

from gateway.keys import engine_key, hub_key, service_key
from huanxin_testkit.gw_helpers import Widget


def frames(data: bytes) -> list[dict]:
    """The JSON of each text frame in what the server wrote (server frames are not masked)."""
    out, i = [], 0
    while i < len(data):
        first, second = data[i], data[i + 1]
        assert second & 0x80 == 0, "a server frame is never masked"
        length, i = second & 0x7F, i + 2
        if length == 126:
            (length,), i = struct.unpack("!H", data[i : i + 2]), i + 2
        elif length == 127:
            (length,), i = struct.unpack("!Q", data[i : i + 8]), i + 8
        if first & 0x0F == 0x1:
            out.append(json.loads(data[i : i + length]))
        i += length
    return out


async def test_a_turn_sends_the_same_frames_in_fewer_writes(gateway_client, monkeypatch):
    port = gateway_client.server.port
    writes: list[bytes] = []
    original = selector_events._SelectorSocketTransport.write

    def counted(transport, data):
        if transport.get_extra_info("sockname")[1] == port:  # the gateway's side of a connection
            writes.append(bytes(data))
        return original(transport, data)

    widget = await Widget.open(gateway_client)
    await widget.wait_for(lambda e: e["type"] == "state")
    monkeypatch.setattr(selector_events._SelectorSocketTransport, "write", counted)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "typing" and e["on"] is False)
    await asyncio.sleep(0.05)
    monkeypatch.undo()

    sent = frames(b"".join(writes))
    received = [{k: v for k, v in e.items() if k != "_seen"} for e in widget.events if e["type"] != "state"]
    assert sent == received  # every frame, in the order written
    kinds = [e["type"] if e["type"] != "message" else e["sender"] for e in sent]
    assert kinds == ["borrower", "typing", "ack", "bot", "typing"]
    assert len(writes) == 2  # the borrower's echo with typing on; the ack with the answer and typing off


async def test_frames_answered_just_before_the_borrower_closes_still_arrive(gateway_client):
    """The close frame comes right behind the message: the gateway reads it while the answer's
    frames may still be gathered, and aiohttp closes the transport as it answers the close."""
    widget = await Widget.open(gateway_client)
    await widget.wait_for(lambda e: e["type"] == "state")
    await widget.ws.send_json({"type": "message", "text": "hello", "client_msg_id": "m1"})
    await widget.ws.send_frame(struct.pack("!H", 1000), aiohttp.WSMsgType.CLOSE)
    got = []
    while True:
        frame = await widget.ws.receive(timeout=5)
        if frame.type != aiohttp.WSMsgType.TEXT:
            break
        got.append(json.loads(frame.data))
    assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    kinds = [e["type"] if e["type"] != "message" else e["sender"] for e in got]
    assert kinds == ["borrower", "typing", "ack", "bot", "typing"]


async def test_a_socket_starts_on_one_session_with_its_replay_and_rating_state(gateway_client):
    """open_chat: the token check, the rating state and the replay after the widget's last seq
    share one checkout of the database (three before)."""
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "typing" and e["on"] is False)
    seen = widget.last_seq
    await widget.send("again", "m2")
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot" and e["seq"] > seen + 1)
    await widget.ws.close()
    expected = [m for m in await gateway_client.app[service_key].transcript(widget.conversation_id) if m["seq"] > seen]

    checkouts = []
    pool = gateway_client.app[engine_key].sync_engine.pool
    listener = lambda *args: checkouts.append(1)  # noqa: E731
    event.listen(pool, "checkout", listener)
    try:
        widget.events, widget.last_seq = [], seen
        await widget.connect()
        state = await widget.wait_for(lambda e: e["type"] == "state")
        replayed = [await widget.wait_for(lambda e: e["type"] == "message") for _ in expected]
    finally:
        event.remove(pool, "checkout", listener)
    assert state == {"type": "state", "state": "bot", "language": "en", "csat": None, "_seen": True}
    assert [{k: v for k, v in m.items() if k not in ("_seen", "type", "conversation_id")} for m in replayed] == expected
    assert len(checkouts) == 1


async def test_a_wrong_token_opens_no_socket_and_subscribes_nothing(gateway_client):
    widget = await Widget.open(gateway_client)
    await widget.ws.close()
    hub = gateway_client.app[hub_key]
    widget.token = "not-the-token"
    await widget.connect()
    closing = await widget.ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4403
    assert hub.subscribers(f"conv:{widget.conversation_id}") == 0


async def test_a_turns_live_messages_are_the_stored_ones(gateway_client):
    """The turn's messages go out from the rows as written (TurnMessage, no ORM object): every
    field as the transcript reads it back from the database."""
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "typing" and e["on"] is False)
    live = [{k: v for k, v in m.items() if k not in ("_seen", "type", "conversation_id")} for m in widget.messages()]
    stored = await gateway_client.app[service_key].transcript(widget.conversation_id)
    assert live == stored and len(stored) >= 2
