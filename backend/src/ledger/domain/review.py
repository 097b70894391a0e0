"""Conversation review and annotation for analysts (pure: no I/O).

- `transcript`: what an analyst reads of a conversation, from its stored stream events. A
  borrower message that answered an identity question (sent while the verification form asked
  for an identity slot, or already replaced by the tracker store) shows as "[identity answer]";
  in every other text, phone numbers, national IDs and birth dates are masked again
  (huanxin_redaction), whatever the store did. Each borrower message has its intent and
  confidence, each bot message the actions run before it. Slot values are never shown.
- `ReviewFilters` and `review_entry`: the review list's filters (applied by the database,
  ledger/db/analytics.py review_page) and its lines.
- `exportable_examples` and `rasa_nlu_yaml`: corrected intents as Rasa NLU training data in
  the bot's layout (bot/data/nlu/<language>/*.yml), without identity data, button payloads,
  unknown intents, duplicates, or texts given two intents.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from huanxin_redaction import IDENTITY_ANSWER, MASK, mask_identity_numbers

from .conversation_facts import (
    FALLBACK_INTENT,
    GATEWAY_EVENT,
    IDLE_ACTIONS,
    SYSTEM_INTENTS,
    unique_ordered,
)
from .insights import language_of

# The bot's intent contract (bot/domain/intents.yml; a test keeps the two the same).
INTENTS = (
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "thank",
    "bot_challenge",
    "change_language",
    "ask_overdue_status",
    "ask_fees",
    "ask_consequences",
    "report_hardship",
    "request_payment_plan",
    "request_fee_waiver",
    "promise_to_pay",
    "pay_now",
    "already_paid",
    "dispute_debt",
    "request_human",
    "stop_contact",
    "complain",
    "ask_financial_tips",
    "inform",
    "out_of_scope",
)
NLU_VERSION = "3.1"
MAX_EXAMPLE = 300  # characters of one training example
TAG = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_NOTE = 500
RANKING_SHOWN = 3


@dataclass(frozen=True)
class Annotation:
    """An analyst's label: on a borrower message (`event_id`) the right intent and/or a tag; on
    the conversation (`event_id` None) a tag, a note, or that it was reviewed."""

    conversation_id: str
    event_id: str | None
    intent: str | None
    tag: str | None
    note: str | None
    reviewed: bool
    annotator: str
    created_at: datetime

    def view(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "intent": self.intent,
            "tag": self.tag,
            "note": self.note,
            "reviewed": self.reviewed,
            "annotator": self.annotator,
            "created_at": self.created_at.isoformat(),
        }


def _ranking(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    ranked = []
    for entry in (event.get("parse_data") or {}).get("intent_ranking") or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            conf = entry.get("confidence")
            ranked.append(
                {"intent": entry["name"], "confidence": float(conf) if isinstance(conf, int | float) else None}
            )
    return ranked[:RANKING_SHOWN]


def _text(value: Any) -> str | None:
    return mask_identity_numbers(value) if isinstance(value, str) else None


def transcript(
    conversation_id: str, events: Iterable[Mapping[str, Any]], annotations: Sequence[Annotation] = ()
) -> dict[str, Any]:
    """The conversation as the analyst reads it (see the module's docstring); the latest
    annotation of each message is on it, the conversation's own under `annotations`."""
    latest: dict[str | None, Annotation] = {}
    for note in sorted(annotations, key=lambda a: a.created_at):
        latest[note.event_id] = note
    messages: list[dict[str, Any]] = []
    requested: Any = None
    actions: list[str] = []
    turn = 0
    for event in unique_ordered(events):
        kind = event.get("event")
        event_id = event.get("huanxin_event_id")
        if kind == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
        elif kind == "action":
            name = event.get("name")
            if isinstance(name, str) and name not in IDLE_ACTIONS:
                actions.append(name)
        elif kind == "user":
            parse = event.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name")
            metadata = event.get("metadata") or {}
            if intent in SYSTEM_INTENTS or "huanxin_system" in metadata:
                continue
            if actions:
                messages.append({"kind": "actions", "actions": actions})
                actions = []
            turn += 1
            raw = event.get("text")
            identity = (isinstance(requested, str) and requested.startswith("identity_")) or raw == MASK
            conf = (parse.get("intent") or {}).get("confidence")
            message: dict[str, Any] = {
                "kind": "user",
                "turn": turn,
                "event_id": event_id,
                "text": IDENTITY_ANSWER if identity else _text(raw),
                "identity_answer": identity,
                "intent": intent,
                "confidence": float(conf) if isinstance(conf, int | float) else None,
                "ranking": _ranking(event),
                "language": metadata.get("language") if metadata.get("language") in ("zh", "en") else None,
            }
            if event_id in latest:
                message["annotation"] = latest[event_id].view()
            messages.append(message)
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            key = metadata.get("text_key") or metadata.get("utter_action")
            messages.append({"kind": "bot", "text": _text(event.get("text")), "text_key": key, "actions": actions})
            actions = []
        elif kind == GATEWAY_EVENT:
            name = event.get("name")
            if name == "agent_message":
                messages.append(
                    {
                        "kind": "agent",
                        "agent": event.get("agent"),
                        "agent_only": bool(event.get("agent_only")),
                        "text": _text(event.get("text")),
                    }
                )
            elif isinstance(name, str):
                desk = {"kind": "desk", "name": name, "agent": event.get("agent"), "reason": event.get("reason")}
                score = event.get("score")
                if name == "csat" and isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5:
                    desk["score"] = score  # the borrower's rating
                messages.append(desk)
    if actions:
        messages.append({"kind": "actions", "actions": actions})
    return {
        "conversation_id": conversation_id,
        "messages": messages,
        "annotations": [a.view() for a in sorted(annotations, key=lambda a: a.created_at) if a.event_id is None],
    }


# ---- the review list ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewFilters:
    language: str | None = None
    channel: str | None = None
    outcome: str | None = None
    escalated: bool | None = None
    fallback: bool | None = None
    intent: str | None = None
    below: float | None = None  # some message's confidence below this
    step: str | None = None  # furthest funnel step
    reviewed: bool | None = None
    tag: str | None = None
    limit: int = 50
    offset: int = 0
    # keyset paging: the (started_at, conversation_id) of the last line of the previous page
    after: tuple[datetime, str] | None = None


COUNT_CAP = 1_000  # the list counts its matches no further ("1000 or more")


def page_cursor(row: Mapping[str, Any]) -> str:
    """The `after` of the page that follows this line: its start (UTC) and conversation."""
    return f"{row['started_at'].astimezone(UTC).isoformat()}~{row['conversation_id']}"


def _started(row: Mapping[str, Any]) -> str | None:
    started = row.get("started_at")
    return started.isoformat() if isinstance(started, datetime) else None


def review_entry(row: Mapping[str, Any], mark: Mapping[str, Any]) -> dict[str, Any]:
    """One line of the review list: the conversation's facts and its review state."""
    return {
        "conversation_id": row.get("conversation_id"),
        "started_at": _started(row),
        "language": language_of(row),
        "channel": row.get("channel"),
        "turns": row.get("turns"),
        "furthest_step": row.get("furthest_step"),
        "outcome": row.get("outcome"),
        "escalated": bool(row.get("escalated")),
        "fallbacks": row.get("fallbacks"),
        "low_confidence": row.get("low_confidence"),
        "csat": row.get("csat"),
        "reviewed": bool(mark.get("reviewed")),
        "tags": list(mark.get("tags") or []),
    }


def review_marks(annotations: Iterable[Annotation]) -> dict[str, dict[str, Any]]:
    """Each conversation's review state: reviewed (its latest conversation-level annotation
    says so), its tags, how many annotations."""
    marks: dict[str, dict[str, Any]] = {}
    for note in sorted(annotations, key=lambda a: a.created_at):
        mark = marks.setdefault(note.conversation_id, {"reviewed": False, "tags": [], "annotations": 0})
        mark["annotations"] += 1
        if note.event_id is None:
            mark["reviewed"] = note.reviewed
        if note.tag and note.tag not in mark["tags"]:
            mark["tags"].append(note.tag)
    return marks


# ---- the export -----------------------------------------------------------------------------


def normalised(text: str) -> str:
    """The text as the bot's NLU data checks compare examples (case, spaces, punctuation)."""
    return re.sub(r"[\s，。？！,.?!~～]+", "", text.lower())


def _one_line(text: str) -> str:
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())[:MAX_EXAMPLE]


