"""The queue's borrower names and buckets read for all its lines at once: a queue of 200 lines
(5,000 open conversations) must not cost a ledger read per line (bench/desk_fanout.py measured
2-4 s for the first load that way); what a line shows stays the same."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from huanxin_testkit.gw_desk import gateway_factory
from huanxin_testkit.gw_helpers import desk_for, escalated_conversation
from ledger.db import models as m
from ledger.db.session import create_engine, create_session_factory
from ledger.desk_door import DeskDoor
from ledger.policy_file import load_policy
from ledger.services.seeding import seed_demo


async def link(sessions, borrower_id: str, conversation_id: str) -> None:
    """A verification linking the conversation name to the borrower (as the bot's would)."""
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        s.add(
            m.VerificationSession(
                token_hash=hashlib.sha256(conversation_id.encode()).hexdigest(),
                borrower_id=borrower_id,
                conversation_id=conversation_id,
                created_at=now,
                last_used_at=now,
                expires_at=now + timedelta(minutes=30),
            )
        )


class BatchAccounts:
    """An account reader with the batched read: records each call."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.single = 0

    async def account(self, conversation_id: str):
        self.single += 1
        return {"borrower_name": "Zhang San", "bucket": "B1", "loans": []}

    async def summary(self, conversation_id: str):
        self.single += 1
        return {"borrower_name": "Zhang San", "bucket": "B1"}

    async def summaries(self, conversations):
        self.batches.append(sorted(c.id for c in conversations))
        return {c.id: {"borrower_name": "Zhang San", "bucket": "B1"} for c in conversations}


@pytest.fixture
def make_desk_gateway(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa):
    return gateway_factory(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa)


async def test_the_queue_reads_every_lines_summary_in_one_call_then_from_the_cache(make_desk_gateway, clock):
    accounts = BatchAccounts()
    client = await make_desk_gateway(accounts=accounts)
    widgets = [await escalated_conversation(client) for _ in range(4)]
    desk = await desk_for(client, "li.na")
    first = await desk.queue()
    assert [len(b) for b in accounts.batches] == [4] and accounts.single == 0
    assert sorted(accounts.batches[0]) == sorted(w.conversation_id for w in widgets)
    assert all(i["borrower_name"] == "Zhang San" and i["bucket"] == "B1" for i in first)
    await desk.queue()
    assert len(accounts.batches) == 1  # within the cache's time: not read again
    clock.advance(120)
    await desk.queue()
    assert [len(b) for b in accounts.batches] == [4, 4]


async def _door(database_url):
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    ids = await seed_demo(sessions, salt="test-salt", today=today)
    return engine, sessions, ids, DeskDoor(sessions, policy=load_policy())


async def test_queue_summaries_say_what_queue_summary_says_for_each(database_url):
    engine, sessions, ids, door = await _door(database_url)
    await link(sessions, ids["D1"], "conv-d1")
    await link(sessions, ids["D7"], "conv-d7")
    await link(sessions, ids["D1"], "sender-old")
    await link(sessions, ids["D2"], "sender-new")
    names = {
        "a": ["conv-d1"],
        "b": ["conv-d7"],
        "c": ["sender-new", "sender-old"],  # the current sender first: it wins
        "d": ["sender-unlinked", "sender-old"],
        "e": ["nobody"],
        "f": [],
    }
    batch = await door.queue_summaries(names)
    assert batch == {key: await door.queue_summary(ids_) for key, ids_ in names.items()}
    assert batch["a"] == {
        "borrower_name": "王芳",
        "bucket": "M1",
        "case_number": None,
        "loan_numbers": ["HX0000000001"],
    }
    assert batch["c"]["borrower_name"] == "李强" and batch["d"]["borrower_name"] == "王芳"
    assert batch["e"] is None and batch["f"] is None
    await engine.dispose()


async def test_queue_summaries_cost_the_same_statements_for_2_lines_or_40(database_url):
    engine, sessions, ids, door = await _door(database_url)
    for i in range(40):
        await link(sessions, ids["D1"], f"conv-{i}")
    statements = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(1))

    async def count(n: int) -> int:
        statements.clear()
        out = await door.queue_summaries({f"conv-{i}": [f"sender-{i}", f"conv-{i}"] for i in range(n)})
        assert all(v["borrower_name"] == "王芳" and v["bucket"] == "M1" for v in out.values())
        return len(statements)

    assert await count(40) == await count(2)
    await engine.dispose()
