"""The facts of one conversation, derived from its events (pure: no I/O, no clock).

The events are those of the analytics stream (docs/insights.md): Rasa's events as its event
broker publishes them (already redacted) and the gateway's own (`event: "huanxin_gateway"`),
as JSON objects. `derive` takes them in any order and any number of copies: it orders them
(`order_key`) and drops copies (same `huanxin_event_id`), so the facts depend only on the set
of events, never on how they were delivered.

One conversation is one Rasa sender: the gateway starts a new sender after an idle gap, and
that is a new conversation here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# The funnel, in order; `furthest_step` is the last one reached.
FUNNEL = ("started", "verified", "status_explained", "hardship_collected", "offers_shown", "committed")
# Outcomes, strongest first: `outcome` is the first of these the conversation reached.
OUTCOMES = (
    "arrangement",
    "promise",
    "payment_claimed",
    "dispute",
    "stop_contact",
    "complaint",
    "agent_outcome",
    "none",
)
VERIFICATION = ("verified", "lockout", "third_party", "gave_up", "not_asked")
GATEWAY_EVENT = "huanxin_gateway"
# The gateway's `/handback` is a system message, not the borrower's.
SYSTEM_INTENTS = frozenset({"handback"})
FALLBACK_INTENT = "nlu_fallback"
IDLE_ACTIONS = frozenset({"action_listen", "action_session_start", "action_unlikely_intent"})
PLAN_ACCEPTED_KEYS = frozenset({"plan_accepted", "plan_accepted_plain"})
PROMISE_KEYS = frozenset({"promise_ok"})
STOP_CONTACT_KEYS = frozenset({"contact_done_all", "contact_done_stored"})
LOCKOUT_KEYS = frozenset({"verify_locked_handoff"})
# The account's status as the assistant tells it (status_overdue, status_current, ...): said
# only to a verified borrower (the texts come before the action's `verified` slot event, so the
# order of the two within a turn says nothing).
STATUS_PREFIX = "status_"
GOODBYE_INTENTS = frozenset({"goodbye", "thank"})


@dataclass
class ConversationFacts:
    conversation_id: str
    channel: str | None = None
    languages: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    events: int = 0
    turns: int = 0
    verified: bool = False
    verification: str = "not_asked"
    intents: list[dict[str, Any]] = field(default_factory=list)
    low_confidence: float | None = None
    fallbacks: int = 0
    furthest_step: str = "started"
    escalated: bool = False
    escalation_reason: str | None = None
    handled_by_agent: bool = False
    agents: list[str] = field(default_factory=list)
    outcome: str = "none"
    outcomes: list[str] = field(default_factory=list)
    plan_type: str | None = None
    agent_outcome: str | None = None
    csat: int | None = None
    last_bot_action: str | None = None
    last_bot_text_key: str | None = None
    last_intent: str | None = None
    said_goodbye: bool = False
    gateway_conversation_id: str | None = None

    def as_row(self) -> dict[str, Any]:
        return dict(self.__dict__)


def order_key(event: Mapping[str, Any]) -> tuple[float, int, str]:
    """Timestamp, then position in its session (events of one turn may share a timestamp),
    then id: a total order that does not depend on delivery."""
    ts = event.get("timestamp")
    index = event.get("huanxin_index")
    return (
        float(ts) if isinstance(ts, int | float) else 0.0,
        int(index) if isinstance(index, int) else 0,
        str(event.get("huanxin_event_id") or ""),
    )


def unique_ordered(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    seen: set[str] = set()
    result = []
    for event in events:
        key = event.get("huanxin_event_id")
        if isinstance(key, str):
            if key in seen:
                continue
            seen.add(key)
        result.append(event)
    return sorted(result, key=order_key)


def _when(ts: Any) -> datetime | None:
    if not isinstance(ts, int | float):
        return None
    return datetime.fromtimestamp(float(ts), tz=UTC)


def _intent(event: Mapping[str, Any]) -> tuple[str | None, float | None]:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    name = intent.get("name")
    conf = intent.get("confidence")
    return (name if isinstance(name, str) else None, float(conf) if isinstance(conf, int | float) else None)


def _top_ranked(event: Mapping[str, Any]) -> tuple[str | None, float | None]:
    """For a fallback, what the classifier thought it was (the best non-fallback intent)."""
    for ranked in (event.get("parse_data") or {}).get("intent_ranking") or []:
        if isinstance(ranked, dict) and ranked.get("name") not in (None, FALLBACK_INTENT):
            conf = ranked.get("confidence")
            return ranked["name"], float(conf) if isinstance(conf, int | float) else None
    return None, None


class _Builder:
    def __init__(self, conversation_id: str) -> None:
        self.f = ConversationFacts(conversation_id)
        self.step = 0
        self.slots: dict[str, Any] = {}
        self.verification_asked = False
        self.offered_plans: list[Any] = []
        self.outcomes: set[str] = set()
        self.last_record: Any = None

    def reach(self, step: str) -> None:
        self.step = max(self.step, FUNNEL.index(step))

    def language(self, value: Any) -> None:
        if value in ("zh", "en") and value not in self.f.languages:
            self.f.languages.append(value)

    def channel(self, value: Any) -> None:
        if isinstance(value, str) and value and self.f.channel is None:
            self.f.channel = value[:32]

    def escalate(self, reason: Any) -> None:
        self.f.escalated = True
        if self.f.escalation_reason is None and isinstance(reason, str) and reason:
            self.f.escalation_reason = reason[:64]

    def user(self, event: Mapping[str, Any]) -> None:
        name, conf = _intent(event)
        metadata = event.get("metadata") or {}
        if name in SYSTEM_INTENTS or "huanxin_system" in metadata:
            return
        self.f.turns += 1
        self.channel(metadata.get("channel") or event.get("input_channel"))
        self.language(metadata.get("language"))
        entry: dict[str, Any] = {"intent": name, "confidence": conf}
        if name == FALLBACK_INTENT:
            self.f.fallbacks += 1
            guess, guess_conf = _top_ranked(event)
            entry.update({"guess": guess, "guess_confidence": guess_conf})
        self.f.intents.append(entry)
        if conf is not None and (self.f.low_confidence is None or conf < self.f.low_confidence):
            self.f.low_confidence = conf
        self.f.last_intent = name
        self.f.said_goodbye = name in GOODBYE_INTENTS

    def slot(self, event: Mapping[str, Any]) -> None:
        name, value = event.get("name"), event.get("value")
        if not isinstance(name, str):
            return
        self.slots[name] = value
        if name == "language":
            self.language(value)
        elif name == "verified" and value is True:
            self.f.verified = True
            self.reach("verified")
        elif name == "requested_slot" and isinstance(value, str) and value.startswith("identity_"):
            self.verification_asked = True
        elif name == "offered_plans" and isinstance(value, list) and value:
            self.offered_plans = value
            self.reach("offers_shown")
        elif name == "payment_claim" and value:
            self.outcomes.add("payment_claimed")
        elif name == "last_record":
            if isinstance(value, dict) and value.get("kind") in ("dispute", "complaint"):
                self.outcomes.add(str(value["kind"]))
            elif value is None and isinstance(self.last_record, dict):
                # the borrower withdrew what they had just filed (bot/actions/corrections.py)
                self.outcomes.discard(str(self.last_record.get("kind")))
            self.last_record = value
        elif name == "escalated" and value is True:
            self.f.escalated = True

    def action(self, event: Mapping[str, Any]) -> None:
        name = event.get("name")
        if not isinstance(name, str) or name in IDLE_ACTIONS:
            return
        self.f.last_bot_action = name
        if name == "verification_form":
            self.verification_asked = True
        elif name == "action_submit_hardship":
            self.reach("hardship_collected")

    def bot(self, event: Mapping[str, Any]) -> None:
        metadata = event.get("metadata") or {}
        key = metadata.get("text_key") or metadata.get("utter_action")
        if isinstance(key, str):
            self.f.last_bot_text_key = key[:64]
            if key.startswith(STATUS_PREFIX):
                self.reach("status_explained")
            if key in PLAN_ACCEPTED_KEYS:
                self.outcomes.add("arrangement")
                self.reach("committed")
                chosen = self.slots.get("chosen_offer_id")
                for plan in self.offered_plans:
                    if isinstance(plan, dict) and plan.get("offer_id") == chosen and plan.get("plan_type"):
                        self.f.plan_type = str(plan["plan_type"])[:32]
            elif key in PROMISE_KEYS:
                self.outcomes.add("promise")
                self.reach("committed")
            elif key in STOP_CONTACT_KEYS:
                self.outcomes.add("stop_contact")
            elif key in LOCKOUT_KEYS:
                self.f.verification = "lockout"
        custom = (event.get("data") or {}).get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            self.escalate(custom["handoff"].get("reason"))

    def gateway(self, event: Mapping[str, Any]) -> None:
        name = event.get("name")
        self.channel(event.get("channel"))
        self.language(event.get("language"))
        conv = event.get("conversation_id")
        if isinstance(conv, str) and self.f.gateway_conversation_id is None:
            self.f.gateway_conversation_id = conv[:64]
        agent = event.get("agent")
        if name == "handoff":
            self.escalate(event.get("reason"))
        elif name == "takeover":
            self.escalate(event.get("reason") or "agent_pickup")
            self.f.handled_by_agent = True
        elif name == "agent_message" and not event.get("agent_only"):
            self.f.handled_by_agent = True
        elif name == "closed":
            outcome = event.get("outcome")
            if isinstance(outcome, str) and outcome:
                self.f.agent_outcome = outcome[:32]
                self.outcomes.add("agent_outcome")
        elif name == "csat":
            score = event.get("score")
            if isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5:
                self.f.csat = score
        if name in ("takeover", "agent_message", "handback", "closed") and isinstance(agent, str) and agent:
            if agent not in self.f.agents:
                self.f.agents.append(agent[:64])

    def finish(self, first: float | None, last: float | None, count: int) -> ConversationFacts:
        f = self.f
        f.events = count
        f.started_at, f.ended_at = _when(first), _when(last)
        f.furthest_step = FUNNEL[self.step]
        if f.verified:
            f.verification = "verified"
        elif f.verification != "lockout":
            if self.slots.get("third_party"):
                f.verification = "third_party"
            elif self.verification_asked:
                f.verification = "gave_up"
        f.outcomes = [o for o in OUTCOMES if o in self.outcomes]
        f.outcome = f.outcomes[0] if f.outcomes else "none"
        return f


def derive(conversation_id: str, events: Iterable[Mapping[str, Any]]) -> ConversationFacts:
    """The facts of a conversation from its events (any order, copies allowed)."""
    ordered = unique_ordered(events)
    b = _Builder(conversation_id)
    first: float | None = None
    last: float | None = None
    for event in ordered:
        ts = event.get("timestamp")
        if isinstance(ts, int | float):
            first = float(ts) if first is None else first
            last = float(ts)
        kind = event.get("event")
        if kind == "user":
            b.user(event)
        elif kind == "slot":
            b.slot(event)
        elif kind == "action":
            b.action(event)
        elif kind == "bot":
            b.bot(event)
        elif kind == GATEWAY_EVENT:
            b.gateway(event)
    return b.finish(first, last, len(ordered))
