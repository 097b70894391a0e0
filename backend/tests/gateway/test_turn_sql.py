"""The turn's statements on the driver (gateway/turn_sql.py) store and read exactly what the ORM
and SQLAlchemy Core do: two twin conversations, one written through the ORM session's
``_append_many``, the other through ``_append_turn``, hold the same bytes in every column, on
SQLite and on PostgreSQL; the conversation reads back with the ORM's values."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from gateway.conversations import ConversationService, offered_buttons
from gateway.db import Conversation
from gateway.hub import Hub
from gateway.turn_sql import CONVERSATION_COLUMNS, TurnStore
from ledger.desk_door import create_engine, create_session_factory

PG_DB = os.environ.get("HUANXIN_PG_GATEWAY_DB", "test_gateway")  # as conftest's pg_database_url
NOW = datetime(2026, 12, 1, 3, 4, 5, 678901, tzinfo=UTC)
BUTTONS = [{"title": '现在还款 "now"', "payload": "/pay_now"}, {"title": "人工", "payload": "/request_human"}]
ENTRIES = [
    {"sender": "borrower", "text": "我的身份证 110101199003071234", "client_msg_id": "web:m1"},
    {"sender": "bot", "text": "您想怎么处理？\n", "buttons": BUTTONS},
    {"sender": "bot", "text": "no buttons", "buttons": None},
    {"sender": "agent", "text": "note", "agent_only": True, "sender_name": "王 Agent"},
    {"sender": "system", "text": ""},
]
CHANGES = {
    "state": "agent",
    "escalation_reason": "asked_for_human",
    "escalated_at": NOW - timedelta(seconds=3),
    "assigned_agent": None,
    "awaiting_identity": False,
    "language": "en",
    "rasa_sender_id": "r" * 32,
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request, tmp_path):
    if request.param == "sqlite":
        from huanxin_testkit.gw_fakes import create_schema

        url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}"
        await create_schema(url)
    else:
        from huanxin_testkit.gw_fakes import fresh_pg_database

        try:
            url = await fresh_pg_database(PG_DB)
        except OSError:
            pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    engine = create_engine(url)
    yield engine
    await engine.dispose()


def conversation(conversation_id: str) -> Conversation:
    return Conversation(
        id=conversation_id,
        channel="web",
        external_user_id=conversation_id,
        client_token_hash="h" * 64,
        language="zh",
        state="bot",
        last_seq=0,
        awaiting_identity=True,
        labels=["vip", "回访"],
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(hours=1),
    )


async def raw_rows(engine, table: str, conversation_id: str) -> list[tuple]:
    """Every column as the database holds it (SQLite: quote(); PostgreSQL: the text form)."""
    async with engine.connect() as conn:
        columns = await conn.run_sync(lambda c: inspect(c).get_columns(table))
        names = [c["name"] for c in columns]
        names = [n for n in names if n not in ("id", "conversation_id", "external_user_id")]
        shown = [f"quote({n})" if engine.dialect.name == "sqlite" else f"{n}::text" for n in names]
        key = "id" if table == "conversations" else "conversation_id"
        order = "" if table == "conversations" else " ORDER BY seq"
        query = text(f"SELECT {', '.join(shown)} FROM {table} WHERE {key} = :id{order}")
        rows = await conn.execute(query, {"id": conversation_id})
        return [tuple(r) for r in rows]


async def test_the_driver_writes_and_reads_what_the_orm_does(engine):
    sessions = create_session_factory(engine)
    store = TurnStore.for_engine(engine)
    service = ConversationService(sessions, None, None, Hub(), None, clock=lambda: NOW, turns=store)  # type: ignore[arg-type]
    try:
        async with sessions() as s, s.begin():
            s.add_all([conversation("orm"), conversation("driver")])
        async with sessions() as s, s.begin():
            orm_conv = await s.get(Conversation, "orm")
            orm_msgs = await service._append_many(s, orm_conv, [dict(e) for e in ENTRIES], **CHANGES)
        async with store.transaction() as tx:
            driver_conv, seq = await tx.conversation("driver", None)
            assert seq is None
            driver_msgs = await service._append_turn(tx, driver_conv, [dict(e) for e in ENTRIES], dict(CHANGES))
        for orm_m, driver_m in zip(orm_msgs, driver_msgs, strict=True):
            # the turn's messages are plain TurnMessage rows: the same fields and values as the ORM's
            orm_fields = {k: v for k, v in vars(orm_m).items() if k != "_sa_instance_state"}
            assert {**orm_fields, "conversation_id": None} == {**dataclasses.asdict(driver_m), "conversation_id": None}
        assert await raw_rows(engine, "messages", "orm") == await raw_rows(engine, "messages", "driver")
        assert await raw_rows(engine, "conversations", "orm") == await raw_rows(engine, "conversations", "driver")

        # read back: the same values as the ORM's, and the stored message found by its client id
        async with store.transaction() as tx:
            read, seq = await tx.conversation("driver", "web:m1")
            assert seq == 1
            assert offered_buttons(await tx.recent_messages("driver")) == BUTTONS
            assert await tx.answered("driver", 1) is True
            assert await tx.answered("driver", 5) is False
            assert await tx.waiting_count("driver") == 1  # the twin "orm" is with the desk, nobody's
            await tx.update("driver", {"client_token_hash": None})
        async with sessions() as s:
            orm_read = await s.get(Conversation, "driver")
        assert read is not None and orm_read is not None
        assert orm_read.client_token_hash is None
        for name in CONVERSATION_COLUMNS:
            expected = getattr(orm_read, name) if name != "client_token_hash" else "h" * 64
            assert getattr(read, name) == expected, name
        assert read.labels == ["vip", "回访"] and read.escalated_at == NOW - timedelta(seconds=3)

        missing, seq = await _read(store, "nobody")
        assert missing is None and seq is None
    finally:
        await store.close()


async def _read(store: TurnStore, conversation_id: str):
    async with store.transaction() as tx:
        return await tx.conversation(conversation_id, "x")


async def test_a_failed_transaction_writes_nothing(engine):
    sessions = create_session_factory(engine)
    store = TurnStore.for_engine(engine)
    service = ConversationService(sessions, None, None, Hub(), None, clock=lambda: NOW, turns=store)  # type: ignore[arg-type]
    try:
        async with sessions() as s, s.begin():
            s.add(conversation("c1"))
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                conv, _ = await tx.conversation("c1")
                await tx.update("c1", {"client_token_hash": None})
                rows = service._message_rows(conv, [dict(ENTRIES[0])], NOW)
                await tx.append("c1", NOW, {"state": "agent"}, rows)
                raise RuntimeError("the turn failed")
        assert await raw_rows(engine, "messages", "c1") == []
        async with sessions() as s:
            stored = await s.get(Conversation, "c1")
            assert stored is not None and stored.last_seq == 0 and stored.state == "bot"
            assert stored.client_token_hash == "h" * 64
        # a statement that fails where it commits (no such conversation) leaves nothing open
        with pytest.raises(OperationalError):
            async with store.transaction() as tx:
                await tx.append("gone", NOW, {}, service._message_rows(conv, [dict(ENTRIES[0])], NOW), and_commit=True)
        # the store goes on working afterwards
        async with store.transaction() as tx:
            conv, _ = await tx.conversation("c1")
            await service._append_turn(tx, conv, [dict(ENTRIES[1])], {})
        assert len(await raw_rows(engine, "messages", "c1")) == 1
    finally:
        await store.close()
