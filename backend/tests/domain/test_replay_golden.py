"""Golden equality: the optimised replay and the policy lab's fast path give exactly the figures
of the reference (tests/domain/reference_replay.py, the replay before the speed work) on a
generated portfolio: on-time, late, partial and overpaid payments, paid-off loans, kept and
broken arrangements, facts on file or not, open disputes. Nothing here is a hard-coded number:
both sides are computed from the same generated records."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.domain import lab, lab_rows
from ledger.domain.account import (
    ArrangementRecord,
    LoanContract,
    PaymentRecord,
    arrangement_state,
    derive_status,
)
from ledger.domain.lab import HardshipProfile, LabLoan, LabReport, changes_of, evaluate_loan
from ledger.domain.relief import HardshipFacts, build_arrangement, evaluate_relief
from ledger.services import lab_worker
from ledger.services.lab import LabInputs, bucket_names, build_report

from . import reference_lab
from . import reference_replay as ref

AS_OF = date(2026, 11, 25)
PROFILES = (
    HardshipProfile("job_loss_temp", "job_loss", "temporary", Decimal("6000"), Decimal("3000"), Decimal("0"), 3),
    HardshipProfile("illness_long", "illness", "long_term", Decimal("4000"), Decimal("3500"), Decimal("200"), 1),
    HardshipProfile("tight", "income_drop", "temporary", Decimal("3000"), Decimal("2900"), Decimal("50"), 1),
)
REASONS = ("job_loss", "illness", "income_drop", "business_failure", "family_emergency", "irregular_income")


def _money(rng: random.Random, lo: int, hi: int) -> Decimal:
    return Decimal(rng.randint(lo * 100, hi * 100)) / 100


def _payments(rng: random.Random, contract: LoanContract, until: date, start: int) -> list[PaymentRecord]:
    """One of several ways of paying the contract's instalments, up to ``until``."""
    style = rng.choice(("on_time", "late", "partial", "payoff", "none", "stops"))
    pays: list[PaymentRecord] = []
    stop = rng.randint(1, contract.term)
    for s in contract.schedule:
        if style == "none" or (style == "stops" and s.number >= stop):
            break
        if style == "payoff" and s.number == stop:
            day = s.due_date + timedelta(days=rng.randint(-10, 20))
            if day <= until:
                pays.append(PaymentRecord(f"P{start + len(pays)}", contract.principal * 2, day))
            break
        if style == "partial":
            amount = (s.amount * Decimal(rng.randint(10, 150)) / 100).quantize(Decimal("0.01"))
            day = s.due_date + timedelta(days=rng.randint(-5, 40))
        else:
            amount = s.amount
            day = s.due_date + timedelta(days=rng.randint(0, 60) if style == "late" else 0)
        if day > until or amount <= 0:
            break
        pays.append(PaymentRecord(f"P{start + len(pays)}", amount, day))
    return pays


def _facts(rng: random.Random) -> HardshipFacts:
    income = _money(rng, 0, 20000)
    return HardshipFacts(
        rng.choice(REASONS),
        rng.choice(("temporary", "long_term")),
        income,
        _money(rng, 0, 9000),
        _money(rng, 0, 1500),
    )