def _identity(example: Mapping[str, Any], text: str) -> bool:
    return (
        bool(example.get("identity_answer"))
        or MASK in text
        or IDENTITY_ANSWER in text
        or mask_identity_numbers(text) != text
    )


# Rasa's entity markup in a training example ("[text](entity)", "[text]{...}"): a borrower's
# text that holds it would be read as an annotation, so it is left out.
ENTITY_MARKUP = re.compile(r"\]\s*[({]")


def exportable_examples(examples: Iterable[Mapping[str, Any]], known: Collection[str] = frozenset()) -> dict[str, Any]:
    """The corrected messages fit for training, per language and intent, and how many were
    left out and why. Each example: text (as stored, already redacted), the corrected intent,
    the language, whether it answered an identity question. `known`: texts (`normalised`)
    already in the training data or its evaluation sets; a correction of one is left out
    (`in_training`: a copy adds nothing, another intent would contradict the data, and a
    held-out text must never be trained on)."""
    left_out = {"identity": 0, "duplicate": 0, "conflict": 0, "payload": 0, "unknown_intent": 0, "in_training": 0}
    by_text: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for example in examples:
        text = _one_line(str(example.get("text") or ""))
        intent = example.get("intent")
        if intent not in INTENTS or intent == FALLBACK_INTENT:
            left_out["unknown_intent"] += 1
        elif not text or text.startswith("/") or ENTITY_MARKUP.search(text):
            left_out["payload"] += 1
        elif _identity(example, text):
            left_out["identity"] += 1
        elif normalised(text) in known:
            left_out["in_training"] += 1
        else:
            language = example.get("language") if example.get("language") in ("zh", "en") else "zh"
            by_text[(str(language), normalised(text))].append((str(intent), text))
    chosen: dict[str, dict[str, list[str]]] = {"zh": {}, "en": {}}
    for (language, _), found in sorted(by_text.items()):
        if len({intent for intent, _ in found}) > 1:
            left_out["conflict"] += len(found)
            continue
        left_out["duplicate"] += len(found) - 1
        intent, text = found[0]
        chosen[language].setdefault(intent, []).append(text)
    return {"examples": chosen, "left_out": left_out}


