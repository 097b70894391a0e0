"""Per-conversation locks: the order of one conversation's turns is the order they are handled.

Inside one gateway process an ``asyncio.Lock`` per conversation gives FIFO order. When
REDIS_URL is set, a Redis lock (``SET key token NX PX ttl``, released by a compare-and-delete
script) is taken as well, so several gateway processes never interleave one conversation's
turns. The Redis client is a minimal RESP implementation (only SET/EVAL/PING are needed),
which keeps the backend environment free of another dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlparse


class LockTimeout(Exception):
    """Raised when a conversation lock could not be acquired in time."""


class RedisError(Exception):
    """Raised for an error reply or a broken connection to Redis."""


class RedisClient:
    """Just enough of RESP2 over one connection, commands serialised by an asyncio lock."""

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 6379
        self._password = parsed.password
        self._db = int(parsed.path.lstrip("/") or 0)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._io = asyncio.Lock()

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        if self._password:
            await self._roundtrip("AUTH", self._password)
        if self._db:
            await self._roundtrip("SELECT", str(self._db))

    @staticmethod
    def _encode(*args: str) -> bytes:
        out = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg.encode("utf-8")
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(out)

    async def _read_reply(self):
        assert self._reader is not None
        line = await self._reader.readline()
        if not line:
            raise RedisError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            data = await self._reader.readexactly(length + 2)
            return data[:-2].decode("utf-8")
        if kind == b"*":
            count = int(rest)
            if count < 0:
                return None
            return [await self._read_reply() for _ in range(count)]
        raise RedisError(f"unexpected reply {line!r}")

    async def _roundtrip(self, *args: str):
        assert self._writer is not None
        self._writer.write(self._encode(*args))
        await self._writer.drain()
        return await self._read_reply()

    async def execute(self, *args: str):
        async with self._io:
            if self._writer is None or self._writer.is_closing():
                await self._connect()
            try:
                return await self._roundtrip(*args)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                self._writer = None
                raise RedisError(str(exc)) from exc

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
            self._writer = None


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class ConversationLocks:
    """``async with locks.hold(conversation_id):`` serialises one conversation's turns."""

    def __init__(self, redis: RedisClient | None = None, ttl_s: float = 30.0, wait_s: float = 60.0) -> None:
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}
        self._redis = redis
        self._ttl_ms = int(ttl_s * 1000)
        self._wait_s = wait_s

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._local.get(conversation_id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._local[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                if self._redis is None:
                    yield
                else:
                    token = await self._acquire_redis(conversation_id)
                    try:
                        yield
                    finally:
                        with contextlib.suppress(RedisError, OSError):
                            await self._redis.execute("EVAL", _RELEASE, "1", self._key(conversation_id), token)
        finally:
            lock_now, users_now = self._local[conversation_id]
            if users_now <= 1:
                del self._local[conversation_id]
            else:
                self._local[conversation_id] = (lock_now, users_now - 1)

    @staticmethod
    def _key(conversation_id: str) -> str:
        return f"huanxin:gateway:lock:{conversation_id}"

    async def _acquire_redis(self, conversation_id: str) -> str:
        assert self._redis is not None
        token = secrets.token_hex(16)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        delay = 0.005
        while True:
            reply = await self._redis.execute("SET", self._key(conversation_id), token, "NX", "PX", str(self._ttl_ms))
            if reply == "OK":
                return token
            if loop.time() > deadline:
                raise LockTimeout(conversation_id)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
