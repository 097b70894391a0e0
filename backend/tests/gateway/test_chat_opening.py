"""Less work a chat turn and a chat socket's start (issue 11), the same frames: a socket starts on
one transaction (ConversationService.open_chat), and a turn's messages go out from the rows as
written (TurnMessage)."""

from __future__ import annotations

import aiohttp
from sqlalchemy import event

from gateway.keys import engine_key, hub_key, service_key
from huanxin_testkit.gw_helpers import Widget


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
