"""What a borrower types to prove who they are is never stored, queued or shown to an agent."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.db import Message
from huanxin_redaction import IDENTITY_ANSWER
from huanxin_testkit.gw_fake_rasa import received_key
from huanxin_testkit.gw_helpers import Widget, desk_for


async def stored_texts(database_url: str) -> list[str]:
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        texts = list((await conn.execute(select(Message.text).order_by(Message.id))).scalars())
    await engine.dispose()
    return texts


@pytest.mark.parametrize(
    "answer",
    ["4321", "13800000001", "1990-03-15", "15/03/1990", "March 15 1990", "19900315", "1990年3月15日", "138 0000 0001"],
)
async def test_an_answer_to_an_identity_question_is_stored_and_shown_as_identity_answer(
    gateway_client, database_url, fake_rasa, answer
):
    widget = await Widget.open(gateway_client)
    await widget.send("verify me", "m1")
    await widget.send(answer, "m2")
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot" and "echo" in e["text"])
    assert (widget.conversation_id, answer) in fake_rasa.app[received_key]  # the bot still gets it as typed
    borrower = [m for m in widget.messages() if m["sender"] == "borrower"]
    assert [m["text"] for m in borrower] == ["verify me", IDENTITY_ANSWER]
    assert IDENTITY_ANSWER in await stored_texts(database_url)
    assert answer not in [t for t in await stored_texts(database_url) if t != "verify me"][:2]

    desk = await desk_for(gateway_client, "li.na", role="supervisor")
    await desk.take(widget.conversation_id)
    view = await (await desk.view(widget.conversation_id)).json()
    assert IDENTITY_ANSWER in [m["text"] for m in view["messages"]]


async def test_only_the_message_right_after_the_question_is_hidden_whole(gateway_client):
    widget = await Widget.open(gateway_client)
    await widget.send("verify me", "m1")
    await widget.send("4321", "m2")
    await widget.send("4321", "m3")  # no question asked before this one
    texts = [m["text"] for m in widget.messages() if m["sender"] == "borrower"]
    assert texts == ["verify me", IDENTITY_ANSWER, "4321"]


async def test_identity_numbers_in_any_message_are_masked_in_store_queue_and_desk(gateway_client, database_url):
    widget = await Widget.open(gateway_client)
    await widget.send("my number 138-0000-0001, born 15 March 1990, ID 11010519900315432X, I want a human", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    desk = await desk_for(gateway_client, "li.na")
    queue = await desk.queue()
    previews = [item["last_message"] for item in queue]
    view = await (await desk.view(widget.conversation_id)).json()
    seen = " ".join(previews + [m["text"] for m in view["messages"]] + await stored_texts(database_url))
    for secret in ("13800000001", "138-0000-0001", "15 March 1990", "11010519900315432X"):
        assert secret not in seen
    assert "I want a human" in seen


async def test_agent_replies_and_notes_are_masked_too(gateway_client, database_url):
    widget = await Widget.open(gateway_client)
    await widget.send("I want a human", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    desk = await desk_for(gateway_client, "li.na")
    await desk.take(widget.conversation_id)
    assert (await desk.reply(widget.conversation_id, "Is your phone 13800000001?")).status == 201
    assert (await desk.reply(widget.conversation_id, "DOB 1990年3月15日 checked", agent_only=True)).status == 201
    texts = " ".join(await stored_texts(database_url))
    assert "13800000001" not in texts and "1990年3月15日" not in texts
