"""PostgreSQL drops every connection of the stack's database (what a restart or a failover does
to pooled connections), here with pg_terminate_backend on that one database only, so that
nothing else on the machine is disturbed:

- the next requests to the ledger and the gateway succeed: their pools do not hand out a dead
  connection (pre-ping) and the borrower's socket is not dropped;
- a turn whose replies cannot be stored (the database went away while Rasa was answering) still
  ends with an answer or a "please wait" for the borrower once the database is back.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from stack_helpers.e2e_stack import DEMO, http_json, status_figures
from stack_helpers.web_chat import assert_every_message_answered_once


class Postgres:
    """An administrator's connection (to the `postgres` database) acting on the stack's database."""

    def __init__(self, database_url: str) -> None:
        url = database_url.replace("+asyncpg", "")
        self.database = url.rsplit("/", 1)[1]
        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres"))

    def _run(self, sql: str) -> None:
        self.loop.run_until_complete(self.conn.execute(sql))

    def drop_connections(self) -> None:
        self._run(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.database}'")

    def refuse_connections(self, refuse: bool) -> None:
        self._run(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS {"false" if refuse else "true"}')

    def close(self) -> None:
        self.refuse_connections(False)
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


@pytest.fixture
def postgres(stack):
    pg = Postgres(stack.database_url)
    yield pg
    pg.close()


def test_ledger_and_gateway_answer_at_once_after_postgres_drops_their_connections(stack, web_chat, postgres):
    who = DEMO["D3"]
    chat = web_chat("zh")
    assert who.name in chat.verify(who, "我欠多少钱"), chat.dump()
    session = stack.ledger.verify(who)
    status_path = f"/loans/{who.loan_number}/status"
    headers = {"X-Verification-Token": session.token, "X-Conversation-Id": session.conversation_id}
    assert stack.ledger.call("GET", status_path, headers=headers)[0] == 200

    postgres.drop_connections()
    time.sleep(0.3)  # the server processes exit
    reads = [stack.ledger.call("GET", status_path, headers=headers)[0] for _ in range(10)]
    health = [http_json("GET", f"{stack.gateway_url}/healthz")[0] for _ in range(3)]
    reconnects = chat.reconnects
    back = chat.say("我现在欠多少钱", wait_for_bot=True)

    assert reads == [200] * 10, f"ledger status reads after the drop: {reads}"
    assert health == [200] * 3, f"gateway health after the drop: {health}"
    assert chat.reconnects == reconnects, "the gateway dropped the borrower's socket"
    expected = status_figures(stack.ledger.verify(who).status(who.loan_number), "zh")
    assert all(figure in back for figure in expected), (expected, back)
    assert_every_message_answered_once(chat)


def test_a_turn_whose_replies_cannot_be_stored_is_answered_once_the_database_is_back(stack, web_chat, postgres):
    who = DEMO["D6"]
    chat = web_chat("zh")
    assert who.name in chat.verify(who, "我欠多少钱"), chat.dump()
    last = max(chat.messages)
    asking = chat.send("我现在欠多少钱")
    deadline = time.monotonic() + 10
    while not any(m["sender"] == "borrower" for s, m in chat.messages.items() if s > last):
        assert time.monotonic() < deadline, "the borrower's message was never stored"
        time.sleep(0.002)
    postgres.refuse_connections(True)  # stored; Rasa is answering; the database goes away
    postgres.drop_connections()
    time.sleep(3)
    postgres.refuse_connections(False)

    assert asking.result().messages, "the message whose replies could not be stored got no answer"
    back = chat.say("我欠多少钱", wait_for_bot=True)
    expected = status_figures(stack.ledger.verify(who).status(who.loan_number), "zh")
    assert all(figure in back for figure in expected), (expected, back)
    assert_every_message_answered_once(chat)
