"""What one borrower turn writes: the borrower's message, then the bot's answer with one
UPDATE of the conversation (the sequence numbers and any changed column) and one INSERT, the
conversation not read again after Rasa answered (issue 11: the gateway's cost per turn). The
turn's statements run on the driver (gateway/turn_sql.py), none through SQLAlchemy's engine."""

from __future__ import annotations

from sqlalchemy import event

from gateway.keys import engine_key, service_key
from huanxin_testkit.gw_helpers import Widget


def normalised(statements: list[str]) -> list[str]:
    return [" ".join(s.split()).lower() for s in statements]


async def test_a_bot_turn_reads_the_conversation_once_and_updates_it_twice(gateway_client):
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m0")  # the first turn of the conversation, not counted
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    store = gateway_client.app[service_key].turns
    store.trace = []
    try:
        await widget.send("how much do I owe?", "m1")
        answer = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot" and e["seq"] == 4)
    finally:
        statements, store.trace = normalised(store.trace), None
    conversation_updates = [s for s in statements if s.startswith("update conversations")]
    conversation_reads = [s for s in statements if s.startswith("select") and "from conversations" in s]
    message_inserts = [s for s in statements if s.startswith("insert into messages")]
    # the turn's first transaction reads it (and whether the message is stored), checking the
    # socket's token too; the answer does not
    assert len(conversation_reads) == 1, statements
    assert len(conversation_updates) == 2, statements  # borrower message; bot answer
    assert len(message_inserts) == 2, statements
    assert statements.count("commit") == 2, statements  # two transactions, nothing else
    assert len([s for s in statements if s != "begin"]) == 7, statements
    assert answer["text"].endswith("how much do I owe?")


async def test_a_web_chat_turn_runs_nothing_through_the_engine(gateway_client):
    engine = gateway_client.app[engine_key].sync_engine
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()).upper())

    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    event.listen(engine, "before_cursor_execute", seen)
    try:
        await widget.send("how much do I owe", "m2")
        await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot" and e["seq"] > 3)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements == []
