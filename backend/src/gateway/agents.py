"""Agent accounts and desk sessions: argon2 password hashes, expiring sessions, CSRF tokens.

The session cookie holds a random token; the database keeps only its sha256, the agent, a
per-session CSRF token and an absolute expiry. Every state-changing desk request must echo
the CSRF token in the ``X-CSRF-Token`` header (the cookie itself is HttpOnly and
SameSite=Strict).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conversations import AgentIdentity, hash_token, plausible_id, utcnow
from .db import ROLES, Agent, AgentSession

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AgentError(Exception):
    """Invalid agent data (unknown role, short password, duplicate username)."""


def _identity(agent: Agent) -> AgentIdentity:
    return AgentIdentity(username=agent.username, role=agent.role, display_name=agent.display_name)


class DeskAuth:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_s: int,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock

    async def create_agent(self, username: str, password: str, role: str, display_name: str | None = None) -> AgentIdentity:
        if role not in ROLES:
            raise AgentError(f"role must be one of {ROLES}")
        if len(password) < 10:
            raise AgentError("password must have at least 10 characters")
        if not username or len(username) > 64 or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise AgentError("username: letters, digits, . _ - only (max 64)")
        async with self.sessions() as s, s.begin():
            existing = await s.get(Agent, username)
            if existing is not None:
                existing.password_hash = _hasher.hash(password)
                existing.role = role
                existing.display_name = display_name or existing.display_name
                existing.active = True
                return _identity(existing)
            agent = Agent(username=username, display_name=display_name or username, password_hash=_hasher.hash(password),
                          role=role, active=True, created_at=self.clock())
            s.add(agent)
            return _identity(agent)

    async def login(self, username: str, password: str) -> tuple[str, str, AgentIdentity] | None:
        """(cookie token, csrf token, identity) on success; None otherwise (same work either way)."""
        async with self.sessions() as s, s.begin():
            agent = await s.get(Agent, username) if plausible_id(username) else None
            try:
                _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password)
                ok = agent is not None and agent.active
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok:
                return None
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            now = self.clock()
            s.add(AgentSession(token_hash=hash_token(token), username=agent.username, csrf_token=csrf,
                               created_at=now, expires_at=now + self.ttl))
            if _hasher.check_needs_rehash(agent.password_hash):
                agent.password_hash = _hasher.hash(password)
            return token, csrf, _identity(agent)

    async def resolve(self, token: str | None) -> tuple[AgentIdentity, str] | None:
        """The identity and CSRF token of a live session; expired sessions are deleted."""
        if not token:
            return None
        async with self.sessions() as s, s.begin():
            row = (
                await s.execute(
                    select(AgentSession, Agent).join(Agent, Agent.username == AgentSession.username)
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
        async with self.sessions() as s, s.begin():
            result = await s.execute(delete(AgentSession).where(AgentSession.expires_at <= self.clock()))
            return result.rowcount or 0
