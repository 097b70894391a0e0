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
    # the socket's token check and the turn's first transaction read it; the answer does not
    assert len(conversation_reads) == 2, conversation_reads
    assert len(conversation_updates) == 2, conversation_updates  # borrower message; bot answer
    assert len(message_inserts) == 2, message_inserts
    answer = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot" and e["seq"] == 4)
    assert answer["text"].endswith("how much do I owe?")
