"""The contact planner's read of the portfolio and the contact history's writes.

Reads are set-based: a handful of statements for the whole portfolio (borrowers with their
preferences, the loans that can have a reminder due, arrangements with their instalments,
promises, offers, open disputes, recent contacts), each returning plain tuples, never one
statement per loan; the loans' instalments and payments are read in batches of ids. The contact
history is written by idempotency key: recording a planned contact twice keeps one row, and a
delivered contact stays delivered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from . import models as m

PENDING = ("planned", "attempted")
RECORD_PLANNED_LOCK = 0x4858_0011  # PostgreSQL advisory lock serialising record_planned


async def borrowers(conn: AsyncConnection, loan_ids: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
    """(id, timezone, language, stop_all or None, opted_out_channels or None) of every borrower
    (or only those of the loans ``loan_ids``)."""
    query = select(
        m.Borrower.id,
        m.Borrower.timezone,
        m.Borrower.language,
        m.ContactPreference.stop_all,
        m.ContactPreference.opted_out_channels,
    ).outerjoin(m.ContactPreference, m.ContactPreference.borrower_id == m.Borrower.id)
    if loan_ids is not None:
        query = query.where(m.Borrower.id.in_(select(m.Loan.borrower_id).where(m.Loan.id.in_(list(loan_ids)))))
    return [tuple(r) for r in await conn.execute(query)]


async def all_loan_ids(conn: AsyncConnection) -> set[str]:
    return set((await conn.execute(select(m.Loan.id))).scalars())


async def loans_due_on(conn: AsyncConnection, days: Sequence[date]) -> set[str]:
    """Ids of the loans with a contractual instalment due on one of ``days`` (one scan)."""
    if not days:
        return set()
    rows = await conn.execute(select(m.Instalment.loan_id).where(m.Instalment.due_date.in_(list(days))).distinct())
    return set(rows.scalars())


# PostgreSQL: the loans with their instalments and payments, one statement per batch of ids,
# each loan's records as one text (fields joined by ",", records by ";", money as its exact
# numeric text) split here: building JSON costs PostgreSQL twice the time of string_agg, and
# str.split is the cheapest parse there is. No field can hold a separator: numbers, ISO dates,
# numerics; payment references are not read (the plan does not need them).
_PG_LOANS = """
SELECT l.id, l.loan_number, l.borrower_id, l.principal::text, l.apr::text, l.term, l.disbursed_on,
  (SELECT string_agg(concat_ws(',', i.number, i.due_date, i.principal, i.interest, i.amount), ';' ORDER BY i.number)
     FROM instalments i WHERE i.loan_id = l.id),
  (SELECT string_agg(concat_ws(',', p.amount, p.received_on), ';' ORDER BY p.received_on, p.created_at, p.id)
     FROM payments p WHERE p.loan_id = l.id)
