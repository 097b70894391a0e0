"""The statements of a borrower's turn, run on the database driver itself (issue 11).

A web chat turn is two short transactions: read the conversation (and whether this message was
already stored) and append the borrower's message; then, once the bot answered, append its
replies. Through SQLAlchemy's ORM and Core the gateway spent 5.4-6.9 ms of CPU a turn
(bench/turn_cost.py --only gateway, quiet 2-core machine), more than half of it in the session,
statement caching and result machinery and, on SQLite, aiosqlite's thread hand-off for every
cursor call (32 a turn). Here they are seven fixed SQL statements:

- SQLite: one connection of its own in one worker thread; each call of a transaction is one
  hand-off to that thread (BEGIN IMMEDIATE goes with the first statement, COMMIT with the last:
  3 hand-offs a turn), and an asyncio lock lets one transaction at a time use the connection
  (SQLite serialises writers anyway).
- PostgreSQL: a small asyncpg pool of its own (no reset round trip when a connection is given
  back: these statements leave no session state).

What is written is exactly what SQLAlchemy writes: every value goes through the bind processor
SQLAlchemy uses for its column on this dialect (datetimes, booleans, JSON), and every value read
through its result processor, so the rows and the ``Conversation`` objects are the same as the
ORM's (tests/gateway/test_turn_sql.py compares them). Database errors are raised as SQLAlchemy's
``IntegrityError`` / ``OperationalError`` without parameters, as the engine raises them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from .db import Conversation, Message

CONVERSATION = cast(Table, Conversation.__table__)
MESSAGE = cast(Table, Message.__table__)
CONVERSATION_COLUMNS = tuple(c.name for c in CONVERSATION.columns)
MESSAGE_COLUMNS = ("conversation_id", "seq", "sender", "sender_name", "text", "buttons", "agent_only",
                   "client_msg_id", "created_at")  # fmt: skip
RECENT_MESSAGES = 10  # how far back the buttons on offer are looked for

# Statements in PostgreSQL's numbered parameters; SQLite gets them as "?" in the same order.
_READ_CONVERSATION = (
    f"SELECT {', '.join('c.' + n for n in CONVERSATION_COLUMNS)}, "
    "(SELECT m.seq FROM messages AS m WHERE m.conversation_id = c.id AND m.client_msg_id = $1) "
    "FROM conversations AS c WHERE c.id = $2"
)
_ANSWERED = (
    "SELECT 1 FROM messages WHERE conversation_id = $1 AND seq > $2 "
    "AND sender IN ('bot', 'system', 'agent') AND agent_only = $3 LIMIT 1"
)
_RECENT = (
    "SELECT sender, buttons FROM messages WHERE conversation_id = $1 AND agent_only = $2 "
    f"AND sender IN ('bot', 'borrower') ORDER BY seq DESC LIMIT {RECENT_MESSAGES}"
)
_WAITING = "SELECT count(id) FROM conversations WHERE state = 'agent' AND assigned_agent IS NULL AND id != $1"


def _qmark(sql: str) -> str:
    return re.sub(r"\$\d+", "?", sql)


class TurnTransaction:
    """One transaction of a turn; made by ``TurnStore.transaction()``."""

    def __init__(self, store: TurnStore) -> None:
        self._store = store
        self.connection: Any = None  # PostgreSQL: the pool's connection this transaction runs on

    async def conversation(
        self, conversation_id: str, client_msg_id: str | None = None
    ) -> tuple[Conversation | None, int | None]:
        """The conversation (None when unknown) and the seq of its message ``client_msg_id``
        (None when not stored), in one statement. The object is not in any ORM session."""
        store = self._store
        row = await store._fetchrow(self, _READ_CONVERSATION, (client_msg_id, conversation_id))
        if row is None:
            return None, None
        values = {name: store._read[name](row[i]) for i, name in enumerate(CONVERSATION_COLUMNS)}
        return Conversation(**values), row[len(CONVERSATION_COLUMNS)]

    async def answered(self, conversation_id: str, seq: int) -> bool:
        """Whether anything the borrower sees (bot, system or agent message) follows message ``seq``."""
        no = self._store._bind_message["agent_only"](False)
        return await self._store._fetchrow(self, _ANSWERED, (conversation_id, seq, no)) is not None

    async def recent_messages(self, conversation_id: str) -> list[tuple[str, Any]]:
        """(sender, buttons) of the last RECENT_MESSAGES bot and borrower messages the borrower
        sees, newest first."""
        store = self._store
        no = store._bind_message["agent_only"](False)
        rows = await store._fetch(self, _RECENT, (conversation_id, no))
        buttons = store._read_message_buttons
        return [(sender, buttons(value)) for sender, value in rows]

    async def waiting_count(self, conversation_id: str) -> int:
        """Conversations with the desk that nobody has, other than this one."""
        row = await self._store._fetchrow(self, _WAITING, (conversation_id,))
        return int(row[0]) if row else 0

    async def update(self, conversation_id: str, changes: dict[str, Any]) -> None:
        """Write ``changes`` (conversation columns) and nothing else."""
        if changes:
            await self._store._append(self, conversation_id, 0, changes, [], False)

    async def append(
        self,
        conversation_id: str,
        now: datetime,
        changes: dict[str, Any],
        rows: Sequence[dict[str, Any]],
        *,
        and_commit: bool = False,
    ) -> int:
        """``UPDATE conversations SET last_seq = last_seq + len(rows), updated_at = now, **changes
        ... RETURNING last_seq``, then one INSERT of ``rows`` (dicts of MESSAGE_COLUMNS but seq,
        numbered after the previous last_seq); the new last_seq. ``and_commit``: the transaction's
        last statement, committed with it (on SQLite in the same hand-off to its thread)."""
        changes = {"updated_at": now, **changes}
        return await self._store._append(self, conversation_id, len(rows), changes, rows, and_commit)


class TurnStore:
    """The turn's statements on one database (``for_engine``); ``trace``, when a list, collects
    each statement run (for tests that count them)."""

    def __init__(self, dialect: Dialect) -> None:
        self.trace: list[str] | None = None
        self._statements: dict[Any, str] = {}  # UPDATE by changed columns, INSERT by row count
        self._read = {c.name: _processor(c.type.dialect_impl(dialect).result_processor(dialect, None))
                      for c in CONVERSATION.columns}  # fmt: skip
        self._bind_conversation = {c.name: _processor(c.type.dialect_impl(dialect).bind_processor(dialect))
                                   for c in CONVERSATION.columns}  # fmt: skip
        self._bind_message = {c.name: _processor(c.type.dialect_impl(dialect).bind_processor(dialect))
                              for c in MESSAGE.columns}  # fmt: skip
        buttons = MESSAGE.c.buttons.type.dialect_impl(dialect)
        self._read_message_buttons = _processor(buttons.result_processor(dialect, None))

    @staticmethod
    def for_engine(engine: AsyncEngine) -> TurnStore:
        if engine.dialect.name == "sqlite":
            return SQLiteTurnStore(engine)
        if engine.dialect.name == "postgresql":
            return PostgresTurnStore(engine)
        raise ValueError(f"no turn store for the {engine.dialect.name} dialect")

    def transaction(self) -> contextlib.AbstractAsyncContextManager[TurnTransaction]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def _update_sql(self, names: tuple[str, ...]) -> str:
        cached = self._statements.get(names)
        if cached is None:
            cached = self._statements[names] = self._sql(self._update_text(names))
        return cached

    def _insert_sql(self, count: int) -> str:
        cached = self._statements.get(count)
        if cached is None:
            cached = self._statements[count] = self._sql(self._insert_text(count))
        return cached

    def _sql(self, text: str) -> str:
        """A statement in this driver's parameter style."""
        return text

    def _update_text(self, names: tuple[str, ...]) -> str:
        sets = "".join(f", {n} = ${i + 2}" for i, n in enumerate(names))
        where = f"WHERE id = ${len(names) + 2}"
        return f"UPDATE conversations SET last_seq = last_seq + $1{sets} {where} RETURNING last_seq"

    def _insert_text(self, count: int) -> str:
        width = len(MESSAGE_COLUMNS)
        values = ", ".join(
            "(" + ", ".join(self._placeholder(MESSAGE_COLUMNS[k], r * width + k + 1) for k in range(width)) + ")"
            for r in range(count)
        )
        return f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES {values}"

    def _placeholder(self, column: str, number: int) -> str:
        return f"${number}"

    def _update_args(self, conversation_id: str, count: int, changes: dict[str, Any]) -> tuple[str, list[Any]]:
        names = tuple(sorted(changes))
        bind = self._bind_conversation
        return self._update_sql(names), [count, *(bind[n](changes[n]) for n in names), conversation_id]

    def _insert_args(self, last: int, rows: Sequence[dict[str, Any]]) -> tuple[str, list[Any]]:
        bind = self._bind_message
        first = last - len(rows) + 1
        args: list[Any] = []
        for offset, row in enumerate(rows):
            values = {**row, "seq": first + offset}
            args += [bind[n](values[n]) for n in MESSAGE_COLUMNS]
        return self._insert_sql(len(rows)), args

    # the backend's I/O
    async def _fetchrow(self, tx: TurnTransaction, sql: str, args: Sequence[Any]) -> Sequence[Any] | None:
        raise NotImplementedError

    async def _fetch(self, tx: TurnTransaction, sql: str, args: Sequence[Any]) -> list[Sequence[Any]]:
        raise NotImplementedError

    async def _append(
        self,
        tx: TurnTransaction,
        conversation_id: str,
        count: int,
        changes: dict[str, Any],
        rows: Sequence[dict],
        and_commit: bool,
    ) -> int:
        raise NotImplementedError

    def _traced(self, sql: str) -> None:
        if self.trace is not None:
            self.trace.append(sql)