def generated_portfolio(policy, n: int, seed: int = 20261125) -> list[LabLoan]:
    rng = random.Random(seed)
    loans = []
    for k in range(n):
        disbursed = AS_OF - timedelta(days=rng.randint(20, 900))
        contract = LoanContract.create(
            f"GL{k:05d}",
            _money(rng, 500, 60000),
            rng.choice((Decimal("0"), Decimal("0.12"), Decimal("0.154"), Decimal("0.18"), Decimal("0.24"))),
            rng.choice((3, 6, 12, 24, 36)),
            disbursed,
            due_day=rng.randint(1, 31),
        )
        arrangements: tuple[ArrangementRecord, ...] = ()
        if rng.random() < 0.3 and (AS_OF - disbursed).days > 60:
            # A relief plan accepted on a past day, chosen among the offers of that day, then
            # kept (its instalments paid on time) or broken (payments stop).
            accepted = disbursed + timedelta(days=rng.randint(40, (AS_OF - disbursed).days - 1))
            pays = _payments(rng, contract, accepted - timedelta(days=1), 0)
            status = derive_status(contract, pays, (), accepted, policy)
            facts = _facts(rng)
            ev = evaluate_relief(contract, status, facts, lab.relief_history((), policy, False), accepted, policy)
            offers = [p for p in ev.plans if p.eligible and p.offer is not None]
            if offers:
                plan = rng.choice(offers)
                assert plan.offer is not None
                arr = build_arrangement(plan.offer, plan.plan_type, f"A{k:05d}", accepted)
                arrangements = (arr,)
                kept_until = rng.choice((len(arr.schedule), rng.randint(0, len(arr.schedule))))
                for s in arr.schedule[:kept_until]:
                    if s.due_date <= AS_OF:
                        pays.append(PaymentRecord(f"A{k}-{s.number}", s.amount, s.due_date))
        else:
            pays = _payments(rng, contract, AS_OF, 0)
        loans.append(
            LabLoan(
                contract,
                tuple(pays),
                arrangements,
                _facts(rng) if rng.random() < 0.4 else None,
                rng.random() < 0.03,
            )
        )
    return loans


@pytest.fixture(scope="module")
def portfolio(policy):
    return generated_portfolio(policy, 400)


def test_the_portfolio_covers_the_cases_the_replay_distinguishes(portfolio, policy):
    """The generated portfolio is worth comparing on: closed, overdue in several buckets, kept,
    active and broken arrangements (a guard against a generator that drifted to one case)."""
    statuses = [derive_status(x.contract, x.payments, x.arrangements, AS_OF, policy) for x in portfolio]
    states = {s for st in statuses for s in st.arrangement_states.values()}
    assert {"kept", "broken"} <= states
    assert any(st.closed for st in statuses) and any(st.refund_owed > 0 for st in statuses)
    assert len({st.bucket for st in statuses}) >= 4
    assert any(x.facts is None for x in portfolio) and any(x.open_dispute for x in portfolio)


def test_the_optimised_replay_gives_the_reference_figures_exactly(portfolio, policy):
    days = (AS_OF, AS_OF - timedelta(days=37), AS_OF - timedelta(days=200))
    for loan in portfolio:
        for day in days:
            new = derive_status(loan.contract, loan.payments, loan.arrangements, day, policy)
            old = ref.derive_status(loan.contract, loan.payments, loan.arrangements, day, policy)
            # repr, not ==: Decimal("1.0") == Decimal("1.00"), but the API prints them apart.
            assert repr(new) == repr(old), (loan.contract.loan_number, day)
        for a in loan.arrangements:
            assert arrangement_state(a, loan.payments, AS_OF) == ref.arrangement_state(a, loan.payments, AS_OF)


def _candidate(policy):
    fw = dataclasses.replace(policy.plans.fee_waiver, min_dpd=15)
    relief = dataclasses.replace(policy.relief, affordability_ratio=Decimal("0.4"))
    return dataclasses.replace(policy, plans=dataclasses.replace(policy.plans, fee_waiver=fw), relief=relief)


def _pg_row(loan: LabLoan) -> tuple:
    """The loan as ledger.db.lab_queries yields it from PostgreSQL (text aggregates, JSON facts)."""
    c = loan.contract
    inst = ";".join(f"{s.number},{s.due_date},{s.principal},{s.interest},{s.amount}" for s in c.schedule)
    pays = ";".join(f"{p.amount},{p.received_on}" for p in loan.payments)
    arrs = tuple(
        (
            a.arrangement_id,
            a.plan_type,
            a.accepted_on,
            a.replaces,
            a.waived_late_fees,
            a.waived_penalty_interest,
            a.waived_interest,
            tuple(
                (s.number, s.due_date, s.principal, s.interest, s.amount, s.penalty_interest, s.late_fees)
                for s in a.schedule
            ),
        )
        for a in loan.arrangements
    )
    f = loan.facts
    facts = None
    if f is not None:
        facts = json.dumps(
            [f.reason, f.duration, str(f.monthly_income), str(f.essential_expenses), str(f.other_debt_payments)]
        )
    return (
        c.loan_number,
        str(c.principal),
        str(c.apr),
        c.term,
        c.disbursed_on,
        inst,
        pays,
        arrs,
        facts,
        loan.open_dispute,
    )


