"""The widget's language toggle (issue 13): the message sent after a toggle carries the chosen
language; the gateway stores it as the conversation's language (the desk and the gateway's own
notices follow it) and passes it to the bot as ``language_choice``, which the bot treats as an
explicit request. A bad value is refused and changes nothing."""

from __future__ import annotations

import pytest

from gateway.db import Conversation
from gateway.keys import service_key
from huanxin_testkit.gw_fake_rasa import metadata_key
from huanxin_testkit.gw_helpers import Widget


async def stored_language(client, conversation_id: str) -> str:
    async with client.app[service_key].sessions() as s:
        return (await s.get(Conversation, conversation_id)).language


async def send_with_language(widget: Widget, text: str, msg_id: str, language) -> dict:
    await widget.ws.send_json({"type": "message", "text": text, "client_msg_id": msg_id, "language": language})
    return await widget.wait_for(lambda e: e["type"] in ("ack", "error") and e.get("client_msg_id") == msg_id)


async def test_a_toggle_reaches_the_bot_once_and_becomes_the_conversations_language(gateway_client, fake_rasa):
    widget = await Widget.open(gateway_client, language="zh")
    await widget.send("你好", "m1")
    assert "language_choice" not in fake_rasa.app[metadata_key][-1]
    assert (await send_with_language(widget, "我欠多少钱", "m2", "en"))["type"] == "ack"
    assert fake_rasa.app[metadata_key][-1]["language_choice"] == "en"
    assert fake_rasa.app[metadata_key][-1]["language"] == "en"
    assert await stored_language(gateway_client, widget.conversation_id) == "en"
    await widget.send("还有呢", "m3")  # no toggle since: no choice passed again
    assert "language_choice" not in fake_rasa.app[metadata_key][-1]
    assert await stored_language(gateway_client, widget.conversation_id) == "en"


@pytest.mark.parametrize("language", ["fr", "EN", "", 1, ["en"], {"en": True}])
async def test_a_bad_language_is_refused_and_changes_nothing(gateway_client, fake_rasa, language):
    widget = await Widget.open(gateway_client, language="zh")
    sent_before = len(fake_rasa.app[metadata_key])
    answer = await send_with_language(widget, "hello", "m1", language)
    assert answer["type"] == "error" and answer["code"] == "invalid_request"
    assert "language" in answer["detail"]
    assert len(fake_rasa.app[metadata_key]) == sent_before
    assert await gateway_client.app[service_key].transcript(widget.conversation_id) == []
    assert await stored_language(gateway_client, widget.conversation_id) == "zh"


async def test_a_null_language_is_no_choice(gateway_client, fake_rasa):
    widget = await Widget.open(gateway_client, language="zh")
    assert (await send_with_language(widget, "hello", "m1", None))["type"] == "ack"
    assert "language_choice" not in fake_rasa.app[metadata_key][-1]
    assert await stored_language(gateway_client, widget.conversation_id) == "zh"


async def test_the_desks_hear_the_new_language(gateway_client, fake_rasa, monkeypatch):
    hub = gateway_client.app[service_key].hub
    desk_events: list[dict] = []
    publish = hub.publish

    def recording(topic: str, event: dict) -> None:
        if topic == "desk":
            desk_events.append(event)
        publish(topic, event)

    monkeypatch.setattr(hub, "publish", recording)
    widget = await Widget.open(gateway_client, language="zh")
    await send_with_language(widget, "hello", "m1", "en")
    assert [e["language"] for e in desk_events if e["type"] == "conversation"] == ["en"]
