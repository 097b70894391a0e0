"""The contact planner: which outbound reminders are due now, and which are held back and why.

Pure: everything comes in as values (loans with their derived state, borrowers with their time
zone, preferences and channels, the contact history, the cadence and the policy's contact
rules, and "now"), and the plan comes out. It sends nothing; a dispatcher sends what it plans
and checks the same rules again at send time.

The rules (the policy's ``contact`` section), checked for every candidate reminder in this
order, the first that applies holding it back:

1. ``paid_off``: the loan is closed.
2. ``dispute_open``: an open dispute on the loan pauses collection.
3. ``cease_contact``: the borrower asked us to stop all contact.
4. ``opted_out`` / ``not_borrowers_channel``: every channel the cadence names for the reason is
   one the borrower opted out of, or not one the borrower owns (the rule of the first channel
   tried is given); otherwise the first allowed channel is used and the others are listed.
5. ``outside_window``: now is past the end of today's window in the borrower's time zone
   (or today is a quiet day of the cadence).
6. ``daily_cap``: ``max_per_day`` reminders for this loan already delivered, pending or
   planned on the borrower's local day.
7. ``weekly_cap``: ``max_per_7_days`` for this loan on the 7 local days ending today.

Candidates of one loan are taken in the cadence's priority order, so when the daily cap allows
one, the most urgent is planned and the others are held with ``daily_cap``. The planner only
limits outbound contact: nothing here stops a borrower from starting a conversation.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .account import ArrangementRecord, LoanContract, PaymentRecord, derive_status
from .money import ZERO
from .policy import ContactRules, LocalizedText, Policy
from .promises import promise_state
from .schedule import ScheduledInstalment

REASONS: tuple[str, ...] = (
    "before_due",
    "due_today",
    "dpd_milestone",
    "promise_due_tomorrow",
    "promise_broken",
    "arrangement_instalment_due",
    "offer_expiring",
)
RULES: tuple[str, ...] = (
    "paid_off",
    "dispute_open",
    "cease_contact",
    "opted_out",
    "not_borrowers_channel",
    "outside_window",
    "daily_cap",
    "weekly_cap",
)
# What a template of each reason may name (besides sender, stop and loan_tail, which all may).
COMMON_FIELDS = frozenset({"sender", "stop", "loan_tail"})
REASON_FIELDS: Mapping[str, frozenset[str]] = {
    "before_due": frozenset({"instalment", "due_date", "days_left"}),
    "due_today": frozenset({"instalment", "due_date"}),
    "dpd_milestone": frozenset({"instalment", "due_date", "days_past_due"}),
    "promise_due_tomorrow": frozenset({"promised_date"}),
    "promise_broken": frozenset({"promised_date"}),
    "arrangement_instalment_due": frozenset({"instalment", "due_date", "days_left"}),
    "offer_expiring": frozenset({"expires_at"}),
}
REQUIRED_FIELDS = frozenset({"sender", "stop"})  # every message says who sends it and how to stop it


def template_fields(template: str) -> set[str]:
    """The placeholder names of a ``str.format`` template ({name})."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


# ---------------------------------------------------------------- the cadence


@dataclass(frozen=True)
class ReasonCadence:
    """When one reason fires and on which channels (in order of preference)."""

    enabled: bool
    channels: tuple[str, ...]
    template: LocalizedText
    days: tuple[int, ...] = ()  # before_due / arrangement_instalment_due: days before the due date
    hours: int = 0  # offer_expiring: the offer expires within this many hours of now


@dataclass(frozen=True)
class Cadence:
    sender: LocalizedText
    stop: LocalizedText
    priority: tuple[str, ...]
    quiet_weekdays: frozenset[int]  # ISO weekdays, 1 = Monday
    quiet_dates: frozenset[date]
    reasons: Mapping[str, ReasonCadence]
    dpd_milestones: Mapping[str, frozenset[int]]  # bucket name -> the DPDs that fire dpd_milestone
    stop_confirmation: LocalizedText  # the answer to a STOP reply


