"""The statements of the overdue-status read on PostgreSQL, sent through the pool's asyncpg
connection itself (services/status_pg.py says why): one statement reads the token, the loan
and every record of the loan; loans with arrangements add two reads; one atomic statement
writes the audit entry (with the token's sliding expiry when due). Rows come back as objects
with the attribute names of the matching ORM models, so the services treat both paths alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace as Row
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

# One statement reads the token, the loan (only if it is the token's borrower's) and every
# record of the loan. Money travels as text inside the JSON (exact), dates as ISO text.
_READ = """
WITH h AS (
  SELECT vs.id AS session_id, vs.borrower_id, vs.conversation_id, vs.last_used_at, vs.expires_at,
         l.id, l.loan_number, l.product, l.principal, l.apr, l.term, l.disbursed_on, l.currency
  FROM verification_sessions vs
  LEFT JOIN loans l ON l.borrower_id = vs.borrower_id AND l.loan_number = $2
  WHERE vs.token_hash = $1
)
SELECT h.*,
  (SELECT json_agg(json_build_array(i.number, i.due_date, i.amount::text, i.principal::text, i.interest::text)
                   ORDER BY i.number)
     FROM instalments i WHERE i.loan_id = h.id) AS instalments,
  (SELECT json_agg(json_build_array(p.external_ref, p.amount::text, p.received_on)
                   ORDER BY p.received_on, p.created_at, p.id)
     FROM payments p WHERE p.loan_id = h.id) AS payments,
  (SELECT json_agg(json_build_array(r.id, r.amount::text, r.promised_date, r.made_on, r.replaces_id, r.replaced_on)
                   ORDER BY r.created_at, r.id)
     FROM promises r WHERE r.loan_id = h.id) AS promises,
  (SELECT json_build_array(d.case_number, d.reply_due_by) FROM disputes d
     WHERE d.loan_id = h.id AND d.status = 'open' ORDER BY d.created_at LIMIT 1) AS dispute,
  EXISTS (SELECT 1 FROM arrangements a WHERE a.loan_id = h.id) AS has_arrangements
FROM h
"""
_ARRANGEMENTS = """
SELECT id, offer_id, evaluation_id, plan_type, accepted_at, accepted_on, replaces::text AS replaces, payment_frequency,
       total_to_repay, waived_late_fees, waived_penalty_interest, waived_interest, holiday_months
FROM arrangements WHERE loan_id = $1 ORDER BY accepted_at, id
"""
_ARRANGEMENT_INSTALMENTS = """
SELECT arrangement_id, number, due_date, amount, principal, interest, penalty_interest, late_fees
FROM arrangement_instalments WHERE arrangement_id = ANY($1::varchar[]) ORDER BY arrangement_id, number
"""
_AUDIT = "INSERT INTO audit_log (at, actor, action, borrower_id, loan_id, detail) VALUES ($1, $2, $3, $4, $5, $6::json)"
# The token's sliding expiry and the audit entry in one atomic statement (no BEGIN/COMMIT round trips).
_TOUCH_AND_AUDIT = (
    "WITH touch AS (UPDATE verification_sessions SET last_used_at = $7, expires_at = $8 WHERE id = $9) " + _AUDIT
)


def _json(value: Any) -> Any:
    """A json column: the pool's connections may decode it already (SQLAlchemy registers a codec)."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _row(record: Any, **extra: Any) -> Row:
    """A row as an object with the attribute names of the matching ORM model."""
    return Row(**dict(record.items()), **extra)


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """One pooled connection's asyncpg connection (taken through the pool, so pool_pre_ping
    covers it). No transaction: under READ COMMITTED every statement sees its own snapshot
    either way, and the only write is one atomic statement."""
    async with engine.connect() as sa_conn:
        yield (await sa_conn.get_raw_connection()).driver_connection


async def token_loan_and_records(conn: Any, token_hash: str, loan_number: str) -> Row | None:
    """None for an unknown token; else the token's verification session (session_id,
    borrower_id, conversation_id, last_used_at, expires_at), ``loan`` (None unless the token's
    borrower has that loan) and the loan's instalments, payments, promises, open dispute and
    whether it has arrangements (read them with arrangements_of_loan)."""
    head = await conn.fetchrow(_READ, token_hash, loan_number)
    if head is None:
        return None
    loan = None
    if head["id"] is not None:
        loan = Row(
            id=head["id"],
            loan_number=head["loan_number"],
            borrower_id=head["borrower_id"],
            product=head["product"],
            principal=head["principal"],
            apr=head["apr"],
            term=head["term"],
            disbursed_on=head["disbursed_on"],
            currency=head["currency"],
        )
    D, iso = Decimal, date.fromisoformat
    dispute = None
    if head["dispute"] is not None:
        case_number, reply_due_by = _json(head["dispute"])
        dispute = Row(case_number=case_number, reply_due_by=iso(reply_due_by))
    return Row(
        session_id=head["session_id"],
        borrower_id=head["borrower_id"],
        conversation_id=head["conversation_id"],
        last_used_at=head["last_used_at"],
        expires_at=head["expires_at"],
        loan=loan,
        instalments=[
            Row(number=n, due_date=iso(due), amount=D(a), principal=D(p), interest=D(i))
            for n, due, a, p, i in _json(head["instalments"]) or ()
        ],
        payments=[
            Row(external_ref=ref, amount=D(a), received_on=iso(on)) for ref, a, on in _json(head["payments"]) or ()
        ],
        promises=[
            Row(
                id=pid,
                loan_id=head["id"],
                amount=D(a),
                promised_date=iso(pd),
                made_on=iso(made),
                replaces_id=replaces,
                replaced_on=iso(replaced) if replaced else None,
            )
            for pid, a, pd, made, replaces, replaced in _json(head["promises"]) or ()
        ],
        dispute=dispute,
        has_arrangements=head["has_arrangements"],
    )


async def arrangements_of_loan(conn: Any, loan_id: str) -> list[Row]:
    """The loan's arrangements with their instalments, in the order of repositories.arrangements_of_loan."""
    arrangement_rows = await conn.fetch(_ARRANGEMENTS, loan_id)
    by_arrangement: dict[str, list[Row]] = {r["id"]: [] for r in arrangement_rows}
    for r in await conn.fetch(_ARRANGEMENT_INSTALMENTS, list(by_arrangement)):
        by_arrangement[r["arrangement_id"]].append(_row(r))
    arrangements = []
    for r in arrangement_rows:
        fields = dict(r.items())
        fields["replaces"] = json.loads(fields["replaces"])
        arrangements.append(Row(loan_id=loan_id, instalments=by_arrangement[r["id"]], **fields))
    return arrangements


async def add_audit(
    conn: Any,
    *,
    at: datetime,
    actor: str,
    action: str,
    borrower_id: str,
    loan_id: str,
    detail: dict[str, Any],
    touch: tuple[str, datetime, datetime] | None = None,
) -> None:
    """The audit entry; with ``touch`` (session id, last used at, expires at), the token's
    sliding expiry in the same statement."""
    audit = (at, actor, action, borrower_id, loan_id, json.dumps(detail))
    if touch is None:
        await conn.execute(_AUDIT, *audit)
    else:
        session_id, last_used_at, expires_at = touch
        await conn.execute(_TOUCH_AND_AUDIT, *audit, last_used_at, expires_at, session_id)