def _processor(function: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return function if function is not None else _same


def _same(value: Any) -> Any:
    return value


def _database_error(exc: BaseException) -> Exception:
    """The driver's error as the SQLAlchemy error the engine would raise (no statement text or
    parameters: what a borrower typed never reaches a log)."""
    integrity = isinstance(exc, sqlite3.IntegrityError) or type(exc).__name__.endswith("ViolationError")
    kind = IntegrityError if integrity else OperationalError
    return kind("turn statement", None, exc, hide_parameters=True)


# ---- SQLite -----------------------------------------------------------------------------------


class SQLiteTurnStore(TurnStore):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine.dialect)
        self._path = engine.url.database or ""
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-turn-sql")
        self._connection: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._open: TurnTransaction | None = None  # the transaction whose BEGIN has been sent
        self._queries = {sql: _qmark(sql) for sql in (_READ_CONVERSATION, _ANSWERED, _RECENT, _WAITING)}

    def _sql(self, text: str) -> str:
        return _qmark(text)

    def _connect(self) -> sqlite3.Connection:
        """The connection, opened in the worker thread the first time, with the engine's pragmas
        (ledger/db/session.py)."""
        if self._connection is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._connection = conn
        return self._connection

    async def _call(
        self, tx: TurnTransaction, work: Callable[[sqlite3.Connection], Any], and_commit: bool = False
    ) -> Any:
        """``work`` in the worker thread, after BEGIN IMMEDIATE when it is the transaction's
        first, and followed by COMMIT with ``and_commit``."""
        begin = self._open is not tx
        self._open = None if and_commit else tx

        def run() -> Any:
            conn = self._connect()
            if begin:
                conn.execute("BEGIN IMMEDIATE")
            if not and_commit:
                return work(conn)
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, run)
        except sqlite3.Error as exc:
            raise _database_error(exc) from exc

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[TurnTransaction]:
        async with self._lock:
            tx = TurnTransaction(self)
            try:
                yield tx
            except BaseException:
                if self._open is tx:
                    self._open = None
                    # the thread runs calls in order: this ends the transaction before the next begins
                    with contextlib.suppress(Exception):
                        await self._end("ROLLBACK")
                raise
            if self._open is tx:
                self._open = None
                await self._end("COMMIT")

    async def _end(self, verb: str) -> None:
        def run() -> None:
            conn = self._connect()
            if not conn.in_transaction:
                return
            try:
                conn.execute(verb)
            finally:
                if conn.in_transaction:  # a COMMIT that failed: nothing of it stays half open
                    conn.execute("ROLLBACK")

        self._traced(verb)
        try:
            await asyncio.shield(asyncio.get_running_loop().run_in_executor(self._thread, run))
        except sqlite3.Error as exc:
            raise _database_error(exc) from exc

    async def _fetchrow(self, tx: TurnTransaction, sql: str, args: Sequence[Any]) -> Sequence[Any] | None:
        q = self._queries[sql]
        self._traced(q)
        return await self._call(tx, lambda conn: conn.execute(q, tuple(args)).fetchone())

    async def _fetch(self, tx: TurnTransaction, sql: str, args: Sequence[Any]) -> list[Sequence[Any]]:
        q = self._queries[sql]
        self._traced(q)
        return await self._call(tx, lambda conn: conn.execute(q, tuple(args)).fetchall())

    async def _append(
        self,
        tx: TurnTransaction,
        conversation_id: str,
        count: int,
        changes: dict[str, Any],
        rows: Sequence[dict],
        and_commit: bool,
    ) -> int:
        update, update_args = self._update_args(conversation_id, count, changes)
        self._traced(update)
        if rows:
            self._traced(self._insert_sql(len(rows)))
        if and_commit:
            self._traced("COMMIT")

        def run(conn: sqlite3.Connection) -> int:
            found = conn.execute(update, update_args).fetchone()
            if found is None:
                raise sqlite3.OperationalError("the conversation is gone")
            if rows:
                insert, insert_args = self._insert_args(found[0], rows)
                conn.execute(insert, insert_args)
            return int(found[0])

        return await self._call(tx, run, and_commit)

    async def close(self) -> None:
        def run() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        with contextlib.suppress(Exception):
            await asyncio.get_running_loop().run_in_executor(self._thread, run)
        self._thread.shutdown(wait=False)