# ---------------------------------------------------------------- the inputs


class Due(NamedTuple):
    """An instalment in effect, due on or after the day of the state (a named tuple: a plan of
    the whole portfolio makes one per upcoming instalment, and tuples are the cheapest to make)."""

    number: int
    due_date: date
    paid: bool
    arrangement: bool = False


@dataclass(frozen=True)
class PromiseRecord:
    """A promise to pay as stored (its state is derived with the payments)."""

    amount: Decimal
    made_on: date
    promised_date: date
    replaced_on: date | None = None


@dataclass(frozen=True)
class PromiseFact:
    promised_date: date
    state: str  # open | kept | broken | replaced, on the day of the state


@dataclass(frozen=True)
class DueState:
    """What the planner needs of a loan's derived state on one (local) day."""

    as_of: date
    closed: bool
    days_past_due: int
    bucket: str
    oldest_unpaid: Due | None  # the oldest overdue instalment when days_past_due > 0
    upcoming: tuple[Due, ...]  # every instalment in effect due on or after as_of, paid or not
    promises: tuple[PromiseFact, ...] = ()


@dataclass(frozen=True)
class OfferFact:
    offer_id: str
    expires_at: datetime  # aware
    open: bool  # not accepted, not superseded


@dataclass(frozen=True)
class LoanInput:
    loan_number: str
    borrower_id: str
    state: DueState
    dispute_open: bool = False
    offers: tuple[OfferFact, ...] = ()


@dataclass(frozen=True)
class BorrowerInput:
    borrower_id: str
    timezone: str
    language: str
    channels: frozenset[str]  # the channels the ledger knows to be the borrower's own
    stop_all: bool = False
    opted_out: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ContactEvent:
    """A contact of the history: ``delivered``, or ``pending`` (planned or being attempted);
    failed contacts are not passed in (they count against nothing)."""

    loan_number: str
    channel: str
    at: datetime  # aware: delivery time, or the planned send_after of a pending one
    idempotency_key: str
    status: str = "delivered"


# ---------------------------------------------------------------- the outputs


@dataclass(frozen=True)
class PlannedContact:
    idempotency_key: str
    loan_number: str
    borrower_id: str
    reason: str
    channel: str
    template: str
    language: str
    text: str
    send_after: datetime  # aware, in the borrower's time zone
    send_before: datetime
    subject: Mapping[str, str]  # what the reminder is about (instalment, due date, promise, offer)
    skipped_channels: tuple[tuple[str, str], ...] = ()  # (channel, rule) tried before the chosen one


@dataclass(frozen=True)
class HeldContact:
    idempotency_key: str
    loan_number: str
    borrower_id: str
    reason: str
    rule: str
    channel: str | None
    detail: str = ""


@dataclass
class ContactPlan:
    contacts: list[PlannedContact] = field(default_factory=list)
    held: list[HeldContact] = field(default_factory=list)


# ---------------------------------------------------------------- derived state, fast


