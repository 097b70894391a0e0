"""Demo portfolio seeding (idempotent, re-based on today) and synthetic portfolios for load tests."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ..db import models as m
from ..db import repositories as repo
from ..db import seed_queries as seed_db
from ..db.session import Engine, Session, SessionFactory
from ..domain.account import ArrangementRecord, LoanContract, PaymentRecord
from ..domain.demo import DEMO_BORROWERS, DemoBorrower, DemoLoan, demo_loans
from ..domain.schedule import add_months, build_schedule
from .context import hash_national_id
from .records import arrangement_instalments, instalment_rows

DEMO_NATIONAL_ID_REGION = "110101"


def ordered_ids():
    """UUIDv7 ids (RFC 9562: 48-bit Unix milliseconds, version, variant) whose remaining bits
    are 42 random bits fixed for this run followed by a 32-bit counter, so they rise in
    insertion order. Bulk loading random uuid4 keys scatters every insert over the whole
    primary-key and foreign-key indexes; rising keys append at their right edge."""
    ms = int(time.time() * 1000) & ((1 << 48) - 1)
    run = random.SystemRandom().getrandbits(42)
    high = (ms << 80) | (0x7 << 76) | ((run >> 30) << 64) | (0b10 << 62) | ((run & ((1 << 30) - 1)) << 32)
    for counter in range(1 << 32):
        yield str(uuid.UUID(int=high | counter))


def demo_national_id(dob: date, last4: str) -> str:
    return f"{DEMO_NATIONAL_ID_REGION}{dob:%Y%m%d}{last4}"


async def seed_demo(sessions: SessionFactory, *, salt: str, today: date, tz: str = "Asia/Shanghai") -> dict[str, str]:
    """(Re)create the demo portfolio (domain/demo.py) relative to ``today``. Borrower ids are
    kept across re-seeds; loans and their records are replaced. Returns {key: borrower_id}."""
    now = datetime.now(UTC)
    ids: dict[str, str] = {}
    async with sessions() as session, session.begin():
        loans = demo_loans(today)
        for key, b in DEMO_BORROWERS.items():
            borrower = await seed_db.borrower_by_demo_key(session, key)
            if borrower is None:
                borrower = await repo.borrower_by_phone(session, b.phone)
            ids[key] = await _seed_borrower(
                session,
                b,
                borrower,
                phone=b.phone,
                demo_key=key,
                records=[(demo_loan, *loans[demo_loan.key]) for demo_loan in b.loans],
                salt=salt,
                today=today,
                tz=tz,
                now=now,
            )
        await repo.add_audit(
            session, at=now, actor="cli", action="demo_seeded", detail={"today": today.isoformat(), "borrowers": ids}
        )
    return ids


@dataclass(frozen=True)
class DemoCopy:
    """A fresh copy of a demo borrower: what differs from the original (identity answers
    otherwise the same)."""

    key: str
    borrower_id: str
    phone: str
    loan_numbers: tuple[str, ...]


async def seed_demo_copies(
    sessions: SessionFactory, keys: Sequence[str], *, salt: str, today: date, tz: str = "Asia/Shanghai"
) -> list[DemoCopy]:
    """A new copy of the demo borrower of each key, with the same loans as of ``today``, its own
    phone (139 and the copy's number) and its own loan numbers (HX9, the copy's number, the
    loan's index), so that a rehearsal or a conversation suite starts each borrower from the
    same state without sharing records. The re-seed of the demo portfolio leaves copies alone."""
    unknown = sorted(set(keys) - set(DEMO_BORROWERS))
    if unknown:
        raise ValueError(f"no demo borrower {', '.join(unknown)}: choose from {', '.join(DEMO_BORROWERS)}")
    now = datetime.now(UTC)
    copies: list[DemoCopy] = []
    async with sessions() as session, session.begin():
        first = await seed_db.count_demo_copies(session) + 1
        loans = demo_loans(today)
        for number, key in enumerate(keys, start=first):
            if number > MAX_DEMO_COPIES:
                raise ValueError(f"at most {MAX_DEMO_COPIES} demo copies fit the numbering")
            b = DEMO_BORROWERS[key]
            records = []
            for index, demo_loan in enumerate(b.loans, start=1):
                contract, payments, arrangements = loans[demo_loan.key]
                tag = f"C{number}"
                records.append(
                    (
                        demo_loan,
                        replace(contract, loan_number=f"HX9{number:05d}{index:04d}"),
                        tuple(replace(p, external_ref=f"{tag}-{p.external_ref}") for p in payments),
                        tuple(replace(a, arrangement_id=f"{tag}-{a.arrangement_id}") for a in arrangements),
                    )
                )
            phone = f"139{number:08d}"
            borrower_id = await _seed_borrower(
                session,
                b,
                None,
                phone=phone,
                demo_key=f"C{number:07d}",
                records=records,
                salt=salt,
                today=today,
                tz=tz,
                now=now,
            )
            copies.append(DemoCopy(key, borrower_id, phone, tuple(r[1].loan_number for r in records)))
        await repo.add_audit(
            session,
            at=now,
            actor="cli",
            action="demo_copies_seeded",
            detail={"today": today.isoformat(), "copies": {c.borrower_id: c.key for c in copies}},
        )
    return copies


MAX_DEMO_COPIES = 99_999  # five digits of the loan numbers and the phone


async def _seed_borrower(
    session: Session,
    b: DemoBorrower,
    borrower: m.Borrower | None,
    *,
    phone: str,
    demo_key: str,
    records: list[tuple[DemoLoan, LoanContract, tuple[PaymentRecord, ...], tuple[ArrangementRecord, ...]]],
    salt: str,
    today: date,
    tz: str,
    now: datetime,
) -> str:
    """The demo borrower ``b`` (a new row, or ``borrower`` cleared of its loans) with the loans
    of ``records``, no verification failures and no contact preference set."""
    zone = ZoneInfo(tz)
    fields = dict(
        name=b.name,
        language=b.language,
        phone=phone,
        date_of_birth=b.date_of_birth,
        national_id_hash=hash_national_id(demo_national_id(b.date_of_birth, b.id_last4), salt),
        national_id_last4=b.id_last4,
        timezone=tz,
        demo_key=demo_key,
    )
    if borrower is None:
        borrower = m.Borrower(created_at=now, **fields)
        session.add(borrower)
        await session.flush()
    else:
        for name, value in fields.items():
            setattr(borrower, name, value)
        await seed_db.delete_loans_sessions_and_preferences(session, borrower.id)
    await seed_db.delete_verification_subject(session, f"borrower:{borrower.id}")
    for demo_loan, contract, payments, arrangements in records:
        await _seed_loan(session, borrower.id, demo_loan, (contract, payments, arrangements), today, zone, now)
    session.add(m.ContactPreference(borrower_id=borrower.id, stop_all=False, opted_out_channels=[], updated_at=now))
    return borrower.id


async def _seed_loan(
    session: Session,
    borrower_id: str,
    demo_loan: DemoLoan,
    records: tuple[LoanContract, tuple[PaymentRecord, ...], tuple[ArrangementRecord, ...]],
    today: date,
    zone: ZoneInfo,
    now: datetime,
) -> None:
    """One demo loan with its schedule, the payments of its paid instalments, its arrangements
    and its open dispute."""
    contract, payments, arrangements = records
    loan = m.Loan(
        loan_number=contract.loan_number,
        borrower_id=borrower_id,
        product=demo_loan.product,
        principal=contract.principal,
        apr=contract.apr,
        term=contract.term,
        disbursed_on=contract.disbursed_on,
        currency="CNY",
        created_at=now,
    )
    session.add(loan)
    await session.flush()
    await seed_db.insert_instalments(session, instalment_rows(loan.id, contract.schedule))
    for p in payments:
        session.add(
            m.Payment(
                loan_id=loan.id,
                external_ref=p.external_ref,
                amount=p.amount,
                received_on=p.received_on,
                channel="bank_transfer",
                created_at=now,
            )
        )
    for a in arrangements:
        accepted_at = datetime.combine(a.accepted_on, dtime(10, 0), zone).astimezone(UTC)
        session.add(
            m.Arrangement(
                id=a.arrangement_id,
                loan_id=loan.id,
                offer_id=None,
                evaluation_id=None,
                plan_type=a.plan_type,
                accepted_at=accepted_at,
                accepted_on=a.accepted_on,
                replaces=list(a.replaces),
                payment_frequency="monthly",
                total_to_repay=a.total,
                waived_late_fees=a.waived_late_fees,
                waived_penalty_interest=a.waived_penalty_interest,
                waived_interest=a.waived_interest,
                holiday_months=1 if a.plan_type == "deferral" else 0,
                record={"demo": True},
                instalments=arrangement_instalments(a.schedule),
            )
        )
    if demo_loan.dispute_reason:
        opened = today - timedelta(days=5)
        session.add(
            m.Dispute(
                case_number=f"DSP-{today.year}-9{int(contract.loan_number[2:]):05d}",
                loan_id=loan.id,
                borrower_id=borrower_id,
                reason=demo_loan.dispute_reason,
                details=None,
                opened_on=opened,
                reply_due_by=opened + timedelta(days=15),
                status="open",
                created_at=now,
            )
        )


# ---------------------------------------------------------------- synthetic portfolio

BUCKET_MIX = (  # (bucket, weight, (min days from today of the oldest unpaid due date, max))
    ("M0", 50, (1, 28)),
    ("M1", 20, (-30, -1)),
    ("M2", 12, (-60, -31)),
    ("M3", 10, (-90, -61)),
    ("M3+", 8, (-200, -91)),
)
PRINCIPALS = (Decimal("3000.00"), Decimal("6000.00"), Decimal("12000.00"), Decimal("30000.00"), Decimal("50000.00"))
APRS = (Decimal("0.12"), Decimal("0.154"), Decimal("0.18"))
TERMS = (6, 12, 24)
PRODUCTS = ("fenfu", "cash_loan", "consumer_instalment")


async def generate_portfolio(
    engine: Engine, n: int, *, salt: str, today: date, seed: int = 20261125, batch: int = 5000
) -> dict[str, float]:
    """Insert ``n`` synthetic borrowers, one loan each, with their schedules and the payments
    of their paid instalments, spread over the buckets of BUCKET_MIX. PostgreSQL uses COPY
    (asyncpg copy_records_to_table); other databases batched executemany inserts."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    offset = await seed_db.count_loans_numbered(engine, "SY")
    schedules: dict[tuple, LoanContract] = {}
    weights = [w for _, w, _ in BUCKET_MIX]
    borrowers: list[tuple[Any, ...]] = []
    loans: list[tuple[Any, ...]] = []
    instalments: list[tuple[Any, ...]] = []
    payments: list[tuple[Any, ...]] = []
    counts: dict[str, float] = {"borrowers": 0, "instalments": 0, "payments": 0}
    ids = ordered_ids()

    in_flight: asyncio.Task | None = None

    async def flush() -> None:
        # One batch is written while the next is generated: the database works on one core
        # while Python builds rows on the other (the loop below yields to let COPY stream).
        nonlocal borrowers, loans, instalments, payments, in_flight
        if in_flight is not None:
            await in_flight
            in_flight = None
        if not borrowers:
            return
        counts["borrowers"] += len(borrowers)
        counts["instalments"] += len(instalments)
        counts["payments"] += len(payments)
        in_flight = asyncio.ensure_future(seed_db.bulk_insert(engine, borrowers, loans, instalments, payments))
        borrowers, loans, instalments, payments = [], [], [], []

    for i in range(offset, offset + n):
        _, _, (lo, hi) = rng.choices(BUCKET_MIX, weights)[0]
        days = rng.randint(lo, hi)
        principal, apr, term = rng.choice(PRINCIPALS), rng.choice(APRS), rng.choice(TERMS)
        anchor_due = today + timedelta(days=days)
        k = rng.randint(1, term)  # the oldest unpaid instalment; 1..k-1 were paid on their due dates
        disbursed = add_months(anchor_due, -k)
        ckey = (principal, apr, term, disbursed, anchor_due.day)
        contract = schedules.get(ckey)
        if contract is None:
            contract = LoanContract(
                "",
                principal,
                apr,
                term,
                disbursed,
                build_schedule(principal, apr, term, disbursed, due_day=anchor_due.day),
            )
            schedules[ckey] = contract
        borrower_id, loan_id = next(ids), next(ids)
        dob = date(1960 + i % 45, 1 + i % 12, 1 + i % 28)
        last4 = f"{i % 10000:04d}"
        loan_number = f"SY{i:010d}"
        # Tuples in the column order of seed_queries.BORROWER_COLUMNS, LOAN_COLUMNS, ...
        borrowers.append(
            (
                borrower_id,
                f"合成用户{i}",
                "zh" if i % 5 else "en",
                f"139{i:08d}",
                dob,
                hash_national_id(f"{DEMO_NATIONAL_ID_REGION}{dob:%Y%m%d}{last4}", salt),
                last4,
                "Asia/Shanghai",
                None,
                now,
            )
        )
        loans.append((loan_id, loan_number, borrower_id, PRODUCTS[i % 3], principal, apr, term, disbursed, "CNY", now))
        for s in contract.schedule:
            instalments.append((loan_id, s.number, s.due_date, s.amount, s.principal, s.interest))
            if s.number < k:
                payments.append(
                    (next(ids), loan_id, f"SYN-{loan_number}-{s.number}", s.amount, s.due_date, "bank_transfer", now)
                )
        if len(borrowers) >= batch:
            await flush()
        elif i % 100 == 0:
            await asyncio.sleep(0)
    try:
        await flush()
        await flush()
    finally:
        if in_flight is not None and not in_flight.done():
            in_flight.cancel()
    counts["seconds"] = round(time.perf_counter() - started, 2)
    return counts