# ---- PostgreSQL -------------------------------------------------------------------------------


class PostgresTurnStore(TurnStore):
    JSON_COLUMNS = ("buttons",)

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine.dialect)
        url = engine.url.set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()
        self._deserialize = getattr(engine.dialect, "_json_deserializer", None) or json.loads
        # the asyncpg dialect reads JSON through a codec of its connections (no result processor)
        self._read_message_buttons = self._json_value
        for column in CONVERSATION.columns:
            if column.type.__class__.__name__ == "JSON":
                self._read[column.name] = self._json_value

    def _json_value(self, value: Any) -> Any:
        return self._deserialize(value) if isinstance(value, str) else value

    def _placeholder(self, column: str, number: int) -> str:
        return f"${number}::json" if column in self.JSON_COLUMNS else f"${number}"

    async def _connections(self) -> Any:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    import asyncpg

                    async def no_reset(_connection: Any) -> None:
                        """These statements leave no session state to reset (saves a round trip)."""

                    self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=10, reset=no_reset)
        return self._pool

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[TurnTransaction]:
        import asyncpg

        try:
            pool = await self._connections()
            async with pool.acquire() as conn:
                tx = TurnTransaction(self)
                tx.connection = conn
                self._traced("BEGIN")
                async with conn.transaction():
                    yield tx
                self._traced("COMMIT")
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise _database_error(exc) from exc

    async def _fetchrow(self, tx: TurnTransaction, sql: str, args: Sequence[Any]) -> Sequence[Any] | None:
        self._traced(sql)
        return await tx.connection.fetchrow(sql, *args)

    async def _fetch(self, tx: TurnTransaction, sql: str, args: Sequence[Any]) -> list[Sequence[Any]]:
        self._traced(sql)
        return list(await tx.connection.fetch(sql, *args))

    async def _append(
        self,
        tx: TurnTransaction,
        conversation_id: str,
        count: int,
        changes: dict[str, Any],
        rows: Sequence[dict],
        and_commit: bool,
    ) -> int:
        """(``and_commit`` is the transaction's exit here: asyncpg commits when it ends.)"""
        conn = tx.connection
        update, update_args = self._update_args(conversation_id, count, changes)
        self._traced(update)
        last = await conn.fetchval(update, *update_args)
        if last is None:
            raise OperationalError("turn statement", None, LookupError("the conversation is gone"))
        if rows:
            insert, insert_args = self._insert_args(last, rows)
            self._traced(insert)
            await conn.execute(insert, *insert_args)
        return int(last)

    async def close(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.close()
            self._pool = None