def due_state(
    contract: LoanContract,
    payments: Iterable[PaymentRecord],
    arrangements: Iterable[ArrangementRecord],
    as_of: date,
    policy: Policy,
    promises: Iterable[PromiseRecord] = (),
) -> DueState:
    """The loan's ``DueState`` on ``as_of``, exactly as ``account.derive_status`` would give it.

    Why not always derive_status: it replays every charge (~0.7 ms a loan), too slow for a
    portfolio-wide plan. Most loans need no replay: with no arrangement in effect and less paid
    in total than the principal (so no payment can have closed the loan), the instalments that
    payments covered by their due dates (oldest first) are paid without any charge; the next
    one is unpaid when it is not yet overdue, or when all payments together do not reach it
    even before charges. Everything else is replayed.
    """
    pays = sorted((p for p in payments if p.received_on <= as_of), key=_BY_RECEIVED)
    arrs = tuple(a for a in arrangements if a.accepted_on <= as_of)
    promise_facts = tuple(
        PromiseFact(r.promised_date, promise_state(r.amount, r.made_on, r.promised_date, pays, as_of, r.replaced_on))
        for r in promises
        if r.made_on <= as_of
    )
    sched = sorted(contract.schedule, key=_BY_DUE)
    if not arrs and _no_payment_closed(contract.principal, sched, pays):
        total = sum((p.amount for p in pays), ZERO)
        covered = ZERO
        paid_by = ZERO
        k = 0
        q = 0
        for inst in sched:
            while k < len(pays) and pays[k].received_on <= inst.due_date:
                paid_by += pays[k].amount
                k += 1
            if paid_by >= covered + inst.amount:
                covered += inst.amount
                q += 1
            else:
                break
        if q < len(sched):
            first = sched[q]
            if first.due_date >= as_of or total < covered + first.amount:
                dpd = (as_of - first.due_date).days if first.due_date < as_of else 0
                upcoming = tuple(
                    Due(s.number, s.due_date, paid=i < q) for i, s in enumerate(sched) if s.due_date >= as_of
                )
                oldest = Due(first.number, first.due_date, paid=False) if dpd > 0 else None
                return DueState(as_of, False, dpd, policy.bucket_for(dpd), oldest, upcoming, promise_facts)
    status = derive_status(contract, pays, arrs, as_of, policy)
    oldest_unpaid: Due | None = None
    ups: list[Due] = []
    for i in status.instalments:
        if i.state == "replaced":
            continue
        if i.state == "overdue" and oldest_unpaid is None:
            oldest_unpaid = Due(i.number, i.due_date, False, i.is_arrangement)
        if i.due_date >= as_of:
            ups.append(Due(i.number, i.due_date, i.state == "paid" or status.closed, i.is_arrangement))
    return DueState(
        as_of,
        status.closed,
        status.days_past_due,
        status.bucket,
        oldest_unpaid if status.days_past_due > 0 else None,
        tuple(ups),
        promise_facts,
    )


_BY_DUE = attrgetter("due_date", "number")
_BY_RECEIVED = attrgetter("received_on")


def _no_payment_closed(principal: Decimal, sched: Sequence[ScheduledInstalment], pays: Sequence[PaymentRecord]) -> bool:
    """True when no payment can have reached the payoff amount on its day (the replay would
    close the loan and forgive interest not yet due). The payoff is at least the principal not
    yet paid; before a payment, at most the instalments covered by the payments so far have
    their principal paid, plus what went into the next one (interest first, so at most that
    much principal). A payment below that bound cannot close the loan."""
    covered = ZERO  # money paid before the payment at hand
    full_amounts = ZERO  # the amounts of the instalments it fully covers
    full_principal = ZERO  # and their principal
    j = 0
    for p in pays:
        while j < len(sched) and full_amounts + sched[j].amount <= covered:
            full_amounts += sched[j].amount
            full_principal += sched[j].principal
            j += 1
        unpaid_principal_at_least = principal - full_principal - (covered - full_amounts)
        if p.amount >= unpaid_principal_at_least:
            return False
        covered += p.amount
    return True


# ---------------------------------------------------------------- the planner


