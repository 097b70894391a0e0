"""The gateway's own events join the analytics stream: a hand-off, the takeover, an agent's
reply (masked as the transcript is), the hand-back and the outcome, keyed by the Rasa sender,
read by the ledger's consumer into the conversation's facts."""

from __future__ import annotations

import asyncio
import json

from gateway.events import StreamSettings
from gateway.keys import service_key
from huanxin_testkit.gw_helpers import desk_for, escalated_conversation, other_client
from ledger.db import analytics as store
from ledger.db.session import create_engine, create_session_factory
from ledger.services.analytics import consume_sql


async def test_takeover_reply_handback_and_close_reach_the_facts(make_gateway, aiohttp_client, database_url, tmp_path):
    stream_url = f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}"
    client = await make_gateway(events=StreamSettings("sql", db_url=stream_url))
    widget = await escalated_conversation(client)
    conv_id = widget.conversation_id
    agent = await other_client(aiohttp_client, client)
    desk = await desk_for(agent, "li.na")
    assert (await desk.take(conv_id)).status == 200
    assert (await desk.reply(conv_id, "Your phone 13800000001 is on file")).status == 201
    assert (await desk.reply(conv_id, "note for colleagues", agent_only=True)).status == 201
    assert (await desk.handback(conv_id, note="")).status == 200
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "bot")
    assert (await desk.close(conv_id, "promise_to_pay")).status == 200

    sender = (await client.app[service_key].get(conv_id)).rasa_sender
    stream = store.create_stream_engine(stream_url)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        rows = await store.read_stream(stream, 0, 100)
        events = [json.loads(r.data) for r in rows]
        assert [e["name"] for e in events] == [
            "handoff",
            "takeover",
            "agent_message",
            "agent_message",
            "handback",
            "closed",
        ]
        assert {r.sender_id for r in rows} == {sender}
        assert all(e["conversation_id"] == conv_id and e["channel"] == "web" for e in events)
        assert "13800000001" not in "".join(r.data for r in rows)
        assert await consume_sql(sessions, stream, "sql:gateway", once=True) == 6
        async with sessions() as s:
            facts = await store.facts_of(s, sender)
        assert facts is not None
        assert (facts["escalated"], facts["escalation_reason"], facts["handled_by_agent"]) == (
            True,
            "request_human",
            True,
        )
        assert (facts["outcome"], facts["agent_outcome"], facts["agents"]) == (
            "agent_outcome",
            "promise_to_pay",
            ["li.na"],
        )
    finally:
        await stream.dispose()
        await engine.dispose()


async def test_a_stream_that_cannot_be_written_never_fails_the_conversation(make_gateway, aiohttp_client, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the stream's directory should be
    client = await make_gateway(events=StreamSettings("sql", db_url=f"sqlite+aiosqlite:///{blocked / 'events.db'}"))
    widget = await escalated_conversation(client)
    desk = await desk_for(await other_client(aiohttp_client, client), "li.na")
    assert (await desk.take(widget.conversation_id)).status == 200
    assert (await desk.reply(widget.conversation_id, "hello")).status == 201
    await asyncio.sleep(0)
    assert len(client.app[service_key].events.pending) == 3  # kept for the next attempt
