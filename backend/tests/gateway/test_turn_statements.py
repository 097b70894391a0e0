"""What one borrower turn writes: the borrower's message, then the bot's answer with one
UPDATE of the conversation (the sequence numbers and any changed column) and one INSERT, the
conversation not read again after Rasa answered (issue 11: the gateway's cost per turn)."""

from __future__ import annotations

from sqlalchemy import event

from gateway.keys import engine_key
from huanxin_testkit.gw_helpers import Widget


async def test_a_bot_turn_reads_the_conversation_once_and_updates_it_twice(gateway_client):
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m0")  # the first turn of the conversation, not counted
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()).lower())

    engine = gateway_client.app[engine_key].sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await widget.send("how much do I owe?", "m1")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    conversation_updates = [s for s in statements if s.startswith("update conversations")]
    conversation_reads = [s for s in statements if s.startswith("select") and "from conversations" in s]
    message_inserts = [s for s in statements if s.startswith("insert into messages")]
    # the turn's first transaction reads it, checking the socket's token too; the answer does not
    assert len(conversation_reads) == 1, conversation_reads
    assert len(conversation_updates) == 2, conversation_updates  # borrower message; bot answer
    assert len(message_inserts) == 2, message_inserts
    answer = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot" and e["seq"] == 4)
    assert answer["text"].endswith("how much do I owe?")


async def test_a_web_chat_turn_takes_two_write_transactions_and_no_extra_reads(gateway_client):
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
    begins = [s for s in statements if s.startswith("BEGIN")]
    reads = [s for s in statements if s.startswith("SELECT")]
    writes = [s for s in statements if s.startswith(("UPDATE", "INSERT"))]
    assert len(begins) == 2, statements  # the borrower's message, then the answer: nothing else
    assert len(reads) <= 2, reads  # the conversation, and whether this message was already stored
    assert len(writes) == 4, writes  # one UPDATE ... RETURNING and one INSERT a transaction