@lru_cache(maxsize=256)
def known_zone(name: str) -> ZoneInfo | None:
    """The IANA zone ``name``, or None when there is no such zone (a borrower record edited by hand)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_window(day: date, zone: ZoneInfo, rules: ContactRules) -> tuple[datetime, datetime]:
    """Today's contact window [start, end) in ``zone`` as aware datetimes (normalised through
    UTC, so a wall time that a DST change skips lands on the real instant after the gap)."""
    start = datetime.combine(day, rules.window_start, zone).astimezone(UTC).astimezone(zone)
    end = datetime.combine(day, rules.window_end, zone).astimezone(UTC).astimezone(zone)
    return start, end


def _fmt_date(d: date, language: str) -> str:
    return f"{d.month}月{d.day}日" if language == "zh" else f"{d.day} {d:%b} {d.year}"


def _fmt_time(t: datetime, language: str) -> str:
    return f"{t.month}月{t.day}日{t:%H:%M}" if language == "zh" else f"{t.day} {t:%b} {t.year} {t:%H:%M}"


@dataclass(frozen=True)
class _Candidate:
    reason: str
    anchor: str
    subject: Mapping[str, str]
    fields: Mapping[str, str]
    latest: datetime | None = None  # must be sent before this (an offer's expiry)


def _candidates(loan: LoanInput, cadence: Cadence, now: datetime, language: str) -> list[_Candidate]:
    st = loan.state
    today = st.as_of
    out: list[_Candidate] = []
    rs = cadence.reasons

    def inst(d: Due, reason: str, **extra: str) -> _Candidate:
        fields = {"instalment": str(d.number), "due_date": _fmt_date(d.due_date, language), **extra}
        subject = {"instalment": str(d.number), "due_date": d.due_date.isoformat()}
        if d.arrangement:
            subject["arrangement"] = "true"
        return _Candidate(reason, f"i{'a' if d.arrangement else ''}{d.number}", subject, fields)

    # Closed loans are screened on their schedule so the risk team sees them held (paid_off).
    unpaid = [d for d in st.upcoming if st.closed or not d.paid]
    bd = rs["before_due"]
    if bd.enabled:
        for d in unpaid:
            left = (d.due_date - today).days
            if not d.arrangement and left in bd.days and left > 0:
                out.append(inst(d, "before_due", days_left=str(left)))
    if rs["due_today"].enabled:
        for d in unpaid:
            if not d.arrangement and d.due_date == today:
                out.append(inst(d, "due_today"))
    ad = rs["arrangement_instalment_due"]
    if ad.enabled:
        for d in unpaid:
            left = (d.due_date - today).days
            if d.arrangement and left in ad.days:
                out.append(inst(d, "arrangement_instalment_due", days_left=str(left)))
    if rs["dpd_milestone"].enabled and st.oldest_unpaid is not None and st.days_past_due > 0:
        if st.days_past_due in cadence.dpd_milestones.get(st.bucket, frozenset()):
            c = inst(st.oldest_unpaid, "dpd_milestone", days_past_due=str(st.days_past_due))
            out.append(
                _Candidate(
                    c.reason,
                    f"d{st.days_past_due}",
                    {**c.subject, "days_past_due": str(st.days_past_due)},
                    c.fields,
                )
            )
    for p in st.promises:
        pd = {"promised_date": _fmt_date(p.promised_date, language)}
        subject = {"promised_date": p.promised_date.isoformat()}
        if rs["promise_due_tomorrow"].enabled and p.state == "open" and p.promised_date == today + timedelta(days=1):
            out.append(_Candidate("promise_due_tomorrow", f"p{p.promised_date.isoformat()}", subject, pd))
        if rs["promise_broken"].enabled and p.state == "broken" and p.promised_date == today - timedelta(days=1):
            out.append(_Candidate("promise_broken", f"p{p.promised_date.isoformat()}", subject, pd))
    oe = rs["offer_expiring"]
    if oe.enabled:
        horizon = now + timedelta(hours=oe.hours)
        for o in loan.offers:
            if o.open and now < o.expires_at <= horizon:
                local = o.expires_at.astimezone(now.tzinfo)
                out.append(
                    _Candidate(
                        "offer_expiring",
                        f"o{o.offer_id}",
                        {"offer_id": o.offer_id, "expires_at": o.expires_at.astimezone(UTC).isoformat()},
                        {"expires_at": _fmt_time(local, language)},
                        latest=o.expires_at,
                    )
                )
    order = {r: i for i, r in enumerate(cadence.priority)}
    out.sort(key=lambda c: order[c.reason])
    return out


def _history_counts(
    events: Sequence[ContactEvent], zone: ZoneInfo, today: date
) -> tuple[list[tuple[str, date]], set[str]]:
    """(key, local day) of the loan's events in the 7 local days ending today, and the keys delivered."""
    first = today - timedelta(days=6)
    counted: list[tuple[str, date]] = []
    delivered: set[str] = set()
    for e in events:
        day = e.at.astimezone(zone).date()
        if e.status == "delivered":
            delivered.add(e.idempotency_key)
        if first <= day <= today:
            counted.append((e.idempotency_key, day))
    return counted, delivered