def rasa_nlu_yaml(examples: Mapping[str, Sequence[str]], comment: str = "") -> str:
    """Rasa NLU training data in the layout of bot/data/nlu/<language>/*.yml."""
    lines = [f'version: "{NLU_VERSION}"']
    if comment:
        lines += [f"# {_one_line(line)}" for line in comment.splitlines()]
    lines.append("nlu:" if examples else "nlu: []")
    for intent in sorted(examples):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in examples[intent]]
    return "\n".join(lines) + "\n"


def annotation_problem(intent: Any, tag: Any, note: Any, reviewed: Any) -> str | None:
    """Why an annotation cannot be stored (None when it can): the intent must be the bot's,
    a tag a short name, a note at most MAX_NOTE characters, and something must be said."""
    if intent is not None and intent not in INTENTS:
        return "intent must be one of the bot's intents (bot/domain/intents.yml)"
    if tag is not None and (not isinstance(tag, str) or not TAG.match(tag)):
        return "tag must be a short name: lower-case letters, digits and _, at most 32"
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        return f"note must be text of at most {MAX_NOTE} characters"
    if reviewed is not None and not isinstance(reviewed, bool):
        return "reviewed must be true or false"
    if intent is None and tag is None and not note and reviewed is None:
        return "say something: intent, tag, note or reviewed"
    return None
