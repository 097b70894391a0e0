"""Agent accounts and desk sessions: argon2 password hashes, expiring sessions, CSRF tokens.

The session cookie holds a random token; the database keeps only its sha256, the agent, a
per-session CSRF token and an absolute expiry. Every state-changing desk request must echo
the CSRF token in the ``X-CSRF-Token`` header (the cookie itself is HttpOnly and
SameSite=Strict).

argon2 is deliberately slow (about 0.1-0.2 s of CPU), so it never runs on the event loop: a
small thread pool does it (argon2-cffi releases the GIL) behind a bounded count of requests in
flight; past it a login is refused at once (``HashPoolBusy``, a 503) rather than queued. The
attempt limits (per account, per address, growing delays) are in ``LoginThrottle``.

A password reset or a deactivation ends every session of that agent (the desk's socket notices
within GATEWAY_DESK_SESSION_CHECK seconds); expired sessions are purged at each login and
periodically. Each account change is audited.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conversations import AgentIdentity, AuditSink, hash_token, plausible_id, utcnow
from .db import ROLES, Agent, AgentSession
from .ratelimit import GrowingDelay, Limits, LimitSpec

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD = 10


async def _delete_sessions(s: AsyncSession, condition: ColumnElement[bool]) -> int:
    """Deletes the desk sessions that match; how many (a DELETE's result is a CursorResult)."""
    result = cast(CursorResult[Any], await s.execute(delete(AgentSession).where(condition)))
    return result.rowcount or 0


class AgentError(Exception):
    """Invalid agent data (unknown role or agent, short password, bad username)."""


class HashPoolBusy(Exception):
    """Too many password checks in flight; the caller answers 503 with Retry-After."""


class PasswordPool:
    """argon2 hash/verify in worker threads with at most ``max_pending`` calls in flight."""

    def __init__(self, threads: int = 2, max_pending: int = 8) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        self._max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()  # the count drops when the work ends, even if the caller left

    def _done(self, _future) -> None:
        with self._lock:
            self._pending -= 1

    async def _run(self, fn, *args):
        with self._lock:
            if self._pending >= self._max_pending:
                raise HashPoolBusy()
            self._pending += 1
        try:
            future = self._executor.submit(fn, *args)
        except RuntimeError:  # shut down
            self._done(None)
            raise HashPoolBusy() from None
        future.add_done_callback(self._done)
        return await asyncio.wrap_future(future)

    async def hash(self, password: str) -> str:
        return await self._run(_hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._run(_verify, password_hash, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class LoginThrottle:
    """Failed desk logins: at most 10 per account and 30 per client address in 15 minutes
    (moving windows), and per account a growing delay after the 2nd consecutive failure
    (1 s, 2 s, 4 s ... up to 5 minutes). Only failures count; a success clears the account.
    Keys are the username and a hash of the address, in process memory only."""

    ACCOUNT = "login_account"
    ADDRESS = "login_address"

    def __init__(self, clock: Callable[[], float]) -> None:
        self.limits = Limits({self.ACCOUNT: LimitSpec(10, "15 minutes"), self.ADDRESS: LimitSpec(30, "15 minutes")})
        self.delay = GrowingDelay(free=2, base_s=1.0, cap_s=300.0, forget_s=900.0, clock=clock)

    @staticmethod
    def address_key(address: str | None) -> str:
        return hashlib.sha256((address or "unknown").encode()).hexdigest()[:24]

    async def wait(self, username: str, address: str | None) -> float | None:
        """Seconds to wait before this attempt may be made, or None."""
        waits = [
            await self.limits.check(self.ACCOUNT, username),
            await self.limits.check(self.ADDRESS, self.address_key(address)),
            self.delay.wait(username),
        ]
        found = [w for w in waits if w is not None]
        return max(found) if found else None

    async def failed(self, username: str, address: str | None) -> None:
        await self.limits.hit(self.ACCOUNT, username)
        await self.limits.hit(self.ADDRESS, self.address_key(address))
        self.delay.failed(username)

    async def succeeded(self, username: str) -> None:
        await self.limits.clear(self.ACCOUNT, username)
        self.delay.clear(username)


def _identity(agent: Agent) -> AgentIdentity:
    return AgentIdentity(username=agent.username, role=agent.role, display_name=agent.display_name)


class DeskAuth:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ttl_s: int,
        clock: Callable[[], datetime] = utcnow,
        pool: PasswordPool | None = None,
        audit: AuditSink | None = None,
    ) -> None:
        self.sessions = sessions
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock
        self._pool = pool
        self.audit = audit  # account changes are recorded here (the CLI passes the ledger's log)

    @property
    def pool(self) -> PasswordPool:
        if self._pool is None:
            self._pool = PasswordPool()
        return self._pool

    @pool.setter
    def pool(self, pool: PasswordPool) -> None:
        if self._pool is not None:
            self._pool.close()
        self._pool = pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    async def _audit(self, actor: str, action: str, detail: dict) -> None:
        if self.audit is not None:
            await self.audit.record(actor, action, "", detail)

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AgentError(f"password must have at least {MIN_PASSWORD} characters")

    async def _end_sessions(self, s: AsyncSession, username: str) -> int:
        return await _delete_sessions(s, AgentSession.username == username)

    async def create_agent(
        self, username: str, password: str, role: str, display_name: str | None = None, actor: str = "cli"
    ) -> AgentIdentity:
        """Create an agent, or update one (a new password then ends its sessions, like set_password)."""
        if role not in ROLES:
            raise AgentError(f"role must be one of {ROLES}")
        self._check_password(password)
        if (
            not username
            or len(username) > 64
            or not username.replace("_", "").replace("-", "").replace(".", "").isalnum()
        ):
            raise AgentError("username: letters, digits, . _ - only (max 64)")
        password_hash = await self.pool.hash(password)
        async with self.sessions() as s, s.begin():
            existing = await s.get(Agent, username)
            if existing is not None:
                existing.password_hash = password_hash
                existing.role = role
                existing.display_name = display_name or existing.display_name
                existing.active = True
                ended = await self._end_sessions(s, username)
                identity = _identity(existing)
            else:
                agent = Agent(
                    username=username,
                    display_name=display_name or username,
                    password_hash=password_hash,
                    role=role,
                    active=True,
                    created_at=self.clock(),
                )
                s.add(agent)
                identity, ended = _identity(agent), None
        if ended is not None:
            await self._audit(actor, "desk.agent.password_reset", {"agent": username, "sessions_ended": ended})
        return identity

    async def set_password(self, username: str, password: str, actor: str) -> int:
        """A new password; every session of the agent ends (returns how many)."""
        self._check_password(password)
        password_hash = await self.pool.hash(password)
        async with self.sessions() as s, s.begin():
            agent = await s.get(Agent, username)
            if agent is None:
                raise AgentError(f"no agent named {username!r}")
            agent.password_hash = password_hash
            ended = await self._end_sessions(s, username)
        await self._audit(actor, "desk.agent.password_reset", {"agent": username, "sessions_ended": ended})
        return ended

    async def set_active(self, username: str, active: bool, actor: str) -> int:
        """Deactivate (sessions end, logins refused) or reactivate an agent; returns sessions ended."""
        async with self.sessions() as s, s.begin():
            agent = await s.get(Agent, username)
            if agent is None:
                raise AgentError(f"no agent named {username!r}")
            agent.active = active
            ended = 0 if active else await self._end_sessions(s, username)
        await self._audit(
            actor,
            "desk.agent.reactivate" if active else "desk.agent.deactivate",
            {"agent": username, "sessions_ended": ended},
        )
        return ended

    async def login(self, username: str, password: str) -> tuple[str, str, AgentIdentity] | None:
        """(cookie token, csrf token, identity) on success; None otherwise (same work either way).

        Raises HashPoolBusy when too many checks are in flight. Purges expired sessions."""
        async with self.sessions() as s:
            agent = await s.get(Agent, username) if plausible_id(username) else None
        ok = await self.pool.verify(agent.password_hash if agent else _DUMMY_HASH, password)
        if not ok or agent is None or not agent.active:
            return None
        rehash = await self.pool.hash(password) if _hasher.check_needs_rehash(agent.password_hash) else None
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.sessions() as s, s.begin():
            current = await s.get(Agent, agent.username)
            if current is None or not current.active or current.password_hash != agent.password_hash:
                return None  # deactivated or reset while the hash was checked
            purged = await _delete_sessions(s, AgentSession.expires_at <= now)
            s.add(
                AgentSession(
                    token_hash=hash_token(token),
                    username=agent.username,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + self.ttl,
                )
            )
            if rehash is not None:
                current.password_hash = rehash
            identity = _identity(current)
        if purged:
            await self._audit("gateway", "desk.sessions.purged", {"count": purged})
        return token, csrf, identity

    async def resolve(self, token: str | None) -> tuple[AgentIdentity, str] | None:
        """The identity and CSRF token of a live session; expired sessions are deleted."""
        if not token:
            return None
        async with self.sessions() as s, s.begin():
            row = (
                await s.execute(
                    select(AgentSession, Agent)
                    .join(Agent, Agent.username == AgentSession.username)
                    .where(AgentSession.token_hash == hash_token(token))
                )
            ).first()
            if row is None:
                return None
            session, agent = row
            if session.expires_at <= self.clock() or not agent.active:
                await s.delete(session)
                return None
            return _identity(agent), session.csrf_token

    async def logout(self, token: str) -> None:
        async with self.sessions() as s, s.begin():
            await s.execute(delete(AgentSession).where(AgentSession.token_hash == hash_token(token)))

    async def purge_expired(self) -> int:
        """Delete expired sessions (audited when there were any); returns how many."""
        async with self.sessions() as s, s.begin():
            purged = await _delete_sessions(s, AgentSession.expires_at <= self.clock())
        if purged:
            await self._audit("gateway", "desk.sessions.purged", {"count": purged})
        return purged