def _report(report: LabReport, changes, policy, candidate) -> str:
    inputs = LabInputs(policy, candidate, AS_OF, PROFILES, "current", "candidate", "profiles")
    return json.dumps(build_report(report, changes, inputs, bucket_names(policy)), sort_keys=True)


@pytest.mark.parametrize("core", ["pure", "compiled"])
def test_the_labs_fast_path_gives_the_reference_report(portfolio, policy, core):
    """The worker's path (rows as PostgreSQL sends them, parsed, evaluated, in two batches merged)
    against each loan evaluated as before the speed work (reference_lab.py: the reference replay,
    the engine as the API calls it under each policy on its own) and summed in one report; with
    the pure core and with the compiled one (services.lab_core, built by `make setup`)."""
    candidate = _candidate(policy)
    lab_worker.init(policy, candidate, AS_OF, PROFILES, core)
    rows = [_pg_row(x) for x in portfolio]
    fast, fast_changes = lab_worker.evaluate_batch(rows[:150])
    second, more = lab_worker.evaluate_batch(rows[150:])
    fast.merge(second)
    fast_changes += more

    slow, slow_changes = LabReport(), []
    for loan in portfolio:
        outcome = reference_lab.evaluate_loan(loan, policy, candidate, AS_OF, PROFILES)
        assert repr(evaluate_loan(loan, policy, candidate, AS_OF, PROFILES)) == repr(outcome)
        slow.add(outcome)
        slow_changes.extend(changes_of(outcome))
    assert slow.loans == len(portfolio) and slow_changes  # the candidate changes something
    assert fast_changes == slow_changes
    assert _report(fast, fast_changes, policy, candidate) == _report(slow, slow_changes, policy, candidate)


def test_a_lean_status_has_the_full_status_figures_for_the_relief_engine(portfolio, policy):
    """derive_status(lean=True) lists only the unpaid instalments (the policy lab's status): every
    other figure is the full status's, and the engine's figures (status_figures, the next
    instalment number included, which a paid or replaced instalment may hold) are the same."""
    from ledger.domain.relief import ReliefHistory, status_figures

    days = (AS_OF, AS_OF - timedelta(days=37), AS_OF - timedelta(days=200))
    for loan in portfolio:
        for day in days:
            full = derive_status(loan.contract, loan.payments, loan.arrangements, day, policy)
            lean = derive_status(loan.contract, loan.payments, loan.arrangements, day, policy, lean=True)
            unpaid = tuple(i for i in full.instalments if i.state in ("overdue", "due", "upcoming"))
            assert repr(lean) == repr(dataclasses.replace(full, instalments=unpaid))
            assert lean.highest_number == max(i.number for i in full.instalments)
            history = ReliefHistory(highest_instalment_number=3)
            assert repr(status_figures(lean, day, history)) == repr(status_figures(full, day, history))


def _charges_candidate(policy):
    """A candidate whose charges differ: the lab derives a second (lean) status for it."""
    charges = dataclasses.replace(policy.charges, late_fee_rate=policy.charges.late_fee_rate * 2)
    return dataclasses.replace(_candidate(policy), charges=charges)


def test_with_other_charges_the_lab_gives_the_reference_outcome(portfolio, policy):
    candidate = _charges_candidate(policy)
    changed = 0
    for loan in portfolio:
        outcome = reference_lab.evaluate_loan(loan, policy, candidate, AS_OF, PROFILES)
        assert repr(evaluate_loan(loan, policy, candidate, AS_OF, PROFILES)) == repr(outcome)
        changed += bool(changes_of(outcome))
    assert changed


