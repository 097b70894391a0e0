"""A borrower message stored but not answered (the database failed while the replies were being
stored) is answered when the widget sends it again, and the socket survives the failure."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from gateway.keys import service_key
from huanxin_testkit.gw_fake_rasa import received_key
from huanxin_testkit.gw_helpers import Widget


def fail_next_bot_turn(client) -> None:
    service = client.app[service_key]
    original = service._bot_turn

    async def failing(*args, **kwargs):
        service._bot_turn = original  # only once
        raise OperationalError("INSERT INTO messages ...", {}, ConnectionError("connection is closed"))

    service._bot_turn = failing


async def test_a_resent_message_that_was_never_answered_gets_its_turn(gateway_client, fake_rasa):
    widget = await Widget.open(gateway_client)
    fail_next_bot_turn(gateway_client)
    await widget.ws.send_json({"type": "message", "text": "how much do I owe?", "client_msg_id": "m1"})
    error = await widget.wait_for(lambda e: e["type"] == "error")
    assert error["code"] == "unavailable" and error.get("client_msg_id") == "m1"

    ack = await widget.send("how much do I owe?", "m1")  # the widget's outbox sends it again
    assert ack["duplicate"] is True
    reply = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    assert reply["text"] == "[rasa-1] echo: how much do I owe?"
    borrower = [m for m in widget.messages() if m["sender"] == "borrower"]
    assert len(borrower) == 1  # stored once, answered once


async def test_a_resent_message_that_was_answered_is_not_sent_to_the_bot_again(gateway_client, fake_rasa):
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    await widget.send("hello", "m1")
    assert len(fake_rasa.app[received_key]) == 1