@dataclass(frozen=True)
class _Held:
    rule: str
    channel: str | None
    detail: str = ""


def _verdict(
    loan: LoanInput,
    b: BorrowerInput,
    c: _Candidate,
    rc: ReasonCadence,
    rules: ContactRules,
    local_now: datetime,
    window: tuple[datetime, datetime],
    quiet: bool,
) -> _Held | tuple[str, tuple[tuple[str, str], ...], datetime, datetime]:
    """The rule holding the candidate back (rules 1-5 of the module docstring), or the channel,
    the channels skipped and the send interval."""
    first_channel = rc.channels[0] if rc.channels else None
    if loan.state.closed:
        return _Held("paid_off", first_channel)
    if loan.dispute_open:
        return _Held("dispute_open", first_channel)
    if b.stop_all:
        return _Held("cease_contact", first_channel)
    skipped: list[tuple[str, str]] = []
    channel: str | None = None
    for ch in rc.channels:
        if ch in b.opted_out:
            skipped.append((ch, "opted_out"))
        elif ch not in b.channels:
            skipped.append((ch, "not_borrowers_channel"))
        else:
            channel = ch
            break
    if channel is None:
        rule = skipped[0][1] if skipped else "not_borrowers_channel"
        return _Held(rule, first_channel, ", ".join(f"{ch}: {r}" for ch, r in skipped))
    start, end = window
    zone = local_now.tzinfo
    send_after = max(local_now, start)
    send_before = end if c.latest is None else min(end, c.latest.astimezone(zone))
    if quiet:
        return _Held("outside_window", channel, "a quiet day of the cadence")
    if send_after >= send_before:
        return _Held("outside_window", channel, f"window {rules.window_start:%H:%M}-{rules.window_end:%H:%M} is over")
    return channel, tuple(skipped), send_after, send_before