def test_an_arrangement_due_before_instalments_paid_ahead_is_paid_first(policy):
    """The replay skips the instalments paid at the head of the schedule; an arrangement whose
    instalments fall due before instalments paid in advance reorders the schedule, and a
    payment must still reach it (against the reference replay)."""
    from ledger.domain.schedule import ScheduledInstalment

    start = date(2026, 1, 10)
    contract = LoanContract.create("PA1", Decimal("12000.00"), Decimal("0.12"), 12, start)
    ahead = sum((s.amount for s in contract.schedule[:8]), Decimal("0.00"))
    arrangement = ArrangementRecord(
        "A1",
        "term_extension",
        start + timedelta(days=40),
        (9, 10, 11, 12),
        (
            ScheduledInstalment(
                13, start + timedelta(days=70), Decimal("2000.00"), Decimal("10.00"), Decimal("2010.00")
            ),
            ScheduledInstalment(
                14, start + timedelta(days=100), Decimal("2100.00"), Decimal("5.00"), Decimal("2105.00")
            ),
        ),
    )
    payments = (
        PaymentRecord("P1", ahead, start + timedelta(days=10)),
        PaymentRecord("P2", Decimal("2010.00"), start + timedelta(days=65)),
        PaymentRecord("P3", Decimal("2105.00"), start + timedelta(days=95)),
    )
    for day in (start + timedelta(days=80), start + timedelta(days=130), start + timedelta(days=400)):
        new = derive_status(contract, payments, (arrangement,), day, policy)
        assert repr(new) == repr(ref.derive_status(contract, payments, (arrangement,), day, policy))
    assert new.arrangement_states == {"A1": "kept"}


def test_rows_read_in_fen_give_the_reference_status_exactly(portfolio, policy):
    """A PostgreSQL row without arrangements reaches the replay in fen (LabLoan.fen, no Decimal
    records): full and lean statuses on three days are the reference's, repr for repr."""
    in_fen = 0
    for loan in portfolio:
        fast = lab_rows.loan_from_row(_pg_row(loan))
        if loan.arrangements:
            assert fast.fen is None
            continue
        assert fast.fen is not None and fast.contract.schedule == () and fast.payments == ()
        in_fen += 1
        for day in (AS_OF, AS_OF - timedelta(days=45), loan.contract.disbursed_on + timedelta(days=70)):
            old = ref.derive_status(loan.contract, loan.payments, (), day, policy)
            assert repr(derive_status(fast.contract, (), (), day, policy, fen=fast.fen)) == repr(old)
            lean = derive_status(fast.contract, (), (), day, policy, fen=fast.fen, lean=True)
            assert lean == derive_status(loan.contract, loan.payments, (), day, policy, lean=True)
    assert in_fen > len(portfolio) // 2


def test_a_row_whose_amounts_lack_two_decimals_is_read_as_decimal(policy):
    """Text that is not two-decimal money ("1250", "0.5") keeps its Decimal exponent: the row is
    read into Decimal records, and the lab's outcome is the reference's."""
    contract = LoanContract.create("L-TEXT", Decimal("3000.00"), Decimal("0.18"), 3, date(2026, 6, 10))
    base = LabLoan(contract, (PaymentRecord("", Decimal("1250"), date(2026, 7, 10)),), (), None)
    odd = dataclasses.replace(base, payments=(PaymentRecord("", Decimal("0.5"), date(2026, 8, 12)),))
    candidate = _candidate(policy)
    lab_worker.init(policy, candidate, AS_OF, PROFILES)
    for loan in (base, odd):
        fast = lab_rows.loan_from_row(_pg_row(loan))
        assert fast.fen is None and fast.payments == loan.payments
        assert repr(fast.payments[0].amount) == repr(loan.payments[0].amount)
        outcome = reference_lab.evaluate_loan(loan, policy, candidate, AS_OF, PROFILES)
        assert repr(evaluate_loan(fast, policy, candidate, AS_OF, PROFILES)) == repr(outcome)
    fen = lab_rows.loan_from_row(_pg_row(dataclasses.replace(base, payments=()))).fen
    assert fen is not None
    arrangement = ArrangementRecord("A-1", "deferral", date(2026, 8, 1), (2, 3), ())
    with pytest.raises(ValueError, match="no arrangements"):
        derive_status(contract, (), (arrangement,), AS_OF, policy, fen=fen)
