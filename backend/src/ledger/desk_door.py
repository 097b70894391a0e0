"""The one door through which the conversation gateway (``backend/src/gateway``) enters the ledger.

In-process, on the ledger's own database: the gateway's tables sit beside the ledger's under one
migration history, the desk queue reads a summary for every line it lists, and the chat path
never needs the ledger, so an HTTP round trip per line would buy nothing but a failure mode.
Balances are still computed only by the ledger's derivation (``derive_status`` and the views the
API uses); the gateway never sees a ledger row.

The interface is one an HTTP client could implement: plain values in, plain dicts out, no ORM
object and no session crossing it (the gateway hands over its session factory once, at
construction). A conversation is named by ``conversation_ids``: the names the ledger may know it
by, most recent first (the gateway passes Rasa's current sender id, then its conversation id),
so the door needs nothing of the gateway.

What it offers:

- a read model: the account panel, a queue line's summary, the facts the contact rules need,
  the verification state;
- agent actions: audit entries for agent and desk-account actions, a verification by other
  means (clears the lock);
- what the gateway shares with the ledger: the engine and session factory, the naming
  convention and column types of its own tables (one migration history), the default database
  URL and the methods of manual verification (those the ledger's API accepts).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from huanxin_redaction import mask_identity_numbers

from .bot_texts import bot_texts
from .cadence_file import load_cadence, parse_cadence
from .db import analytics as analytics_db
from .db import desk_queries as q
from .db import outbound_report_queries as outbound_q
from .db import repositories as repo
from .db.desk_queries import SessionFactory
from .db.models import NAMING_CONVENTION, ContactRecord, new_id
from .db.session import create_engine, create_session_factory
from .db.types import SerialId, UTCDateTime
from .domain import (
    conversation_facts,
    facts_table,
    funnel,
    insights,
    insights_tables,
    ledger_outcomes,
    nlu_health,
    outbound_report,
    review,
)
from .domain.account import arrangement_state, derive_status
from .domain.contact_plan import Cadence
from .domain.errors import LedgerError, PolicyError
from .domain.errors import NotFound as LedgerNotFound
from .domain.outbound import stop_reply_language, stop_word
from .domain.policy import Policy
from .domain.promises import promise_state
from .domain.relief import PLAN_TYPES
from .domain.reminder_refs import REF as REMINDER_REF
from .domain.reminder_refs import contact_id_of, reminder_ref
from .policy_file import DEFAULT_POLICY_FILE, load_policy, parse_policy
from .scenario_file import load_scenarios
from .services import borrowers, desk, loans, relief, traces
from .services.contact_plan import build_plan
from .services.context import Ledger, utc_now
from .services.lab import LabInputs
from .services.lab import simulate as simulate_lab
from .services.policy_apply import apply_policy, sha256_bytes
from .services.records import LoanRecords, arrangement_record, load_records
from .services.verification import Caller
from .services.views import (
    local_time,
    money,
    panel_arrangement,
    panel_payment,
    panel_promise,
    panel_schedule,
    status_view,
    trace_view,
)
from .settings import DEFAULT_DATABASE_URL, REPO_ROOT, Settings
from .web.schemas import ManualVerificationMethod

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_POLICY_LAB_DIR",
    "DeskActionRefused",
    "MANUAL_VERIFICATION_METHODS",
    "NAMING_CONVENTION",
    "INSIGHT_DEFINITIONS",
    "INSIGHT_FACTS_HEADER",
    "INSIGHT_GROUPINGS",
    "INSIGHT_INTENTS",
    "INSIGHT_OUTCOMES",
    "INSIGHT_STEPS",
    "AnnotationRefused",
    "DeskDoor",
    "PLAN_TYPES",
    "REMINDER_REF",
    "SerialId",
    "SessionFactory",
    "UTCDateTime",
    "create_engine",
    "create_session_factory",
    "new_id",
]

PACKAGED_POLICY = Path(__file__).resolve().parent / DEFAULT_POLICY_FILE
# Where the policy lab page keeps its runs unless GATEWAY_POLICY_LAB_DIR says otherwise.
DEFAULT_POLICY_LAB_DIR = REPO_ROOT / "var" / "policy-lab"

# The insights overview: its groupings and each figure's definition (ledger/domain/insights.py).
INSIGHT_GROUPINGS: tuple[str, ...] = insights.GROUPINGS
INSIGHT_DEFINITIONS = insights.DEFINITIONS
INSIGHT_INTENTS: tuple[str, ...] = review.INTENTS
INSIGHT_OUTCOMES: tuple[str, ...] = conversation_facts.OUTCOMES
INSIGHT_STEPS: tuple[str, ...] = conversation_facts.FUNNEL
INSIGHT_FACTS_HEADER: tuple[str, ...] = facts_table.COLUMNS
INSIGHT_TABLES: tuple[str, ...] = insights_tables.TABLES
INSIGHT_REVIEW_HEADER: tuple[str, ...] = insights_tables.REVIEW_COLUMNS
# The facts columns the CSV export reads (not the intents: the table has none of their detail).
CSV_FACTS = tuple(
    dict.fromkeys(
        [c for c in facts_table.COLUMNS if c in analytics_db.FACTS_COLUMNS] + ["languages", "started_at", "ended_at"]
    )
)


class AnnotationRefused(ValueError):
    """An annotation the ledger does not store; the message says why."""


# How an agent may have verified a borrower who could not (or may not) verify with the bot: the
# values the ledger's API accepts for a manual verification, so the desk and the API agree.
MANUAL_VERIFICATION_METHODS: tuple[str, ...] = get_args(ManualVerificationMethod)

PANEL_STATUS_FIELDS = (
    "days_past_due",
    "bucket",
    "overdue",
    "amount_to_bring_current",
    "payoff_amount",
    "next_due",
    "open_dispute",
)
VERIFICATION_FIELDS = ("verified", "locked", "locked_until", "attempts_left", "last_manual_verification")


def _store_candidate(out_dir: Path, text: str, live_file: Path) -> tuple[str, str]:
    """Write the uploaded candidate into the run's directory; the sha256 of it and of the live file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    (out_dir / "candidate.yaml").write_bytes(data)
    return sha256_bytes(data), sha256_bytes(live_file.read_bytes())


class DeskActionRefused(Exception):
    """The ledger's rules refuse an agent's action: ``code`` (promise_rejected, not_found...),
    the ledger's message and its details (``reason``, ``latest_date``...)."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extra = extra


def _loan_line(full: Mapping[str, Any]) -> dict[str, Any]:
    """A loan's line on the hand-off card, from its status view: figures and open items, no ids."""
    promise = full["open_promise"]
    arrangement = full["active_arrangement"]
    return {
        "loan_number": full["loan_number"],
        "days_past_due": full["days_past_due"],
        "bucket": full["bucket"],
        "overdue_total": full["overdue"]["total"],
        "next_due": full["next_due"],
        "open_dispute": full["open_dispute"],
        "open_promise": None
        if promise is None
        else {k: promise[k] for k in ("amount", "promised_date", "paid_toward")},
        "active_arrangement": None
        if arrangement is None
        else {k: arrangement[k] for k in ("plan_type", "total_to_repay", "state")},
    }