def plan_contacts(
    loans: Iterable[LoanInput],
    borrowers: Mapping[str, BorrowerInput],
    history: Mapping[str, Sequence[ContactEvent]],
    cadence: Cadence,
    rules: ContactRules,
    now: datetime,
) -> ContactPlan:
    """The plan at ``now`` (aware). ``history`` maps loan numbers to their contact events
    (delivered and pending, at least the last 8 days). Each loan's state must be derived for
    the borrower's local date at ``now`` (``local_today``)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    plan = ContactPlan()
    for loan in loans:
        b = borrowers[loan.borrower_id]
        zone = known_zone(b.timezone)
        if zone is None:  # the window cannot be placed: hold whatever would be due
            language = b.language if b.language in ("zh", "en") else "zh"
            for c in _candidates(loan, cadence, now, language):
                key = f"{loan.loan_number}/{c.reason}/{loan.state.as_of.isoformat()}/{c.anchor}"
                detail = f"unknown time zone {b.timezone!r}"
                plan.held.append(
                    HeldContact(key, loan.loan_number, b.borrower_id, c.reason, "outside_window", None, detail)
                )
            continue
        local_now = now.astimezone(zone)
        today = local_now.date()
        if loan.state.as_of != today:
            raise ValueError(f"{loan.loan_number}: state derived for {loan.state.as_of}, the borrower's day is {today}")
        language = b.language if b.language in ("zh", "en") else "zh"
        candidates = _candidates(loan, cadence, local_now, language)
        if not candidates:
            continue
        events = history.get(loan.loan_number, ())
        counted, delivered = _history_counts(events, zone, today)
        start, end = local_window(today, zone, rules)
        quiet = today.isoweekday() in cadence.quiet_weekdays or today in cadence.quiet_dates
        planned_keys: list[str] = []
        seen: set[str] = set()
        for c in candidates:
            key = f"{loan.loan_number}/{c.reason}/{today.isoformat()}/{c.anchor}"
            if key in delivered or key in seen:
                continue  # already delivered (nothing to plan, nothing held), or the same reminder twice
            seen.add(key)
            rc = cadence.reasons[c.reason]
            verdict = _verdict(loan, b, c, rc, rules, local_now, (start, end), quiet)
            if isinstance(verdict, _Held):
                plan.held.append(
                    HeldContact(
                        key, loan.loan_number, b.borrower_id, c.reason, verdict.rule, verdict.channel, verdict.detail
                    )
                )
                continue
            channel, skipped, send_after, send_before = verdict
            others = [(k, d) for k, d in counted if k != key] + [(k, today) for k in planned_keys]
            cap: _Held | None = None
            if sum(1 for _, d in others if d == today) >= rules.max_per_day:
                cap = _Held("daily_cap", channel, f"{rules.max_per_day} a day")
            elif len(others) >= rules.max_per_7_days:
                cap = _Held("weekly_cap", channel, f"{rules.max_per_7_days} in 7 days")
            if cap is not None:
                plan.held.append(
                    HeldContact(key, loan.loan_number, b.borrower_id, c.reason, cap.rule, cap.channel, cap.detail)
                )
                continue
            planned_keys.append(key)
            values = {
                "sender": cadence.sender.get(language),
                "stop": cadence.stop.get(language),
                "loan_tail": loan.loan_number[-4:],
                **c.fields,
            }
            plan.contacts.append(
                PlannedContact(
                    idempotency_key=key,
                    loan_number=loan.loan_number,
                    borrower_id=b.borrower_id,
                    reason=c.reason,
                    channel=channel,
                    template=c.reason,
                    language=language,
                    text=rc.template.get(language).format(**values),
                    send_after=send_after,
                    send_before=send_before,
                    subject=c.subject,
                    skipped_channels=skipped,
                )
            )
    return plan


def trigger_dates(cadence: Cadence, days: Iterable[date]) -> frozenset[date]:
    """The contractual due dates that can make a reminder due on one of ``days``: before_due,
    due_today and dpd_milestone fire only on these (a milestone's DPD counts from the due date
    of the oldest unpaid instalment). A loan with no instalment due on one of them and no
    arrangement, promise or offer has nothing due and nothing held, so a plan may skip it unread."""
    rs = cadence.reasons
    out: set[date] = set()
    for day in days:
        if rs["before_due"].enabled:
            out.update(day + timedelta(days=d) for d in rs["before_due"].days)
        if rs["due_today"].enabled:
            out.add(day)
        if rs["dpd_milestone"].enabled:
            for milestones in cadence.dpd_milestones.values():
                out.update(day - timedelta(days=m) for m in milestones)
    return frozenset(out)


def local_today(now: datetime, timezone: str) -> date:
    """The borrower's calendar day at ``now``: the day their loans' state is derived for (for an
    unknown zone, UTC's day: the planner holds that borrower's reminders anyway)."""
    zone = known_zone(timezone)
    return now.astimezone(zone if zone is not None else UTC).date()


__all__ = [
    "REASONS",
    "RULES",
    "Cadence",
    "ContactEvent",
    "ContactPlan",
    "BorrowerInput",
    "Due",
    "DueState",
    "HeldContact",
    "LoanInput",
    "OfferFact",
    "PlannedContact",
    "PromiseFact",
    "PromiseRecord",
    "ReasonCadence",
    "due_state",
    "known_zone",
    "local_today",
    "local_window",
    "plan_contacts",
    "template_fields",
    "trigger_dates",
]
