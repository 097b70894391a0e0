"""The dispatcher: send what the contact planner planned, exactly once, keeping every rule at
send time (docs/outbound.md).

One run at a clock:

1. plan the portfolio at ``now`` and record each planned contact in the contact history (one
   row per idempotency key: a second run records nothing new); the history is the queue;
2. take the queue in batches (contacts not delivered whose send interval holds ``now``), plan
   the batch's loans again on fresh data, with the caps counting delivered contacts only, and
   decide each contact (ledger.domain.outbound.decide): send, hold (with the rule), wait for
   its backoff, or give up;
3. mark the contacts to send ``attempted`` (committed before anything is sent), send them
   through their channel's adapter, then mark each delivered or failed.

Several workers can work one queue (PostgreSQL): each claims its batch with SELECT ... FOR
UPDATE SKIP LOCKED and a lease (``lease``), so two workers never work the same contact at
once. A worker stopped anywhere in between leaves its contacts ``attempted``: a clean stop
releases its lease at once, a killed worker's lease runs out; then the next run sends them
again with the same keys and the adapter delivers each key once. Every attempt, result and
hold is in the contact history and in the audit log (actor ``outbound``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..db import contact_queries as q
from ..db import repositories as repo
from ..db.session import Engine, create_engine, create_session_factory
from ..domain.contact_plan import Cadence
from ..domain.outbound import Decision, QueuedContact, RetryRules, decide
from ..domain.policy import Policy
from ..domain.reminder_refs import reminder_ref, with_link
from .channels import ChannelAdapter, OutboundMessage, SendResult
from .contact_plan import build_plan, record_plan

ACTOR = "outbound"
DEFAULT_RETRY = RetryRules()
DEFAULT_LEASE = timedelta(minutes=5)


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class DispatchReport:
    planned: int = 0  # rows recorded by this run's plan
    delivered: int = 0
    duplicates: int = 0  # sent again after a stopped worker: the adapter had it already
    failed: int = 0
    held: dict[str, int] = field(default_factory=dict)  # rule -> contacts held at send time
    waiting: int = 0
    given_up: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "delivered": self.delivered,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "held": dict(sorted(self.held.items())),
            "waiting": self.waiting,
            "given_up": self.given_up,
        }


async def dispatch(
    engine: Engine,
    policy: Policy,
    cadence: Cadence,
    now: datetime,
    adapters: Mapping[str, ChannelAdapter],
    *,
    retry: RetryRules = DEFAULT_RETRY,
    batch: int = 500,
    plan_first: bool = True,
    lease: timedelta = DEFAULT_LEASE,
    clock: Callable[[], datetime] = wall_clock,
    chat_link: str | None = None,
) -> DispatchReport:
    """One run of the dispatcher at ``now`` (aware). ``plan_first=False`` only works the queue.

    Each batch is claimed for ``lease`` of real time (``clock``, not ``now``: a run at a fixed
    ``--at`` clock still leases in real time, so workers at different clocks agree on whose a
    row is). Make the lease longer than a batch takes: a worker whose lease ran out while it was
    still sending shares its contacts with the next claimer (the adapter still delivers each key
    once). Each text carries its reminder reference (``chat_link``: the web chat's address for
    the link)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    report = DispatchReport()
    if plan_first:
        plan = await build_plan(engine, policy, cadence, now)
        async with engine.connect() as conn:
            loan_ids = await q.loan_ids_by_number(conn, (c.loan_number for c in plan.contacts))
        report.planned = await record_plan(engine, plan, loan_ids, now)
    sessions = create_session_factory(engine)
    after_id = 0
    while True:
        owner = uuid.uuid4().hex  # one per claim: the rows leased to it are exactly this batch
        leased_at = clock()
        async with sessions() as session, session.begin():
            rows = await q.claim_due(
                session, now, owner=owner, leased_at=leased_at, lease_until=leased_at + lease, after_id=after_id,
                limit=batch,
            )  # fmt: skip
        if not rows:
            return report
        after_id = rows[-1][0]
        try:
            await _work_batch(engine, sessions, policy, cadence, now, adapters, retry, rows, report, chat_link)
        finally:  # done, or stopping cleanly: the rows are free again (a killed worker's lease runs out)
            async with sessions() as session, session.begin():
                await q.release_leases(session, owner)