FROM loans l WHERE l.id = ANY($1::varchar[])
"""


async def loans_with_records(conn: AsyncConnection, ids: Iterable[str], batch: int = 5000) -> list[tuple[Any, ...]]:
    """(id, loan_number, borrower_id, principal, apr, term, disbursed_on, [(number, due_date,
    principal, interest, amount)], [(reference, amount, received_on)]) of the loans ``ids``, in
    batches of ``batch`` ids. On PostgreSQL the payment references are not read ("" instead)."""
    wanted = sorted(ids)
    out: list[tuple[Any, ...]] = []
    if conn.dialect.name != "postgresql":
        for start in range(0, len(wanted), batch):
            chunk = wanted[start : start + batch]
            by_loan = await instalments(conn, chunk)
            paid = await payments(conn, chunk)
            out.extend((*row, by_loan.get(row[0], []), paid.get(row[0], [])) for row in await loans(conn, chunk))
        return out
    raw: Any = (await conn.get_raw_connection()).driver_connection
    D, iso = Decimal, date.fromisoformat
    # Loans of one product share most instalment and payment records (same amounts, same
    # dates): each distinct record text is parsed once and its tuple shared.
    seen_inst: dict[str, tuple[Any, ...]] = {}
    seen_pay: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(wanted), batch):
        for lid, number, bid, principal, apr, term, disbursed, inst_text, pay_text in await raw.fetch(
            _PG_LOANS, wanted[start : start + batch]
        ):
            insts = []
            for record in inst_text.split(";") if inst_text else ():
                parsed = seen_inst.get(record)
                if parsed is None:
                    n, d, p, i, a = record.split(",")
                    parsed = seen_inst[record] = (int(n), iso(d), D(p), D(i), D(a))
                insts.append(parsed)
            pays = []
            for record in pay_text.split(";") if pay_text else ():
                parsed = seen_pay.get(record)
                if parsed is None:
                    a, on = record.split(",")
                    parsed = seen_pay[record] = ("", D(a), iso(on))
                pays.append(parsed)
            out.append((lid, number, bid, D(principal), D(apr), term, disbursed, insts, pays))
    return out


async def loans(conn: AsyncConnection, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """(id, loan_number, borrower_id, principal, apr, term, disbursed_on) of the loans ``ids``."""
    rows = await conn.execute(
        select(
            m.Loan.id,
            m.Loan.loan_number,
            m.Loan.borrower_id,
            m.Loan.principal,
            m.Loan.apr,
            m.Loan.term,
            m.Loan.disbursed_on,
        ).where(m.Loan.id.in_(list(ids)))
    )
    return [tuple(r) for r in rows]


async def instalments(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """loan id -> [(number, due_date, principal, interest, amount)] in number order."""
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in await conn.execute(
        select(
            m.Instalment.loan_id,
            m.Instalment.number,
            m.Instalment.due_date,
            m.Instalment.principal,
            m.Instalment.interest,
            m.Instalment.amount,
        )
        .where(m.Instalment.loan_id.in_(list(ids)))
        .order_by(m.Instalment.loan_id, m.Instalment.number)
    ):
        out[r[0]].append((r[1], r[2], r[3], r[4], r[5]))
    return out


async def payments(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """loan id -> [(external_ref, amount, received_on)] in the order they were received."""
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in await conn.execute(
        select(m.Payment.loan_id, m.Payment.external_ref, m.Payment.amount, m.Payment.received_on)
        .where(m.Payment.loan_id.in_(list(ids)))
        .order_by(m.Payment.loan_id, m.Payment.received_on, m.Payment.created_at, m.Payment.id)
    ):
        out[r[0]].append((r[1], r[2], r[3]))
    return out


async def promises(
    conn: AsyncConnection, since: date, loan_ids: Sequence[str] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """loan id -> [(amount, made_on, promised_date, replaced_on)] of promises dated from ``since``
    (of the loans ``loan_ids``, or of every loan)."""
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    query = select(
        m.Promise.loan_id, m.Promise.amount, m.Promise.made_on, m.Promise.promised_date, m.Promise.replaced_on
    ).where(m.Promise.promised_date >= since)
    if loan_ids is not None:
        query = query.where(m.Promise.loan_id.in_(list(loan_ids)))
    for r in await conn.execute(query):
        out[r[0]].append(tuple(r[1:]))
    return out


async def open_offers(
    conn: AsyncConnection, now: datetime, loan_ids: Sequence[str] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """loan id -> [(offer id, expires_at)] of offers not superseded, not accepted, not expired at
    ``now`` (of the loans ``loan_ids``, or of every loan)."""
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    accepted = select(m.Arrangement.offer_id).where(m.Arrangement.offer_id.is_not(None))
    query = select(m.Offer.loan_id, m.Offer.id, m.Offer.expires_at).where(
        m.Offer.superseded_at.is_(None), m.Offer.expires_at > now, m.Offer.id.not_in(accepted)
    )
    if loan_ids is not None:
        query = query.where(m.Offer.loan_id.in_(list(loan_ids)))
    for r in await conn.execute(query):
        out[r[0]].append((r[1], r[2]))
    return out


async def loans_with_open_dispute(conn: AsyncConnection, loan_ids: Sequence[str] | None = None) -> set[str]:
    query = select(m.Dispute.loan_id).where(m.Dispute.status == "open")
    if loan_ids is not None:
        query = query.where(m.Dispute.loan_id.in_(list(loan_ids)))
    return set((await conn.execute(query)).scalars())


async def recent_contacts(
    conn: AsyncConnection, since: datetime, *, delivered_only: bool = False, loan_ids: Sequence[str] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """loan id -> [(idempotency_key, channel, at, status)] of delivered contacts (at = delivery)
    and pending ones (at = send_after) from ``since``; failed contacts count against nothing.
    ``delivered_only``: the pending ones are left out too (the dispatcher's check at send time).
    ``loan_ids``: of these loans only."""
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    h = m.ContactRecord
    counted = (h.status == "delivered") & (h.delivered_at >= since)
    if not delivered_only:
        counted = counted | (h.status.in_(PENDING) & (h.send_after >= since))
    query = select(h.loan_id, h.idempotency_key, h.channel, h.status, h.delivered_at, h.send_after).where(counted)
    if loan_ids is not None:
        query = query.where(h.loan_id.in_(list(loan_ids)))
    for r in await conn.execute(query):
        delivered = r[3] == "delivered"
        out[r[0]].append((r[1], r[2], r[4] if delivered else r[5], "delivered" if delivered else "pending"))
    return out


async def record_planned(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert planned contacts; a key already recorded is left as it is. Returns the rows inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = m.ContactRecord.__table__
    assert isinstance(table, Table)
    inserted = 0
    wanted = list(rows)
    if dialect == "postgresql":
        # Several workers may record the same day's plan at once: one at a time (until this
        # transaction ends), so their inserts of the same keys never wait on each other crosswise.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RECORD_PLANNED_LOCK})
    # PostgreSQL takes at most 32,767 parameters a statement (14 a row): chunks of 1,000 rows.
    for start in range(0, len(wanted), 1000):
        result = await session.execute(
            insert(table)
            .values(wanted[start : start + 1000])
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        inserted += int(getattr(result, "rowcount", 0) or 0)
    return inserted


async def contacts_by_key(session: AsyncSession, keys: Iterable[str]) -> list[m.ContactRecord]:
    return list(
        (
            await session.execute(select(m.ContactRecord).where(m.ContactRecord.idempotency_key.in_(list(keys))))
        ).scalars()
    )


async def mark_attempted(session: AsyncSession, key: str, at: datetime) -> bool:
    """Count an attempt of a contact not delivered yet; False when it is delivered (or unknown)."""
    h = m.ContactRecord
    result = await session.execute(
        update(h)
        .where(and_(h.idempotency_key == key, h.status != "delivered"))
        .values(status="attempted", attempts=h.attempts + 1, last_attempt_at=at, updated_at=at)
    )
    return bool(getattr(result, "rowcount", 0))


async def mark_delivered(session: AsyncSession, key: str, at: datetime) -> bool:
    """Mark delivered once: False when it already was (a duplicate delivery report) or is unknown."""
    h = m.ContactRecord
    result = await session.execute(
        update(h)
        .where(and_(h.idempotency_key == key, h.status != "delivered"))
        .values(status="delivered", delivered_at=at, failure=None, updated_at=at)
    )
    return bool(getattr(result, "rowcount", 0))


async def mark_failed(session: AsyncSession, key: str, at: datetime, failure: str) -> bool:
    h = m.ContactRecord
    result = await session.execute(
        update(h)
        .where(and_(h.idempotency_key == key, h.status != "delivered"))
        .values(status="failed", failure=failure[:500], updated_at=at)
    )
    return bool(getattr(result, "rowcount", 0))


async def loan_ids_by_number(conn: AsyncConnection, numbers: Iterable[str]) -> dict[str, str]:
    wanted = list(set(numbers))
    if not wanted:
        return {}
    rows = await conn.execute(select(m.Loan.loan_number, m.Loan.id).where(m.Loan.loan_number.in_(wanted)))
    return {number: lid for number, lid in rows}


async def due_contacts(
    session: AsyncSession, now: datetime, *, after_id: int = 0, limit: int = 500
) -> list[tuple[Any, ...]]:
    """The queue: contacts not delivered whose send interval holds ``now``, in id order after
    ``after_id``: (id, idempotency_key, borrower_id, loan_id, loan_number, channel, status,
    attempts, send_after, send_before, last_attempt_at, failure)."""
    h = m.ContactRecord
    rows = await session.execute(
        select(
            h.id,
            h.idempotency_key,
            h.borrower_id,
            h.loan_id,
            m.Loan.loan_number,
            h.channel,
            h.status,
            h.attempts,
            h.send_after,
            h.send_before,
            h.last_attempt_at,
            h.failure,
        )
        .join(m.Loan, m.Loan.id == h.loan_id)
        .where(h.status != "delivered", h.send_after <= now, h.send_before > now, h.id > after_id)
        .order_by(h.id)
        .limit(limit)
    )
    return [tuple(r) for r in rows]


async def mark_attempted_many(session: AsyncSession, keys: Sequence[str], at: datetime) -> int:
    """``mark_attempted`` for many keys in one statement; returns the rows counted."""
    if not keys:
        return 0
    h = m.ContactRecord
    result = await session.execute(
        update(h)
        .where(and_(h.idempotency_key.in_(list(keys)), h.status != "delivered"))
        .values(status="attempted", attempts=h.attempts + 1, last_attempt_at=at, updated_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_delivered_many(session: AsyncSession, keys: Sequence[str], at: datetime) -> set[str]:
    """``mark_delivered`` for many keys; returns the keys this call delivered (not those already delivered)."""
    if not keys:
        return set()
    h = m.ContactRecord
    wanted = list(keys)
    fresh = set(
        (
            await session.execute(
                select(h.idempotency_key).where(h.idempotency_key.in_(wanted), h.status != "delivered")
            )
        ).scalars()
    )
    if fresh:
        await session.execute(
            update(h)
            .where(and_(h.idempotency_key.in_(list(fresh)), h.status != "delivered"))
            .values(status="delivered", delivered_at=at, failure=None, updated_at=at)
        )
    return fresh


async def delivered_to_borrower(session: AsyncSession, borrower_id: str, since: datetime) -> list[tuple[Any, ...]]:
    """(loan_number, reason, channel, subject, delivered_at, id) of the reminders delivered to
    the borrower from ``since``, newest first."""
    h = m.ContactRecord
    rows = await session.execute(
        select(m.Loan.loan_number, h.reason, h.channel, h.subject, h.delivered_at, h.id)
        .join(m.Loan, m.Loan.id == h.loan_id)
        .where(h.borrower_id == borrower_id, h.status == "delivered", h.delivered_at >= since)
        .order_by(h.delivered_at.desc(), h.id.desc())
    )
    return [tuple(r) for r in rows]


_QUEUE_COLUMNS = (
    m.ContactRecord.id,
    m.ContactRecord.idempotency_key,
    m.ContactRecord.borrower_id,
    m.ContactRecord.loan_id,
    m.Loan.loan_number,
    m.ContactRecord.channel,
    m.ContactRecord.status,
    m.ContactRecord.attempts,
    m.ContactRecord.send_after,
    m.ContactRecord.send_before,
    m.ContactRecord.last_attempt_at,
    m.ContactRecord.failure,
)


async def claim_due(
    session: AsyncSession,
    now: datetime,
    *,
    owner: str,
    leased_at: datetime,
    lease_until: datetime,
    after_id: int = 0,
    limit: int = 500,
) -> list[tuple[Any, ...]]:
    """Claim for ``owner`` up to ``limit`` queued contacts (as ``due_contacts``, after
    ``after_id``) that no other worker holds: unleased, or whose lease ended by ``leased_at``.
    Each claimed row is leased to ``owner`` until ``lease_until``. On PostgreSQL the candidates
    are locked with FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows without
    waiting for each other; the lease is set by a conditional UPDATE, so a row is claimed by one
    worker on any engine. Commit the session to publish the claim. ``owner`` must be unique per
    claim (the rows returned are exactly those leased to it)."""
    h = m.ContactRecord
    free = or_(h.lease_until.is_(None), h.lease_until <= leased_at)
    candidates = (
        select(h.id)
        .where(h.status != "delivered", h.send_after <= now, h.send_before > now, h.id > after_id, free)
        .order_by(h.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(candidates)).scalars())
    if not ids:
        return []
    await session.execute(
        update(h)
        .where(h.id.in_(ids), h.status != "delivered", free)
        .values(lease_owner=owner, lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(
        select(*_QUEUE_COLUMNS)
        .join(m.Loan, m.Loan.id == h.loan_id)
        .where(h.id.in_(ids), h.lease_owner == owner)
        .order_by(h.id)
    )
    return [tuple(r) for r in rows]


async def release_leases(session: AsyncSession, owner: str) -> int:
    """End ``owner``'s lease on the rows it still holds (its batch is done, or it stops cleanly)."""
    h = m.ContactRecord
    result = await session.execute(
        update(h)
        .where(h.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def bound_channels(conn: AsyncConnection, borrower_ids: Sequence[str] | None = None) -> dict[str, set[str]]:
    """borrower id -> the chat channels they bound (``ledger bind-channel``)."""
    query = select(m.BorrowerChannel.borrower_id, m.BorrowerChannel.channel)
    if borrower_ids is not None:
        query = query.where(m.BorrowerChannel.borrower_id.in_(list(borrower_ids)))
    out: dict[str, set[str]] = defaultdict(set)
    for bid, channel in await conn.execute(query):
        out[bid].add(channel)
    return out


async def channel_addresses(session: AsyncSession, channel: str, borrower_ids: Iterable[str]) -> dict[str, str]:
    """borrower id -> their address on ``channel`` (openid, chat id), for the borrowers that bound it."""
    wanted = list(set(borrower_ids))
    if not wanted:
        return {}
    c = m.BorrowerChannel
    rows = await session.execute(
        select(c.borrower_id, c.address).where(c.channel == channel, c.borrower_id.in_(wanted))
    )
    return {bid: address for bid, address in rows}


async def borrowers_bound_to(session: AsyncSession, channel: str, address: str) -> list[str]:
    """The borrowers who bound ``address`` on ``channel`` (a reply from that chat is theirs)."""
    c = m.BorrowerChannel
    rows = await session.execute(select(c.borrower_id).where(c.channel == channel, c.address == address))
    return sorted(rows.scalars())


async def bind_channel(session: AsyncSession, borrower_id: str, channel: str, address: str, at: datetime) -> bool:
    """Bind (or re-bind) ``channel`` to ``address`` for the borrower; False when the borrower is unknown."""
    if await session.get(m.Borrower, borrower_id) is None:
        return False
    row = await session.get(m.BorrowerChannel, (borrower_id, channel))
    if row is None:
        session.add(m.BorrowerChannel(borrower_id=borrower_id, channel=channel, address=address, bound_at=at))
    else:
        row.address, row.bound_at = address, at
    return True


async def unbind_channel(session: AsyncSession, borrower_id: str, channel: str) -> bool:
    """Remove the binding; False when there was none."""
    row = await session.get(m.BorrowerChannel, (borrower_id, channel))
    if row is None:
        return False
    await session.delete(row)
    return True
