"""CSAT: a web borrower is asked for a one-tap rating when the bot ends the conversation or an
agent closes it; the rating is taken once, from the conversation's own session only, and goes
to the analytics stream as the `csat` event the facts read (docs/insights.md)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from gateway.db import CsatRating
from gateway.events import StreamSettings
from gateway.keys import service_key
from huanxin_testkit.gw_helpers import Widget, desk_for, escalated_conversation, other_client
from ledger.db import analytics as store
from ledger.db.session import create_engine, create_session_factory
from ledger.services.analytics import consume_sql


async def rate(client, widget: Widget, body, token: str | None = None):
    return await client.post(
        f"/api/chat/conversations/{widget.conversation_id}/csat",
        data=body if isinstance(body, str) else json.dumps(body),
        headers={"X-Client-Token": widget.token if token is None else token, "Content-Type": "application/json"},
    )


async def ratings(client) -> list[tuple[str, str, int | None]]:
    async with client.app[service_key].sessions() as s:
        rows = (await s.execute(select(CsatRating))).scalars().all()
    return [(r.conversation_id, r.asked_because, r.score) for r in rows]


async def ended_by_the_bot(client, language: str = "en") -> Widget:
    widget = await Widget.open(client, language)
    await widget.send("bye", "m1")
    return widget


async def test_the_bots_goodbye_asks_the_widget_for_a_rating_in_the_conversations_language(gateway_client):
    widget = await ended_by_the_bot(gateway_client, "zh")
    asked = await widget.wait_for(lambda e: e["type"] == "csat")
    assert asked == {"type": "csat", "csat": "asked", "language": "zh", "_seen": True}
    assert await ratings(gateway_client) == [(widget.conversation_id, "bot_end", None)]


async def test_an_ordinary_turn_asks_nothing(gateway_client):
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "typing" and e["on"] is False)
    assert [e for e in widget.events if e["type"] == "csat"] == []
    assert await ratings(gateway_client) == []
    assert (await rate(gateway_client, widget, {"score": 5})).status == 409  # nothing was asked


async def test_the_desks_close_asks_for_a_rating(gateway_client, aiohttp_client):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(await other_client(aiohttp_client, gateway_client), "li.na")
    assert (await desk.close(widget.conversation_id, "resolved")).status == 200
    await widget.wait_for(lambda e: e["type"] == "csat" and e["csat"] == "asked")
    assert await ratings(gateway_client) == [(widget.conversation_id, "desk_close", None)]


async def test_a_rating_is_taken_once_and_a_reconnecting_widget_learns_its_state(gateway_client):
    widget = await ended_by_the_bot(gateway_client)
    await widget.wait_for(lambda e: e["type"] == "csat")
    response = await rate(gateway_client, widget, {"score": 4})
    assert response.status == 201 and (await response.json())["score"] == 4
    await widget.wait_for(lambda e: e["type"] == "csat" and e["csat"] == "rated")
    again = await rate(gateway_client, widget, {"score": 1})
    assert again.status == 409 and "already" in (await again.json())["detail"]
    assert await ratings(gateway_client) == [(widget.conversation_id, "bot_end", 4)]

    reopened = Widget(gateway_client, widget.conversation_id, widget.token)
    await reopened.connect()
    state = await reopened.wait_for(lambda e: e["type"] == "state")
    assert state["csat"] == "rated"
    messages = await gateway_client.get(
        f"/api/chat/conversations/{widget.conversation_id}/messages", headers={"X-Client-Token": widget.token}
    )
    assert (await messages.json())["csat"] == "rated"


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"score": 0}, "score must be"),
        ({"score": 6}, "score must be"),
        ({"score": "5"}, "score must be"),
        ({"score": True}, "score must be"),
        ({"score": 4.0}, "score must be"),
        ({}, "score must be"),
        ({"score": 5, "comment": "x"}, "unknown field(s): comment"),
        ([5], "JSON object"),
        ("not json", "JSON object"),
    ],
)
async def test_a_bad_rating_is_a_clear_4xx_and_changes_nothing(gateway_client, body, detail):
    widget = await ended_by_the_bot(gateway_client)
    await widget.wait_for(lambda e: e["type"] == "csat")
    response = await rate(gateway_client, widget, body)
    assert response.status == 422
    assert detail in (await response.json())["detail"]
    assert await ratings(gateway_client) == [(widget.conversation_id, "bot_end", None)]


async def test_only_the_conversations_own_session_may_rate_it(gateway_client):
    widget = await ended_by_the_bot(gateway_client)
    await widget.wait_for(lambda e: e["type"] == "csat")
    other = await Widget.open(gateway_client)
    assert (await rate(gateway_client, widget, {"score": 1}, token=other.token)).status == 403
    assert (await rate(gateway_client, widget, {"score": 1}, token="")).status == 403
    unknown = await gateway_client.post(
        "/api/chat/conversations/nope/csat", json={"score": 1}, headers={"X-Client-Token": widget.token}
    )
    assert unknown.status == 403
    assert await ratings(gateway_client) == [(widget.conversation_id, "bot_end", None)]


async def test_the_rating_reaches_the_facts_through_the_stream(make_gateway, database_url, tmp_path):
    stream_url = f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}"
    client = await make_gateway(events=StreamSettings("sql", db_url=stream_url))
    widget = await ended_by_the_bot(client)
    await widget.wait_for(lambda e: e["type"] == "csat")
    assert (await rate(client, widget, {"score": 2})).status == 201
    sender = (await client.app[service_key].get(widget.conversation_id)).rasa_sender
    stream = store.create_stream_engine(stream_url)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        events = [json.loads(r.data) for r in await store.read_stream(stream, 0, 100)]
        assert [(e["name"], e.get("score"), e["sender_id"]) for e in events] == [("csat", 2, sender)]
        await consume_sql(sessions, stream, "sql:gateway", once=True)
        async with sessions() as s:
            facts = await store.facts_of(s, sender)
        assert facts is not None and facts["csat"] == 2
    finally:
        await stream.dispose()
        await engine.dispose()


async def test_two_ratings_at_once_store_one_on_postgresql(make_gateway, pg_database_url):
    """Two taps at the same moment (two tabs): one is stored, the other is told it is rated."""
    import asyncio

    client = await make_gateway(database_url=pg_database_url)
    widget = await ended_by_the_bot(client)
    await widget.wait_for(lambda e: e["type"] == "csat")
    first, second = await asyncio.gather(rate(client, widget, {"score": 5}), rate(client, widget, {"score": 1}))
    assert sorted([first.status, second.status]) == [201, 409]
    stored = await ratings(client)
    assert len(stored) == 1 and stored[0][2] == (5 if first.status == 201 else 1)