@dataclass(frozen=True)
class DeskDoor:
    """The desk's reads and agent actions, derived and recorded by the ledger's own code.

    Without a policy (an audit-only door, as the desk-account CLI uses) the panel has no status
    or bucket and the verification state and manual verification answer None."""

    sessions: SessionFactory
    policy: Policy | None = None
    timezone: str = "Asia/Shanghai"
    clock: Callable[[], datetime] = field(default=utc_now)
    cadence: Cadence | None = None  # the contact cadence (None: the packaged default, loaded when needed)

    @classmethod
    def from_env(cls, sessions: SessionFactory, clock: Callable[[], datetime] = utc_now) -> DeskDoor:
        """The door with the ledger's policy and cadence files and business time zone, as the
        ledger has them (a bad cadence file stops the gateway's start-up too, naming the key)."""
        settings = Settings.from_env()
        policy = load_policy(settings.policy_file)
        return cls(sessions, policy, settings.timezone, clock, load_cadence(settings.cadence_file, policy))

    def _today(self) -> date:
        """Today in the ledger's time zone: the day a status is derived as of."""
        return self.clock().astimezone(ZoneInfo(self.timezone)).date()

    def _ledger(self, policy: Policy) -> Ledger:
        """The ledger's service context for the desk services (which never hash an ID, so no salt)."""
        return Ledger(self.sessions, policy, id_hash_salt="", timezone=self.timezone, clock=self.clock)

    # ---- read model ------------------------------------------------------------------------

    async def _facts(
        self, since: date, until: date, channel: str | None, columns: tuple[str, ...], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Facts rows of the conversations that started from `since` to `until` (days in the
        ledger's time zone), their `started_at` in that zone."""
        tz = ZoneInfo(self.timezone)
        start = datetime.combine(since, time(), tz)
        end = datetime.combine(until + timedelta(days=1), time(), tz)
        async with self.sessions() as s:
            rows = await analytics_db.facts_started_between(s, start, end, channel, columns, limit)
        for row in rows:
            row["started_at"] = row["started_at"].astimezone(tz)
        return rows

    async def insights_overview(
        self, since: date, until: date, language: str | None, channel: str | None, group: str
    ) -> dict[str, Any]:
        """The overview figures of the conversations that started from `since` to `until`
        (days in the ledger's time zone), per period, language and channel (the analytics
        rollups, docs/insights.md). Aggregates only: no conversation, text or identity crosses."""
        async with self.sessions() as s:
            tallies = await analytics_db.overview_cells(s, since, until, language, channel)
        return insights.overview_of_tallies(tallies, insights.Filters(since, until, language, channel, group))

    async def insights_funnel(
        self, since: date, until: date, language: str | None, channel: str | None
    ) -> dict[str, Any]:
        """The funnel of those conversations, in total and per language and channel."""
        async with self.sessions() as s:
            cells = await analytics_db.funnel_cells(s, since, until, language, channel)
        filters = insights.Filters(since, until, language, channel, "all")
        return {"filters": insights.filters_view(filters), **funnel.funnel_of_selection(cells, bot_texts())}

    async def insights_nlu_health(
        self, since: date, until: date, language: str | None, channel: str | None, below: float
    ) -> dict[str, Any]:
        """NLU health of those conversations: intents, fallbacks, messages below `below`, the
        intents most often followed by a sign of misunderstanding. `below` has at most two
        decimals (the rollup counts confidences per hundredth)."""
        tz = ZoneInfo(self.timezone)
        start = datetime.combine(since, time(), tz)
        end = datetime.combine(until + timedelta(days=1), time(), tz)
        enough = nlu_health.enough_low_confidence(below)
        async with self.sessions() as s:
            cells = await analytics_db.nlu_cells(s, since, until, language, channel, nlu_health.below_pct(below))
            low_rows = await analytics_db.low_confidence_rows(s, start, end, language, channel, below, enough)
        filters = insights.Filters(since, until, language, channel, "all")
        return nlu_health.nlu_health_of_cells(cells, low_rows, filters, below)

    async def insights_facts_table(
        self, since: date, until: date, language: str | None, channel: str | None, limit: int
    ) -> dict[str, Any] | None:
        """The facts of those conversations as text (header, rows) for a CSV file; None when the
        period and channel hold more than `limit` conversations."""
        rows = await self._facts(since, until, channel, analytics_db.FACTS_COLUMNS, limit + 1)
        if len(rows) > limit:
            return None
        header, table = facts_table.facts_table(rows, insights.Filters(since, until, language, channel, "all"))
        return {"header": header, "rows": table}

    def _window(self, since: date, until: date) -> tuple[datetime, datetime]:
        """[start, end) of the days `since` to `until` in the ledger's time zone."""
        tz = ZoneInfo(self.timezone)
        return datetime.combine(since, time(), tz), datetime.combine(until + timedelta(days=1), time(), tz)

    async def insights_facts_count(
        self, since: date, until: date, language: str | None, channel: str | None, cap: int
    ) -> int:
        """How many conversations the CSV export of this selection holds, counted no further
        than `cap` + 1."""
        start, end = self._window(since, until)
        async with self.sessions() as s:
            return await analytics_db.count_facts(s, start, end, language, channel, cap)

    async def insights_facts_rows(
        self, since: date, until: date, language: str | None, channel: str | None, chunk: int = 2000
    ) -> AsyncIterator[list[list[str]]]:
        """The CSV export's rows (ledger/domain/facts_table.py), oldest first, `chunk` at a time,
        each chunk read in a short transaction of its own: the export is streamed, never held."""
        tz = ZoneInfo(self.timezone)
        start, end = self._window(since, until)
        filters = insights.Filters(since, until, language, channel, "all")
        after: tuple[datetime, str] | None = None
        while True:
            async with self.sessions() as s:
                rows = await analytics_db.facts_page(s, start, end, language, channel, after, chunk, CSV_FACTS)
            if not rows:
                return
            after = (rows[-1]["started_at"], rows[-1]["conversation_id"])
            for row in rows:
                row["started_at"] = row["started_at"].astimezone(tz)
            yield facts_table.facts_table(rows, filters)[1]
            if len(rows) < chunk:
                return

    async def insights_ledger_outcomes(
        self, since: date, until: date, language: str | None, channel: str | None
    ) -> dict[str, Any] | None:
        """What the borrowers of those conversations did afterwards in the ledger: payments
        within 7 and 30 days, promises and arrangements kept or broken, cure within 30 days, in
        total, by bucket and by plan type (ledger/domain/ledger_outcomes.py); None without a
        policy. Figures only: no borrower, amount of one borrower or conversation crosses."""
        if self.policy is None:
            return None
        policy = self.policy
        tz = ZoneInfo(self.timezone)
        today = self._today()
        rows = insights.selected(
            await self._facts(since, until, channel, analytics_db.LEDGER_JOIN_COLUMNS),
            insights.Filters(since, until, language, channel, "all"),
        )
        followups = []
        loans_of: dict[str, list[LoanRecords]] = {}
        async with self.sessions() as s:
            for row in rows:
                names = [
                    row["conversation_id"],
                    *([row["gateway_conversation_id"]] if row["gateway_conversation_id"] else []),
                ]
                borrower_id = await q.linked_borrower_id(s, names)
                if borrower_id is None:
                    continue
                if borrower_id not in loans_of:
                    loans_of[borrower_id] = [await load_records(s, loan) for loan in await q.loans_of(s, borrower_id)]
                first = row["started_at"].astimezone(tz).date()
                last = (row["ended_at"] or row["started_at"]).astimezone(tz).date()
                followups.append(self._follow_up(row, first, last, loans_of[borrower_id], policy, today))
        outcome = ledger_outcomes.ledger_outcomes(followups, today)
        return {**outcome, "filters": insights.filters_view(insights.Filters(since, until, language, channel, "all")),
                "conversations": len(rows), "linked": len(followups)}  # fmt: skip

    @staticmethod
    def _follow_up(
        row: Mapping[str, Any], first: date, last: date, loans: Sequence[LoanRecords], policy: Policy, today: date
    ) -> ledger_outcomes.FollowUp:
        payments: list[tuple[date, Any]] = []
        promises: list[str] = []
        plans: list[tuple[str, str]] = []
        worst: tuple[int, str] | None = None
        later_dpd: int | None = None
        after = last + timedelta(days=30)
        for records in loans:
            pays = records.payment_records
            payments += [(p.received_on, p.amount) for p in pays]
            for promise in records.promises:
                if first <= promise.made_on <= last:
                    state = promise_state(promise.amount, promise.made_on, promise.promised_date, pays, today,
                                          promise.replaced_on)  # fmt: skip
                    promises.append(state)
            for arrangement in records.arrangements:
                if first <= arrangement.accepted_on <= last:
                    plans.append(
                        (arrangement.plan_type, arrangement_state(arrangement_record(arrangement), pays, today))
                    )
            if last < records.loan.disbursed_on:
                continue
            arrangements = records.arrangement_records
            status = derive_status(records.contract, pays, arrangements, last, policy)
            if worst is None or status.days_past_due > worst[0]:
                worst = (status.days_past_due, status.bucket)
            if after <= today:
                dpd = derive_status(records.contract, pays, arrangements, after, policy).days_past_due
                later_dpd = max(later_dpd or 0, dpd)
        past_due = worst is not None and worst[0] > 0
        return ledger_outcomes.FollowUp(
            conversation_id=str(row["conversation_id"]),
            day=last,
            bucket=worst[1] if worst else None,
            plan_type=row.get("plan_type"),
            payments=tuple(payments),
            promises=tuple(promises),
            arrangements=tuple(plans),
            past_due=past_due,
            cured_by_30=(later_dpd == 0) if past_due and later_dpd is not None else None,
        )

    async def insights_review_list(
        self, since: date, until: date, language: str | None, channel: str | None, **criteria: Any
    ) -> dict[str, Any]:
        """The conversations of the period matching the review filters (ledger/domain/review.py
        ReviewFilters: outcome, escalated, fallback, intent, below, step, reviewed, tag, limit,
        offset or after), newest first, with their review state; `total` counts all that match
        up to review.COUNT_CAP (`total_capped` when there are more); `next` is the `after` of
        the following page."""
        tz = ZoneInfo(self.timezone)
        start = datetime.combine(since, time(), tz)
        end = datetime.combine(until + timedelta(days=1), time(), tz)
        filters = review.ReviewFilters(language=language, channel=channel, **criteria)
        async with self.sessions() as s:
            total, rows = await analytics_db.review_page(s, start, end, filters)
            marks = await analytics_db.review_marks(s, [r["conversation_id"] for r in rows])
        for row in rows:
            row["started_at"] = row["started_at"].astimezone(tz)
        return {
            "total": min(total, review.COUNT_CAP),
            "total_capped": total > review.COUNT_CAP,  # "COUNT_CAP or more"
            "conversations": [review.review_entry(r, marks.get(r["conversation_id"], {})) for r in rows],
            "next": review.page_cursor(rows[-1]) if len(rows) == filters.limit else None,
        }

    async def insights_review_count(
        self, since: date, until: date, language: str | None, channel: str | None, cap: int, **criteria: Any
    ) -> int:
        """How many conversations the review list's CSV of these filters holds, counted no
        further than `cap` + 1."""
        start, end = self._window(since, until)
        filters = review.ReviewFilters(language=language, channel=channel, limit=1, **criteria)
        async with self.sessions() as s:
            return (await analytics_db.review_page(s, start, end, filters, count_cap=cap))[0]

    async def insights_review_rows(
        self, since: date, until: date, language: str | None, channel: str | None, chunk: int = 2000, **criteria: Any
    ) -> AsyncIterator[list[list[str]]]:
        """The review list's lines as CSV rows (insights_tables.REVIEW_COLUMNS), newest first,
        `chunk` at a time by keyset, each page read in a short transaction of its own."""
        tz = ZoneInfo(self.timezone)
        start, end = self._window(since, until)
        after: tuple[datetime, str] | None = None
        while True:
            filters = review.ReviewFilters(language=language, channel=channel, limit=chunk, after=after, **criteria)
            async with self.sessions() as s:
                _, rows = await analytics_db.review_page(s, start, end, filters, counted=False)
                marks = await analytics_db.review_marks(s, [r["conversation_id"] for r in rows])
            if not rows:
                return
            after = (rows[-1]["started_at"], rows[-1]["conversation_id"])
            for row in rows:
                row["started_at"] = row["started_at"].astimezone(tz)
            yield insights_tables.review_rows(review.review_entry(r, marks.get(r["conversation_id"], {})) for r in rows)
            if len(rows) < chunk:
                return

    async def insights_table(
        self,
        table: str,
        since: date,
        until: date,
        language: str | None,
        channel: str | None,
        group: str = "day",
        below: float = 0.5,
    ) -> tuple[list[str], list[list[str]]] | None:
        """One of the page's tables (insights_tables.TABLES) as text for a CSV file, from the
        same figures as the page; None for the ledger table without the ledger's policy."""
        period: dict[str, Any] = {"since": since, "until": until, "language": language, "channel": channel}
        records: list[dict[str, Any]]
        if table == "overview":
            records = insights_tables.overview_records(await self.insights_overview(**period, group=group))
        elif table == "funnel":
            records = insights_tables.funnel_records(await self.insights_funnel(**period))
        elif table.startswith("nlu_"):
            data = await self.insights_nlu_health(**period, below=below)
            records = insights_tables.nlu_records(data, table.removeprefix("nlu_"))
        elif table == "ledger":
            outcomes = await self.insights_ledger_outcomes(**period)
            if outcomes is None:
                return None
            records = insights_tables.ledger_records(outcomes)
        else:
            raise ValueError(f"no such table: {table}")
        return insights_tables.table(records, insights_tables.LEADING[table])

    async def insights_transcript(self, conversation_id: str) -> dict[str, Any] | None:
        """The conversation as an analyst reads it (identity answers shown as such, identity
        numbers masked), with its facts and annotations; None when the store has no such one."""
        async with self.sessions() as s:
            facts = await analytics_db.facts_of(s, conversation_id)
            if facts is None:
                return None
            events = await analytics_db.events_of(s, conversation_id)
            notes = [review.Annotation(**a) for a in await analytics_db.list_annotations(s, conversation_id)]
        view = review.transcript(conversation_id, events, notes)
        shown = ("channel", "languages", "started_at", "ended_at", "turns", "verification", "furthest_step",
                 "escalated", "escalation_reason", "handled_by_agent", "outcome", "outcomes", "plan_type",
                 "agent_outcome", "csat", "fallbacks", "low_confidence")  # fmt: skip
        view["facts"] = {k: facts[k].isoformat() if isinstance(facts[k], datetime) else facts[k] for k in shown}
        return view

    async def insights_annotate(
        self,
        conversation_id: str,
        annotator: str,
        event_id: str | None = None,
        intent: str | None = None,
        tag: str | None = None,
        note: str | None = None,
        reviewed: bool | None = None,
    ) -> dict[str, Any] | None:
        """Store an analyst's annotation (the note's identity numbers masked); None when the
        conversation is unknown. AnnotationRefused when it cannot be stored: a bad value, an
        intent on no message, or a message that is not the borrower's in this conversation."""
        problem = review.annotation_problem(intent, tag, note, reviewed)
        if problem:
            raise AnnotationRefused(problem)
        if intent is not None and event_id is None:
            raise AnnotationRefused("an intent labels a borrower message: give its event_id")
        async with self.sessions() as s, s.begin():
            if await analytics_db.facts_of(s, conversation_id) is None:
                return None
            if event_id is not None:
                found = await analytics_db.stored_event(s, event_id)
                if found is None or found[0] != conversation_id or found[1].get("event") != "user":
                    raise AnnotationRefused("event_id must be a borrower message of this conversation")
            stored: dict[str, Any] = {
                "conversation_id": conversation_id,
                "event_id": event_id,
                "intent": intent,
                "tag": tag,
                "note": mask_identity_numbers(note) if note else None,
                "reviewed": bool(reviewed),
                "annotator": annotator[:64],
                "created_at": self.clock(),
            }
            await analytics_db.add_annotation(s, **stored)
        return review.Annotation(**stored).view()

    async def insights_annotations_export(self, language: str, known: Collection[str] = frozenset()) -> dict[str, Any]:
        """The corrected intents in `language` as Rasa NLU training data (YAML text in the
        bot's layout), and how many corrections were left out and why; `known`: texts
        (review.normalised) of the training data and its evaluation sets, left out too."""
        async with self.sessions() as s:
            corrections = await analytics_db.intent_corrections(s)
            conversations = sorted({c["conversation_id"] for c, _ in corrections})
            messages: dict[str, dict[str, Any]] = {}
            for conversation in conversations:
                view = review.transcript(conversation, await analytics_db.events_of(s, conversation))
                first = next((m["language"] for m in view["messages"] if m.get("language")), None)
                for m in view["messages"]:
                    if m["kind"] == "user":
                        messages[m["event_id"]] = {**m, "language": m["language"] or first}
        examples = []
        for correction, event in corrections:
            message = messages.get(str(event.get("huanxin_event_id")))
            if message is None:
                continue
            examples.append(
                {
                    "text": message["text"],
                    "intent": correction["intent"],
                    "language": message["language"],
                    "identity_answer": message["identity_answer"],
                }
            )
        chosen = review.exportable_examples(examples, known)
        left_out = ", ".join(f"{k} {v}" for k, v in chosen["left_out"].items())
        comment = f"Reviewed by analysts on the insights page; left out: {left_out}."
        return {
            "yaml": review.rasa_nlu_yaml(chosen["examples"][language], comment),
            "examples": sum(len(v) for v in chosen["examples"][language].values()),
            "left_out": chosen["left_out"],
        }

    def _zone(self, name: str | None) -> ZoneInfo:
        """The borrower's time zone, or the ledger's when theirs is unset or unknown."""
        try:
            return ZoneInfo(name) if name else ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.timezone)

    async def account_panel(self, conversation_ids: Sequence[str]) -> dict[str, Any] | None:
        """The account of the borrower linked to the conversation (by a verification or an
        escalation), None when unlinked: each loan's status as the API derives it, as of today in
        the ledger's time zone, with its schedule (due, paid, outstanding per instalment),
        payments, every arrangement, promises, recent hardship facts, open offers, disputes and
        payment traces. No internal id: loans go by number, cases by case number. Instants are in
        the borrower's time zone (``timezone``, with their offset); calendar days stay days."""
        async with self.sessions() as s:
            borrower = await q.linked_borrower(s, conversation_ids)
            if borrower is None:
                return None
            today = self._today()
            zone = self._zone(borrower.timezone)
            pref = await q.contact_preference(s, borrower.id)
            loan_views = []
            worst_bucket = None
            for loan in await q.loans_of(s, borrower.id):
                records = await load_records(s, loan)
                payments = records.payment_records
                view: dict[str, Any] = {
                    "loan_number": loan.loan_number,
                    "product": loan.product,
                    "currency": loan.currency,
                    "schedule": [],
                    "active_arrangement": None,
                }
                if self.policy is not None and today >= loan.disbursed_on:
                    status = derive_status(records.contract, payments, records.arrangement_records, today, self.policy)
                    full = status_view(records, status, today)
                    view.update({k: full[k] for k in PANEL_STATUS_FIELDS})
                    view["schedule"] = panel_schedule(status)
                    active = full["active_arrangement"]
                    if active is not None:
                        view["active_arrangement"] = {k: active[k] for k in ("plan_type", "state", "total_to_repay")}
                    if worst_bucket is None or status.days_past_due > worst_bucket[0]:
                        worst_bucket = (status.days_past_due, status.bucket)
                view["payments"] = [
                    panel_payment(p, zone)
                    for p in sorted(records.payments, key=lambda p: (p.received_on, p.created_at), reverse=True)
                ]
                view["arrangements"] = [
                    panel_arrangement(a, payments, today, zone)
                    for a in sorted(records.arrangements, key=lambda a: a.accepted_at, reverse=True)
                ]
                view["promises"] = [
                    panel_promise(p, payments, today)
                    for p in sorted(records.promises, key=lambda p: p.created_at, reverse=True)
                ]
                view["hardship_cases"] = [
                    {
                        "reason": h.reason,
                        "duration": h.duration,
                        "monthly_income": money(h.monthly_income),
                        "essential_expenses": money(h.essential_expenses),
                        "other_debt_payments": money(h.other_debt_payments),
                        "created_at": local_time(h.created_at, zone),
                    }
                    for h in await q.recent_hardship_cases(s, loan.id)
                ]
                view["offers"] = [
                    {
                        "plan_type": o.plan_type,
                        "expires_at": local_time(o.expires_at, zone),
                        "payment_amount": o.payload.get("payment_amount"),
                        "total_to_repay": o.payload.get("total_to_repay"),
                    }
                    for o in await q.open_offers(s, loan.id)
                ]
                view["disputes"] = [
                    {
                        "case_number": d.case_number,
                        "reason": d.reason,
                        "status": d.status,
                        "reply_due_by": d.reply_due_by.isoformat(),
                        "withdrawn_at": local_time(d.withdrawn_at, zone),
                    }
                    for d in await q.disputes_of(s, loan.id)
                ]
                view["payment_traces"] = [
                    {k: v for k, v in trace_view(t, loan.loan_number).items() if k not in ("trace_id", "loan_number")}
                    for t in await q.payment_traces_of(s, loan.id)
                ]
                loan_views.append(view)
            return {
                "borrower_name": borrower.name,
                "language": borrower.language,
                "timezone": zone.key,
                "as_of": today.isoformat(),
                "bucket": worst_bucket[1] if worst_bucket else None,
                "contact_preferences": {
                    "stop_all": pref.stop_all if pref else False,
                    "opted_out_channels": list(pref.opted_out_channels) if pref else [],
                },
                "loans": loan_views,
            }

    async def handoff_facts(self, conversation_ids: Sequence[str]) -> dict[str, Any]:
        """What the hand-off card shows from the ledger: the newest escalation's case number,
        reason and summary (masked again on the way out: a phone or an ID number never crosses),
        the linked borrower's language and stop-contact flag, and one line per loan (DPD, bucket,
        overdue total, next due, open dispute / promise / arrangement, no ids)."""
        async with self.sessions() as s:
            escalation = await q.latest_escalation(s, conversation_ids)
            borrower = await q.linked_borrower(s, conversation_ids)
            facts: dict[str, Any] = {
                "case_number": escalation.case_number if escalation else None,
                "ledger_reason": escalation.reason if escalation else None,
                "summary": mask_identity_numbers(escalation.summary) if escalation else None,
                "borrower_linked": borrower is not None,
                "borrower_name": borrower.name if borrower else None,
                "borrower_language": borrower.language if borrower else None,
                "stop_contact": False,
                "loans": [],
            }
            if borrower is None:
                return facts
            pref = await q.contact_preference(s, borrower.id)
            facts["stop_contact"] = bool(pref and pref.stop_all)
            today = self._today()
            for loan in await q.loans_of(s, borrower.id):
                if self.policy is None or today < loan.disbursed_on:
                    continue
                records = await load_records(s, loan)
                status = derive_status(
                    records.contract, records.payment_records, records.arrangement_records, today, self.policy
                )
                facts["loans"].append(_loan_line(status_view(records, status, today)))
            return facts

    def bucket_names(self) -> tuple[str, ...]:
        """The policy's delinquency buckets in order (none without a policy)."""
        return tuple(b.name for b in self.policy.buckets) if self.policy is not None else ()

    async def queue_summary(self, conversation_ids: Sequence[str]) -> dict[str, Any] | None:
        """What a queue line shows and its search looks in: the borrower's name, worst bucket and
        loan numbers, and the newest escalation's case number; without the panel's extra reads.
        None when the ledger knows neither a borrower nor an escalation for the conversation."""
        return (await self.queue_summaries({"": conversation_ids}))[""]

    async def queue_summaries(self, conversations: Mapping[str, Sequence[str]]) -> dict[str, dict[str, Any] | None]:
        """``queue_summary`` of many conversations at once (key: the caller's name for one, value:
        the names the ledger may know it by, the first linked wins): the links, case numbers,
        borrowers and loans in a few queries whatever the number of lines, each borrower's loans
        derived once."""
        async with self.sessions() as s:
            all_names = [n for names in conversations.values() for n in names]
            links = await q.linked_borrower_ids(s, all_names)
            cases = await q.latest_case_numbers(s, all_names)
            borrower_of = {
                key: next((links[n] for n in names if n in links), None) for key, names in conversations.items()
            }
            case_of = {key: next((cases[n] for n in names if n in cases), None) for key, names in conversations.items()}
            wanted = sorted({b for b in borrower_of.values() if b is not None})
            borrowers = await q.borrowers_by_id(s, wanted) if wanted else {}
            worst: dict[str, tuple[int, str]] = {}
            loan_numbers: dict[str, list[str]] = {}
            today = self._today()
            for loan in await q.loans_of_borrowers(s, wanted) if wanted else ():
                loan_numbers.setdefault(loan.borrower_id, []).append(loan.loan_number)
                if self.policy is None or today < loan.disbursed_on:
                    continue
                records = await load_records(s, loan)
                status = derive_status(
                    records.contract, records.payment_records, records.arrangement_records, today, self.policy
                )
                best = worst.get(loan.borrower_id)
                if best is None or status.days_past_due > best[0]:
                    worst[loan.borrower_id] = (status.days_past_due, status.bucket)
            out: dict[str, dict[str, Any] | None] = {}
            for key, borrower_id in borrower_of.items():
                borrower = borrowers.get(borrower_id) if borrower_id else None
                if borrower is None:
                    out[key] = (
                        {"borrower_name": None, "bucket": None, "case_number": case_of[key], "loan_numbers": []}
                        if case_of[key]
                        else None
                    )
                    continue
                found = worst.get(borrower.id)
                out[key] = {
                    "borrower_name": borrower.name,
                    "bucket": found[1] if found else None,
                    "case_number": case_of[key],
                    "loan_numbers": loan_numbers.get(borrower.id, []),
                }
            return out

    async def contact_facts(self, conversation_ids: Sequence[str]) -> dict[str, Any] | None:
        """What the contact rules need about the linked borrower (None when unlinked): cease-contact
        (``stop_all``), opted-out channels, time zone, an open dispute on any loan, and the
        policy's contact window (``window_start`` / ``window_end``, "HH:MM")."""
        async with self.sessions() as s:
            borrower = await q.linked_borrower(s, conversation_ids)
            if borrower is None:
                return None
            pref = await q.contact_preference(s, borrower.id)
            open_dispute = await q.has_open_dispute(s, borrower.id)
            facts = {
                "stop_all": bool(pref and pref.stop_all),
                "opted_out_channels": list(pref.opted_out_channels) if pref else [],
                "timezone": borrower.timezone or self.timezone,
                "open_dispute": open_dispute,
            }
            if self.policy is not None:  # the policy's contact window, in the borrower's time zone
                window = self.policy.contact
                facts |= {"window_start": f"{window.window_start:%H:%M}", "window_end": f"{window.window_end:%H:%M}"}
            return facts

    async def _verification(self, conversation_ids: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
        """The ledger's verification state of the borrower the conversation verified as or last
        named, under the first of ``conversation_ids`` that names one, with that name; None
        without a policy (it holds the number of attempts)."""
        if self.policy is None:
            return None
        for conversation_id in conversation_ids:
            state = await desk.conversation_verification_state(
                self._ledger(self.policy), conversation_id=conversation_id
            )
            if state["borrower_id"] is not None:
                return conversation_id, state
        return None

    async def verification_state(self, conversation_ids: Sequence[str]) -> dict[str, Any] | None:
        """What the desk shows of the verification: verified, locked (until), attempts left, the
        last manual verification; None when no borrower is named yet (or there is no policy)."""
        found = await self._verification(conversation_ids)
        if found is None:
            return None
        _, state = found
        return {k: state[k] for k in VERIFICATION_FIELDS}

    async def verified_borrower_conversations(self, conversation_ids: Sequence[str]) -> dict[str, Any] | None:
        """The conversations of the borrower verified in this conversation (docs/agent-desk.md,
        earlier conversations): ``{"borrower_ref", "conversation_ids"}``, the names of every
        conversation that borrower verified in (this one too, expired sessions included), newest
        first; ``borrower_ref`` is an opaque reference (no id, no identity data). None when nobody
        is verified here now: a borrower named by an escalation or a failed attempt alone is not
        known to be them, and no other borrower's conversations are ever given."""
        found = await self._verification(conversation_ids)
        if found is None or not found[1]["verified"]:
            return None
        borrower_id = found[1]["borrower_id"]
        async with self.sessions() as s:
            names = await q.conversations_verified_as(s, borrower_id)
        ref = hashlib.sha256(f"huanxin-borrower:{borrower_id}".encode()).hexdigest()[:16]
        return {"borrower_ref": ref, "conversation_ids": names}

    # ---- agent actions -----------------------------------------------------------------------

    async def record_agent_action(
        self, agent: str, action: str, conversation_id: str, conversation_ids: Sequence[str], detail: Mapping[str, Any]
    ) -> None:
        """Append an agent's action on a conversation to the audit log: actor ``agent:<username>``,
        the gateway's ``conversation_id`` in the detail, the borrower when one is linked."""
        async with self.sessions() as s, s.begin():
            borrower_id = await q.linked_borrower_id(s, conversation_ids)
            await repo.add_audit(
                s,
                at=self.clock(),
                actor=f"agent:{agent}",
                action=action,
                borrower_id=borrower_id,
                detail={"conversation_id": conversation_id, **detail},
            )

    async def compliance_stops(self, since: datetime, limit: int = 10_000) -> dict[str, Any]:
        """Agent replies the compliance guard stopped since ``since`` (audit ``desk.reply_stopped``):
        counts by agent and by category, for supervisors. Never a message's text (none is kept)."""
        async with self.sessions() as s:
            entries = await q.audit_entries(s, "desk.reply_stopped", since, limit)
        by_agent: dict[str, dict[str, int]] = {}
        for entry in entries:
            agent = entry.actor.removeprefix("agent:")
            counts = by_agent.setdefault(agent, {})
            for finding in (entry.detail or {}).get("findings") or []:
                category = str(finding.get("category"))
                counts[category] = counts.get(category, 0) + 1
        return {"since": since.isoformat(), "stopped": len(entries), "by_agent": by_agent}

    async def record_account_action(self, actor: str, action: str, detail: Mapping[str, Any]) -> None:
        """Append a desk-account change (no conversation) to the audit log, with its actor as given
        (``cli:<os user>``, ``gateway``) and the agent concerned in the detail."""
        async with self.sessions() as s, s.begin():
            await repo.add_audit(s, at=self.clock(), actor=actor, action=action, detail=dict(detail))

    async def record_manual_verification(
        self, conversation_ids: Sequence[str], agent: str, method: str, note: str | None
    ) -> dict[str, Any] | None:
        """Record that the agent verified the conversation's borrower by other means (clears the
        lock, audited as the agent); None when the conversation names no borrower."""
        found = await self._verification(conversation_ids)
        if found is None or self.policy is None:
            return None
        ledger_conversation, state = found
        result = await desk.record_manual_verification(
            self._ledger(self.policy),
            borrower_id=state["borrower_id"],
            agent=agent,
            method=method,
            note=note,
            conversation_id=ledger_conversation,
            client="desk",
        )
        return {k: result[k] for k in ("method", "lock_cleared", "verified_at")}

    # ---- the policy lab page (docs/policy-lab.md) -------------------------------------------

    @staticmethod
    def policy_problem(text: str) -> str | None:
        """Why this policy file text would be refused at start-up (the key named), or None."""
        try:
            parse_policy(text)
        except PolicyError as exc:
            return str(exc)
        return None

    async def run_policy_lab(self, database_url: str, text: str, out_dir: Path) -> dict[str, Any]:
        """The policy lab with ``text`` as the candidate against the live policy file, written into
        ``out_dir`` (candidate.yaml beside the reports, for the apply step); its report's summary."""
        settings = Settings.from_env()
        live_file = settings.policy_file or PACKAGED_POLICY
        candidate_sha, live_sha = await asyncio.to_thread(_store_candidate, out_dir, text, live_file)
        inputs = LabInputs(
            current=load_policy(settings.policy_file),
            candidate=parse_policy(text),
            as_of=self._today(),
            profiles=load_scenarios(None, parse_policy(text)),
            current_source=str(live_file),
            candidate_source="the uploaded file",
            scenarios_source="the packaged default scenarios",
            candidate_sha256=candidate_sha,
            current_sha256=live_sha,
        )
        report = await simulate_lab(database_url, inputs, out_dir)
        return {
            "loans": report["loans"],
            "as_of": report["as_of"],
            "loans_gaining_a_plan": report["loans_gaining_a_plan"],
            "loans_losing_a_plan": report["loans_losing_a_plan"],
            "changes": report["changes"]["counts"],
            "candidate_sha256": inputs.candidate_sha256,
        }

    async def apply_lab_candidate(self, database_url: str, out_dir: Path, actor: str) -> dict[str, Any]:
        """Make a lab run's candidate the live policy file (services.policy_apply: refused, with a
        message, unless LEDGER_POLICY_FILE is set and the run is on that file against the live one)."""
        settings = Settings.from_env()
        if settings.policy_file is None:
            return {
                "applied": False,
                "detail": "LEDGER_POLICY_FILE is not set: there is no live policy file to replace",
            }
        try:
            done = await apply_policy(
                database_url, settings.policy_file, out_dir / "candidate.yaml", out_dir / "report.json", actor
            )
        except PolicyError as exc:
            return {"applied": False, "detail": str(exc)}
        return {
            "applied": True,
            "sha256": done.sha256,
            "previous_sha256": done.previous_sha256,
            "detail": "applied; the ledger uses it from its next start",
        }

    async def record_promise(
        self, conversation_ids: Sequence[str], agent: str, loan_number: str, amount: Decimal, promised_date: date
    ) -> dict[str, Any] | None:
        """An agent records the borrower's promise to pay, by the ledger's rules (window, amount,
        open promises, disputes) and audited as the agent (``promise_made``); only for a borrower
        verified in this conversation: None otherwise. DeskActionRefused when a rule refuses it."""
        found = await self._verification(conversation_ids)
        if found is None or self.policy is None or not found[1]["verified"]:
            return None
        ledger_conversation, state = found
        caller = Caller(state["borrower_id"], ledger_conversation, agent=agent)
        try:
            view = await loans.make_promise(
                self._ledger(self.policy),
                token=None,
                conversation_id=ledger_conversation,
                loan_number=loan_number,
                amount=amount,
                promised_date=promised_date,
                desk_caller=caller,
            )
        except LedgerNotFound:
            raise DeskActionRefused("not_found", f"no loan {loan_number} of this borrower") from None
        except LedgerError as exc:
            extra = {
                k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in vars(exc).items()
                if k in ("reason", "latest_date", "earliest_date", "max_days") and v is not None
            }
            raise DeskActionRefused(exc.code, str(exc), **extra) from None
        return {k: v for k, v in view.items() if k not in ("promise_id", "replaces")}

    # ---- plans and payment traces from the desk (docs/agent-desk.md) ------------------------

    async def _verified_caller(self, conversation_ids: Sequence[str], agent: str | None) -> Caller | None:
        """The borrower verified in this conversation as the ledger's caller (the actor: the agent,
        or the borrower when ``agent`` is None); None when nobody is verified here (or no policy)."""
        found = await self._verification(conversation_ids)
        if found is None or self.policy is None or not found[1]["verified"]:
            return None
        ledger_conversation, state = found
        return Caller(state["borrower_id"], ledger_conversation, agent=agent)

    async def evaluate_plans(
        self, conversation_ids: Sequence[str], agent: str, loan_number: str
    ) -> dict[str, Any] | None:
        """The relief plans for one of the verified borrower's loans, evaluated by the ledger's
        engine on the loan's newest hardship case (stored as offers, audited ``offers_made`` as
        the agent); no ids cross. None when nobody is verified in this conversation."""
        caller = await self._verified_caller(conversation_ids, agent)
        if caller is None or self.policy is None:
            return None
        try:
            payload = await relief.evaluate(
                self._ledger(self.policy),
                token=None,
                conversation_id=caller.conversation_id,
                loan_number=loan_number,
                hardship_case_id=None,
                desk_caller=caller,
            )
        except LedgerError as exc:
            raise _refused(exc, loan_number) from None
        plans = []
        for plan in payload["plans"]:
            offer = plan["offer"]
            plans.append(
                {
                    "plan_type": plan["plan_type"],
                    "eligible": plan["eligible"],
                    "reasons": plan["reasons"],
                    "offer": None if offer is None else _offer_figures(offer),
                }
            )
        return {
            "loan_number": payload["loan_number"],
            "as_of": payload["as_of"],
            "needs_human_review": payload["needs_human_review"],
            "plans": plans,
        }

    async def plan_offer(
        self, conversation_ids: Sequence[str], loan_number: str, plan_type: str
    ) -> dict[str, Any] | None:
        """The open offer of ``plan_type`` on the verified borrower's loan, to send as a card: its
        ``offer_id`` and figures. DeskActionRefused when the loan is not theirs (not_found), has an
        open dispute or an active arrangement, or the plan was not offered by the latest evaluation
        (plan_not_offered: evaluate first). None when nobody is verified in this conversation."""
        caller = await self._verified_caller(conversation_ids, None)
        if caller is None or self.policy is None:
            return None
        today, now = self._today(), self.clock()
        async with self.sessions() as s:
            loan = next((x for x in await q.loans_of(s, caller.borrower_id) if x.loan_number == loan_number), None)
            if loan is None:
                raise DeskActionRefused("not_found", f"no loan {loan_number} of this borrower")
            records = await load_records(s, loan)
            if records.dispute is not None:
                raise DeskActionRefused(
                    "dispute_open",
                    f"the loan has an open dispute ({records.dispute.case_number}): no plan until it is answered",
                    reason="dispute_open",
                )
            status = derive_status(
                records.contract, records.payment_records, records.arrangement_records, today, self.policy
            )
            if status.active_arrangement_id is not None:
                raise DeskActionRefused("arrangement_exists", "the loan already has an active arrangement")
            for offer in await q.open_offers(s, loan.id):
                if offer.plan_type == plan_type and offer.expires_at > now:
                    terms = offer.payload
                    return {
                        "offer_id": offer.id,
                        "loan_number": loan_number,
                        "plan_type": plan_type,
                        "expires_at": offer.expires_at.isoformat(),
                        "payment_amount": terms["payment_amount"],
                        "payment_frequency": terms["payment_frequency"],
                        "total_to_repay": terms["total_to_repay"],
                        "waived_total": terms["waived"]["total"],
                        "payment_count": len(terms["schedule"]),
                        "first_payment_date": terms["schedule"][0]["due_date"] if terms["schedule"] else None,
                    }
        raise DeskActionRefused(
            "plan_not_offered", f"{plan_type} is not among the open offers of {loan_number}: evaluate the plans first"
        )

    async def accept_plan(self, conversation_ids: Sequence[str], offer_id: str) -> dict[str, Any] | None:
        """The borrower accepts a plan card: the ledger re-checks the offer (expired, superseded,
        accepted, a dispute, an arrangement) and the plan's eligibility as of today, then makes the
        arrangement (audited ``offer_accepted`` as the borrower). None when nobody is verified in
        this conversation; DeskActionRefused with the ledger's code otherwise."""
        caller = await self._verified_caller(conversation_ids, None)
        if caller is None or self.policy is None:
            return None
        try:
            view = await relief.accept(
                self._ledger(self.policy),
                token=None,
                conversation_id=caller.conversation_id,
                offer_id=offer_id,
                desk_caller=caller,
                recheck=True,
            )
        except LedgerError as exc:
            raise _refused(exc, None) from None
        return {
            k: view[k]
            for k in ("loan_number", "plan_type", "accepted_on", "payment_frequency", "total_to_repay", "state")
        } | {"first_payment_date": view["schedule"][0]["due_date"] if view["schedule"] else None}

    async def record_payment_trace(
        self,
        conversation_ids: Sequence[str],
        agent: str,
        loan_number: str,
        paid_on: date | None,
        amount: Decimal | None,
        reference: str | None,
        channel: str | None,
    ) -> tuple[dict[str, Any], bool] | None:
        """A payment the borrower says was made, traced by the ledger (case TRC-...), recorded by
        the agent (audited ``payment_trace_opened`` as the agent); (trace, created). None when
        nobody is verified in this conversation; DeskActionRefused when the ledger refuses it."""
        caller = await self._verified_caller(conversation_ids, agent)
        if caller is None or self.policy is None:
            return None
        try:
            trace, created = await traces.open_payment_trace(
                self._ledger(self.policy),
                token=None,
                conversation_id=caller.conversation_id,
                loan_number=loan_number,
                paid_on=paid_on,
                amount=amount,
                reference=reference,
                channel=channel,
                desk_caller=caller,
            )
        except LedgerError as exc:
            raise _refused(exc, loan_number) from None
        return {k: v for k, v in trace.items() if k != "trace_id"}, created

    # ---- outbound reminders (docs/outbound.md) -------------------------------------------------

    def _cadence(self) -> Cadence:
        if self.cadence is not None:
            return self.cadence
        return load_cadence(None, self.policy or load_policy(None))

    @staticmethod
    def stop_reply_word(text: str) -> str | None:
        """The STOP word a borrower's message is ("TD", "退订", "STOP", "UNSUBSCRIBE", as the
        ledger reads them, upper case), or None."""
        return stop_word(text)

    async def stop_reply_in_conversation(
        self, conversation_ids: Sequence[str], text: str, reminder: str | None, channel: str = "web"
    ) -> dict[str, Any] | None:
        """A STOP typed in a conversation whose borrower is verified: that borrower is opted out
        of the channel of the reminder the conversation follows (when it is theirs), else of the
        web chat's notices, audited ``contact_opted_out`` as the gateway. ``{channel,
        confirmation}``; None when ``text`` is no STOP or nobody is verified in the conversation."""
        language = stop_reply_language(text)
        if language is None:
            return None
        now = self.clock()
        async with self.sessions() as s, s.begin():
            found = None
            for conversation_id in conversation_ids:
                borrower_id = await repo.borrower_verified_in_conversation(s, conversation_id, now)
                if borrower_id is not None:
                    found = conversation_id, borrower_id
                    break
            if found is None:
                return None
            conversation_id, borrower_id = found
            contact_id = contact_id_of(reminder) if reminder else None
            if contact_id is not None:
                row = await s.get(ContactRecord, contact_id)
                if row is not None and row.borrower_id == borrower_id:
                    channel = row.channel
            via = {"conversation_id": conversation_id}
            await borrowers.opt_out_channel(s, borrower_id, channel, "gateway:stop_reply", via, now)
        return {"channel": channel, "confirmation": self._cadence().stop_confirmation.get(language)}

    async def stop_reply_by_phone(self, channel: str, text: str, phone: str) -> dict[str, Any]:
        """An SMS (or phone) reply received by the gateway's webhook: the ledger's STOP handling
        (services.borrowers.record_stop_reply, the same as POST /stop-replies): ``{stop, channel,
        confirmation}``; a number matching nobody gets the same answer and changes nothing."""
        policy = self.policy or load_policy(None)
        return await borrowers.record_stop_reply(
            self._ledger(policy),
            token=None,
            conversation_id=None,
            channel=channel,
            text=text,
            phone=phone,
            confirmations=self._cadence().stop_confirmation,
            client="gateway",
        )

    async def stop_reply_by_address(self, channel: str, text: str, address: str) -> dict[str, Any]:
        """A reply from a bound chat address (a Telegram chat id) received by the gateway's
        webhook: a STOP opts the borrowers who bound it out of ``channel``, audited
        ``contact_opted_out`` as the gateway. ``{stop, channel, bound, confirmation}``."""
        policy = self.policy or load_policy(None)
        return await borrowers.record_stop_reply_by_address(
            self._ledger(policy),
            channel=channel,
            text=text,
            address=address,
            confirmations=self._cadence().stop_confirmation,
            client="gateway",
        )

    def _engine(self) -> Any:
        return self.sessions.kw["bind"]

    async def outbound_overview(self, answered_refs: Sequence[str], days: int = 7) -> dict[str, Any]:
        """The supervisors' page: today's plan at this moment (counts by reason and channel, held
        by rule), and the contacts planned in the last ``days`` days: sent, delivered, answered
        (a conversation opened from the reminder's link: ``answered_refs``, the gateway's) and what
        followed on the loan within 7 days of delivery (payment, promise, accepted plan)."""
        policy = self.policy or load_policy(None)
        now = self.clock()
        plan = await build_plan(self._engine(), policy, self._cadence(), now)
        since = now - timedelta(days=days)
        async with self.sessions() as s:
            rows = await outbound_q.contacts_since(s, since)
            follow = await outbound_q.follow_ups(s, (r[1] for r in rows if r[6] is not None), since)
        sent = [
            outbound_report.SentContact(loan_id, reason, channel, status, attempts, delivered_at, reminder_ref(cid))
            for cid, loan_id, reason, channel, status, attempts, delivered_at in rows
        ]
        return {
            "at": now.isoformat(),
            "since": since.isoformat(),
            "plan": outbound_report.plan_counts(plan),
            "outcomes": outbound_report.outcomes(sent, answered_refs, follow),
        }

    def cadence_problem(self, text: str) -> str | None:
        """Why this cadence file text would stop ``ledger serve`` (the key named), or None."""
        try:
            parse_cadence(text, self.policy or load_policy(None))
        except PolicyError as exc:
            return str(exc)
        return None

    async def cadence_dry_run(self, text: str) -> dict[str, Any]:
        """A candidate cadence file planned over the portfolio now, beside the live cadence's plan;
        nothing is sent or recorded. A bad file raises PolicyError naming the key (the message
        ``ledger serve`` stops with)."""
        policy = self.policy or load_policy(None)
        candidate = parse_cadence(text, policy)
        now = self.clock()
        live = await build_plan(self._engine(), policy, self._cadence(), now)
        tried = await build_plan(self._engine(), policy, candidate, now)
        return {
            "at": now.isoformat(),
            "live": outbound_report.plan_counts(live),
            "candidate": outbound_report.plan_counts(tried),
        }


def _offer_figures(offer: Mapping[str, Any]) -> dict[str, Any]:
    """What the desk shows of an offer: its figures and comparison with today's schedule, no ids."""
    comparison = offer["comparison"]
    return {
        "payment_amount": offer["payment_amount"],
        "payment_frequency": offer["payment_frequency"],
        "total_to_repay": offer["total_to_repay"],
        "waived_total": offer["waived"]["total"],
        "holiday_months": offer["holiday_months"],
        "payment_count": comparison["payment_count"],
        "first_payment_date": comparison["first_payment_date"],
        "last_payment_date": comparison["last_payment_date"],
        "total_change": comparison["total_change"],
        "expires_at": offer["expires_at"],
    }


def _refused(exc: LedgerError, loan_number: str | None) -> DeskActionRefused:
    """A ledger refusal as the desk's: its code, message and details (reason, dates)."""
    if isinstance(exc, LedgerNotFound):
        what = f"no loan {loan_number} of this borrower" if loan_number and str(exc) == "no such loan" else str(exc)
        return DeskActionRefused("not_found", what)
    extra = {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in vars(exc).items()
        if k in ("reason", "latest_date", "earliest_date", "max_days", "case_number", "reply_due_by") and v is not None
    }
    return DeskActionRefused(exc.code, str(exc), **extra)