async def _work_batch(
    engine: Engine,
    sessions: Any,
    policy: Policy,
    cadence: Cadence,
    now: datetime,
    adapters: Mapping[str, ChannelAdapter],
    retry: RetryRules,
    rows: list[tuple[Any, ...]],
    report: DispatchReport,
    chat_link: str | None = None,
) -> None:
    fresh = await build_plan(engine, policy, cadence, now, loan_ids={r[3] for r in rows}, delivered_only=True)
    fresh_contacts = {c.idempotency_key: c for c in fresh.contacts}
    fresh_held = {h.idempotency_key: h for h in fresh.held}
    to_send: list[tuple[tuple[Any, ...], OutboundMessage]] = []
    holds: list[tuple[tuple[Any, ...], Decision]] = []
    for row in rows:
        _id, key, borrower_id, _loan_id, loan_number, channel, status, attempts, after, before, last, failure = row
        last_at = _aware(last) if last is not None else None
        queued = QueuedContact(key, channel, status, attempts, _aware(after), _aware(before), last_at, failure)
        decision = decide(queued, fresh_contacts, fresh_held, now, retry)
        if decision.action == "send" and channel not in adapters:
            decision = Decision("hold", "no_adapter")
        if decision.action == "send":
            c = fresh_contacts[key]
            text = with_link(c.text, reminder_ref(row[0]), chat_link)
            to_send.append((row, OutboundMessage(key, borrower_id, loan_number, channel, c.reason, c.language, text)))
        elif decision.action == "wait":
            report.waiting += 1
        else:
            holds.append((row, decision))
    # Holds and give-ups: recorded once (not again while the reason stays the same).
    audits: list[dict[str, Any]] = []
    async with sessions() as session, session.begin():
        for row, decision in holds:
            _id, key, borrower_id, loan_id, _n, channel, status, attempts, *_rest, failure = row
            if decision.action == "give_up":
                report.given_up += 1
                text = f"given up after {attempts} attempts: {failure or ''}"[:500]
                action = "contact_given_up"
            else:
                report.held[decision.rule] = report.held.get(decision.rule, 0) + 1
                text = f"held: {decision.rule}"
                action = "contact_held"
            if failure == text or (decision.action == "give_up" and (failure or "").startswith("given up")):
                continue
            await q.mark_failed(session, key, now, text)
            audits.append(_audit(now, action, borrower_id, loan_id, key, channel, failure=text))
        await repo.add_audits(session, audits)
    if not to_send:
        return
    # Attempted, committed before anything goes out: a stop after this point is visible.
    async with sessions() as session, session.begin():
        await q.mark_attempted_many(session, [msg.idempotency_key for _, msg in to_send], now)
        await repo.add_audits(
            session,
            [_audit(now, "contact_attempted", r[2], r[3], r[1], r[5], attempt=r[7] + 1) for r, _ in to_send],
        )
    by_channel: dict[str, list[OutboundMessage]] = defaultdict(list)
    for _, msg in to_send:
        by_channel[msg.channel].append(msg)
    results: dict[str, SendResult] = {}
    # a fixed order: what a stopped worker left undone does not depend on the plan's order
    for channel, messages in sorted(by_channel.items()):
        try:
            for result in await adapters[channel].send(messages, now):
                results[result.idempotency_key] = result
        except Exception as exc:  # noqa: BLE001 - an adapter's fault fails its batch; the next run retries it
            for msg in messages:
                results[msg.idempotency_key] = SendResult(msg.idempotency_key, False, f"{type(exc).__name__}: {exc}")
    delivered = [k for k, r in results.items() if r.delivered]
    audits = []
    async with sessions() as session, session.begin():
        newly = await q.mark_delivered_many(session, delivered, now)
        for row, msg in to_send:
            result = results.get(msg.idempotency_key) or SendResult(msg.idempotency_key, False, "no result")
            if result.delivered:
                if msg.idempotency_key not in newly:
                    continue
                report.delivered += 1
                report.duplicates += result.duplicate
                audits.append(
                    _audit(now, "contact_delivered", row[2], row[3], row[1], row[5], duplicate=result.duplicate)
                )
            else:
                report.failed += 1
                await q.mark_failed(session, msg.idempotency_key, now, result.error or "failed")
                audits.append(_audit(now, "contact_failed", row[2], row[3], row[1], row[5], failure=result.error))
        await repo.add_audits(session, audits)


def chat_addresses(database_url: str) -> Callable[[str, Sequence[str]], Awaitable[Mapping[str, str]]]:
    """The chat adapters' address book: the borrowers' bound addresses on a channel, read per
    batch (a binding removed a minute ago is not used)."""

    async def lookup(channel: str, borrower_ids: Sequence[str]) -> Mapping[str, str]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as session:
                return await q.channel_addresses(session, channel, borrower_ids)
        finally:
            await engine.dispose()

    return lookup


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _audit(
    now: datetime, action: str, borrower_id: str, loan_id: str, key: str, channel: str, **detail: Any
) -> dict[str, Any]:
    """One audit entry of the dispatcher (never an address or a text), for repo.add_audits."""
    return {
        "at": now,
        "actor": ACTOR,
        "action": action,
        "borrower_id": borrower_id,
        "loan_id": loan_id,
        "detail": {"idempotency_key": key, "channel": channel, **detail},
    }


__all__ = ["DispatchReport", "chat_addresses", "dispatch"]
