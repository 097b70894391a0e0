"""Canned replies kept on the desk (table ``desk_canned_replies``, migration 0019): supervisors add,
edit and retire them; every save is checked by exactly the file's rules (``canned.parse_reply``:
known placeholders, both languages, at most MAX_TEXT, nothing the compliance guard would stop),
audited with the before and after, and told to the desks (a ``canned_changed`` desk event).

The packaged canned_replies.yaml (or GATEWAY_CANNED_REPLIES) is the shipped default set: at
start-up each of its replies whose id the table does not hold yet is added (version 1); a row
already there is never overwritten by the file, so a supervisor's edit or retirement stands
across restarts and a release can still ship a new default reply. A row is never deleted.

Optimistic concurrency: each row has a ``version``; an edit or a retirement names the version
it was made on, and a save on an older one is refused (Conflict) instead of overwriting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .canned import CannedError, CannedReplies, CannedReply, parse_reply
from .compliance import Rules
from .conversations import AgentIdentity, AuditSink, Conflict, Forbidden
from .db import CannedReplyRow
from .hub import Hub


class CannedNotFound(LookupError):
    """No canned reply with this id."""


def _reply(row: CannedReplyRow) -> CannedReply:
    return CannedReply(row.id, dict(row.title), dict(row.text))


def row_dict(row: CannedReplyRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": dict(row.title),
        "text": dict(row.text),
        "retired": row.retired,
        "version": row.version,
        "updated_at": row.updated_at.isoformat(),
        "updated_by": row.updated_by,
    }


def _storable(data: Any) -> None:
    """Titles and texts the database can hold: no NUL, no lone surrogate (CannedError names it)."""
    if not isinstance(data, dict):
        return
    for part in ("title", "text"):
        values = data.get(part)
        for lang, value in values.items() if isinstance(values, dict) else ():
            if not isinstance(value, str):
                continue
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise CannedError(f"{part}.{lang}", "contains characters that are not text") from None
            if "\x00" in value:
                raise CannedError(f"{part}.{lang}", "contains characters that are not text")


def _version(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < 2**31:
        raise CannedError("version", "must be the reply's version (a whole number) as it was read")
    return value


class CannedStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        guard: Rules | None,
        audit: AuditSink,
        hub: Hub,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.guard = guard
        self.audit = audit
        self.hub = hub
        self.clock = clock

    async def seed(self, defaults: CannedReplies) -> int:
        """Add the default replies whose ids the table lacks (after the ones it has); how many.
        Two gateways starting at once may both try: the second one's insert is dropped."""
        async with self.sessions() as s:
            held = set((await s.execute(select(CannedReplyRow.id))).scalars())
            last = (await s.execute(select(func.max(CannedReplyRow.position)))).scalar() or 0
        missing = [r for r in defaults.replies if r.id not in held]
        if not missing:
            return 0
        now = self.clock()
        try:
            async with self.sessions() as s, s.begin():
                for offset, reply in enumerate(missing, start=1):
                    s.add(
                        CannedReplyRow(
                            id=reply.id,
                            position=last + offset,
                            title=dict(reply.title),
                            text=dict(reply.text),
                            retired=False,
                            version=1,
                            updated_at=now,
                            updated_by=None,
                        )
                    )
        except IntegrityError:  # another gateway seeded them at the same moment
            return 0
        return len(missing)

    async def active(self) -> CannedReplies:
        """The replies agents are offered now, in the desk's order (read each time: a save on
        another gateway process shows at the next read)."""
        async with self.sessions() as s:
            rows = await s.execute(
                select(CannedReplyRow)
                .where(CannedReplyRow.retired.is_(False))
                .order_by(CannedReplyRow.position, CannedReplyRow.id)
            )
            return CannedReplies(tuple(_reply(r) for r in rows.scalars()))

    async def listing(self, supervisor: AgentIdentity) -> list[dict[str, Any]]:
        """Every reply, retired ones included, with its version (supervisors only)."""
        self._supervisor(supervisor)
        async with self.sessions() as s:
            rows = await s.execute(select(CannedReplyRow).order_by(CannedReplyRow.position, CannedReplyRow.id))
            return [row_dict(r) for r in rows.scalars()]

    @staticmethod
    def _supervisor(agent: AgentIdentity) -> None:
        if not agent.is_supervisor:
            raise Forbidden("only a supervisor edits the canned replies")

    async def add(self, supervisor: AgentIdentity, data: Any) -> dict[str, Any]:
        """A new reply ``{"id", "title": {zh, en}, "text": {zh, en}}`` at the end of the list."""
        self._supervisor(supervisor)
        _storable(data)
        reply = parse_reply(data, "", self.guard)
        now = self.clock()
        try:
            async with self.sessions() as s, s.begin():
                if await s.get(CannedReplyRow, reply.id) is not None:
                    raise CannedError("id", f"{reply.id!r} is used already (a retired reply keeps its id)")
                last = (await s.execute(select(func.max(CannedReplyRow.position)))).scalar() or 0
                row = CannedReplyRow(
                    id=reply.id,
                    position=last + 1,
                    title=dict(reply.title),
                    text=dict(reply.text),
                    retired=False,
                    version=1,
                    updated_at=now,
                    updated_by=supervisor.username,
                )
                s.add(row)
        except IntegrityError:  # added by another supervisor at the same moment
            raise CannedError("id", f"{reply.id!r} is used already") from None
        after = row_dict(row)
        await self._saved(supervisor, "desk.canned_reply.added", reply.id, None, after)
        return after

    async def edit(self, supervisor: AgentIdentity, reply_id: str, data: Any) -> dict[str, Any]:
        """New titles and texts for a reply: ``{"version", "title": {zh, en}, "text": {zh, en}}``."""
        self._supervisor(supervisor)
        if not isinstance(data, dict):
            raise CannedError("reply", "must be an object with version, title and text")
        version = _version(data.get("version"))
        _storable(data)
        reply = parse_reply({"id": reply_id, **{k: v for k, v in data.items() if k != "version"}}, "", self.guard)
        return await self._update(
            supervisor, reply_id, version, "desk.canned_reply.edited", title=dict(reply.title), text=dict(reply.text)
        )

    async def retire(self, supervisor: AgentIdentity, reply_id: str, data: Any) -> dict[str, Any]:
        """Agents are no longer offered the reply (``{"version"}``); the row stays, for the audit."""
        self._supervisor(supervisor)
        version = _version(data.get("version") if isinstance(data, dict) else None)
        return await self._update(supervisor, reply_id, version, "desk.canned_reply.retired", retired=True)

    async def _update(
        self, supervisor: AgentIdentity, reply_id: str, version: int, action: str, **values: Any
    ) -> dict[str, Any]:
        async with self.sessions() as s, s.begin():
            row = await s.get(CannedReplyRow, reply_id)
            if row is None:
                raise CannedNotFound(reply_id)
            before = row_dict(row)
            if row.retired:
                raise Conflict(f"canned reply {reply_id!r} is retired")
            changed = await s.execute(
                update(CannedReplyRow)
                .where(CannedReplyRow.id == reply_id, CannedReplyRow.version == version)
                .values(version=version + 1, updated_at=self.clock(), updated_by=supervisor.username, **values)
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(
                    f"canned reply {reply_id!r} was changed by {row.updated_by or 'the file'} since version "
                    f"{version} (now {row.version}): reload it and make your change again"
                )
            await s.refresh(row)
            after = row_dict(row)
        await self._saved(supervisor, action, reply_id, before, after)
        return after

    async def _saved(
        self, supervisor: AgentIdentity, action: str, reply_id: str, before: dict | None, after: dict
    ) -> None:
        """Audit the save (who, what, before and after) and tell every desk to reload its replies."""
        await self.audit.record(
            f"agent:{supervisor.username}",
            action,
            "",
            {"canned_id": reply_id, "before": before, "after": after},
        )
        self.hub.publish("desk", {"type": "canned_changed", "canned_id": reply_id, "version": after["version"]})
