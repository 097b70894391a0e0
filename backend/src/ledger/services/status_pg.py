"""The overdue-status read (a disclosure) on PostgreSQL through asyncpg directly.

Why: the status read is the hottest call (every conversation asks it, often several times).
Measured on the 2-core benchmark machine (bench/status_load.py), the ORM path cost ~6.8 ms of
server CPU per request: SQLAlchemy's async ORM spent ~0.4 ms of CPU per statement against
~0.05 ms on asyncpg, and every round trip over loopback TCP costs a socket write of its own;
the ORM path makes ten (BEGIN, token, loan, five record queries, audit insert, COMMIT). This
path makes two: one statement reading the token, the loan and all its records (JSON
aggregates), and one atomic statement writing the audit entry (and the token's sliding expiry
when due); loans with arrangements add two reads. Server CPU went to ~1.5 ms per request.

It does exactly what loans.loan_status does through the ORM: the same checks in the same
order (token, conversation, loan of the token's borrower, as_of), the same records in the
same order, the same audit entry, nothing written when a check fails. Under READ COMMITTED
each statement sees its own snapshot inside a transaction too, so dropping BEGIN/COMMIT
changes no answer. The API tests run the status endpoint on SQLite (the ORM path) and on
PostgreSQL (this path) and compare both with the pure domain.
"""
from __future__ import annotations

import json
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace as Row
from typing import Any

from ..domain.account import derive_status
from ..domain.errors import NotFound, VerificationRequired
from .context import Ledger, token_hash
from .records import LoanRecords, contract_of
from .verification import TOKEN_TOUCH_INTERVAL, Caller
from .views import status_view

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
  (SELECT json_agg(json_build_array(r.id, r.amount::text, r.promised_date, r.made_on) ORDER BY r.created_at, r.id)
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
_TOUCH_AND_AUDIT = ("WITH touch AS (UPDATE verification_sessions SET last_used_at = $7, expires_at = $8 WHERE id = $9) "
                    + _AUDIT)


def _json(value: Any) -> Any:
    """A json column: the pool's connections may decode it already (SQLAlchemy registers a codec)."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _row(record, **extra: Any) -> Row:
    """A row as an object with the attribute names of the matching ORM model."""
    return Row(**dict(record.items()), **extra)


async def loan_status(ledger: Ledger, engine, *, token: str | None, conversation_id: str | None, loan_number: str,
                      as_of: date | None, invalid_request: type[Exception]) -> dict[str, Any]:
    if not token or not conversation_id:
        raise VerificationRequired("a verification token and a conversation id are required")
    now: datetime = ledger.now()
    async with engine.connect() as sa_conn:
        # No transaction: under READ COMMITTED every statement sees its own snapshot either way;
        # the only write is one atomic statement (audit entry, with the token's expiry when due).
        conn = (await sa_conn.get_raw_connection()).driver_connection
        head = await conn.fetchrow(_READ, token_hash(token), loan_number)
        if (head is None or head["expires_at"] <= now
                or not secrets.compare_digest(head["conversation_id"].encode(), conversation_id.encode())):
            raise VerificationRequired("the verification is missing, expired or bound to another conversation")
        touch = now - head["last_used_at"] >= TOKEN_TOUCH_INTERVAL
        caller = Caller(head["borrower_id"], head["conversation_id"])
        if head["id"] is None:
            raise NotFound("no such loan")
        loan = Row(id=head["id"], loan_number=head["loan_number"], borrower_id=caller.borrower_id,
                   product=head["product"], principal=head["principal"], apr=head["apr"], term=head["term"],
                   disbursed_on=head["disbursed_on"], currency=head["currency"])
        day = as_of or ledger.today()
        if day < loan.disbursed_on:
            raise invalid_request(f"as_of must not be before the disbursement date {loan.disbursed_on}")
        D, iso = Decimal, date.fromisoformat
        instalments = [Row(number=n, due_date=iso(due), amount=D(a), principal=D(p), interest=D(i))
                       for n, due, a, p, i in _json(head["instalments"]) or ()]
        payments = [Row(external_ref=ref, amount=D(a), received_on=iso(on))
                    for ref, a, on in _json(head["payments"]) or ()]
        promises = [Row(id=pid, loan_id=loan.id, amount=D(a), promised_date=iso(pd), made_on=iso(made))
                    for pid, a, pd, made in _json(head["promises"]) or ()]
        dispute = None
        if head["dispute"] is not None:
            case_number, reply_due_by = _json(head["dispute"])
            dispute = Row(case_number=case_number, reply_due_by=iso(reply_due_by))
        arrangements = []
        if head["has_arrangements"]:
            arrangement_rows = await conn.fetch(_ARRANGEMENTS, loan.id)
            by_arrangement: dict[str, list[Row]] = {r["id"]: [] for r in arrangement_rows}
            for r in await conn.fetch(_ARRANGEMENT_INSTALMENTS, list(by_arrangement)):
                by_arrangement[r["arrangement_id"]].append(_row(r))
            for r in arrangement_rows:
                fields = dict(r.items())
                fields["replaces"] = json.loads(fields["replaces"])
                arrangements.append(Row(loan_id=loan.id, instalments=by_arrangement[r["id"]], **fields))
        records = LoanRecords(loan=loan, contract=contract_of(loan, instalments), payments=payments,
                              arrangements=arrangements, promises=promises, dispute=dispute)
        status = derive_status(records.contract, records.payment_records, records.arrangement_records, day,
                               ledger.policy)
        view = status_view(records, status, day)
        detail = json.dumps({"conversation_id": caller.conversation_id, "as_of": day.isoformat(),
                             "days_past_due": status.days_past_due, "overdue_total": view["overdue"]["total"]})
        audit = (ledger.now(), caller.actor, "status_disclosed", caller.borrower_id, loan.id, detail)
        if touch:
            expires = now + timedelta(minutes=ledger.policy.verification.token_idle_minutes)
            await conn.execute(_TOUCH_AND_AUDIT, *audit, now, expires, head["session_id"])
        else:
            await conn.execute(_AUDIT, *audit)
    return view

