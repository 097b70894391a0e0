"""Reads of the supervisors' outbound page: the contact history of a period and what followed
on those loans (payments, promises, accepted plans)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import models as m


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def contacts_since(session: AsyncSession, since: datetime) -> list[tuple[Any, ...]]:
    """(id, loan_id, reason, channel, status, attempts, delivered_at) of the contacts planned from ``since``."""
    h = m.ContactRecord
    rows = await session.execute(
        select(h.id, h.loan_id, h.reason, h.channel, h.status, h.attempts, h.delivered_at)
        .where(h.created_at >= since)
        .order_by(h.id)
    )
    return [(*r[:6], None if r[6] is None else _aware(r[6])) for r in rows]


async def follow_ups(
    session: AsyncSession, loan_ids: Iterable[str], since: datetime
) -> dict[str, list[tuple[str, datetime]]]:
    """loan id -> (kind, when) of the payments (received day, at midnight UTC), promises and
    accepted plans on those loans from ``since``."""
    ids = list(set(loan_ids))
    found: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    if not ids:
        return found
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for loan_id, day in await session.execute(
            select(m.Payment.loan_id, m.Payment.received_on).where(
                m.Payment.loan_id.in_(chunk), m.Payment.received_on >= since.date()
            )
        ):
            found[loan_id].append(("payment", _day_end(day)))
        for loan_id, at in await session.execute(
            select(m.Promise.loan_id, m.Promise.created_at).where(
                m.Promise.loan_id.in_(chunk), m.Promise.created_at >= since
            )
        ):
            found[loan_id].append(("promise", _aware(at)))
        for loan_id, at in await session.execute(
            select(m.Arrangement.loan_id, m.Arrangement.accepted_at).where(
                m.Arrangement.loan_id.in_(chunk), m.Arrangement.accepted_at >= since
            )
        ):
            found[loan_id].append(("plan", _aware(at)))
    return found


def _day_end(day: date) -> datetime:
    """A payment is known by its day only: it counts as made at the day's last moment (UTC), so
    a payment received on the day a reminder went out counts as following it."""
    return datetime.combine(day, time(23, 59, 59), UTC)
