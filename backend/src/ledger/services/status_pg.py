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

import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from ..db import models as m
from ..db import status_queries as status_db
from ..db.session import Engine
from ..domain.errors import NotFound, VerificationRequired
from .context import Ledger, token_hash
from .records import LoanRecords, contract_of
from .verification import TOKEN_TOUCH_INTERVAL, Caller
from .views import disclosed_status


async def loan_status(
    ledger: Ledger,
    engine: Engine,
    *,
    token: str | None,
    conversation_id: str | None,
    loan_number: str,
    as_of: date | None,
    invalid_request: type[Exception],
) -> dict[str, Any]:
    if not token or not conversation_id:
        raise VerificationRequired("a verification token and a conversation id are required")
    now: datetime = ledger.now()
    async with status_db.driver_connection(engine) as conn:
        read = await status_db.token_loan_and_records(conn, token_hash(token), loan_number)
        if (
            read is None
            or read.expires_at <= now
            or not secrets.compare_digest(read.conversation_id.encode(), conversation_id.encode())
        ):
            raise VerificationRequired("the verification is missing, expired or bound to another conversation")
        touch = now - read.last_used_at >= TOKEN_TOUCH_INTERVAL
        caller = Caller(read.borrower_id, read.conversation_id)
        loan = read.loan
        if loan is None:
            raise NotFound("no such loan")
        day = as_of or ledger.today()
        if day < loan.disbursed_on:
            raise invalid_request(f"as_of must not be before the disbursement date {loan.disbursed_on}")
        arrangements = await status_db.arrangements_of_loan(conn, loan.id) if read.has_arrangements else []
        records = LoanRecords(
            loan=loan,
            contract=contract_of(loan, read.instalments),
            payments=read.payments,
            # the fast path's rows carry the ORM rows' attributes that LoanRecords reads
            arrangements=cast("Sequence[m.Arrangement]", arrangements),
            promises=read.promises,
            dispute=read.dispute,
        )
        view, disclosed = disclosed_status(records, day, ledger.policy, caller.conversation_id)
        sliding = None
        if touch:
            sliding = (read.session_id, now, now + timedelta(minutes=ledger.policy.verification.token_idle_minutes))
        await status_db.add_audit(
            conn,
            at=ledger.now(),
            actor=caller.actor,
            action="status_disclosed",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            touch=sliding,
            detail=disclosed,
        )
    return view
