"""Consequential acts: a dispute (collection on the loan pauses), a complaint, a change of contact,
a hand-off to a person. Each is recorded only when the borrower's meaning is clear in context;
otherwise the borrower gets a one-tap confirmation that states the consequence, and nothing is
recorded until they say yes. The features that record these acts (disputes, escalation, contact)
call this module on their filing path; dialogue.py routes the yes and the no.

What "clear" means (bot/README.md, conversation rules):
- the borrower tapped the act's own button (a payload such as /request_human) or said yes to the
  confirmation; or
- the NLU gave the act's intent with a confidence of at least CLEAR_CONFIDENCE (HANDOFF_CONFIDENCE
  for a person), the message has a word that names the act (readings.names_act: "不是我借的",
  "complaint", "转人工"...), it is not a question about the act (disputes and complaints: "how do
  I complain?"), and no other reading fits the context.
Other readings win over the intent (other_reading): with plans on screen, a message that names or
numbers a plan chooses it, never a dispute or a complaint; a question about what is owed with no
word of the act is answered as that question; the act refused in the same breath
("不要转人工", "I don't want to complain") is a no; "OK, I'll wait for your news" is an
acknowledgement; "never mind, none of them" drops the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actions import readings, texts
from actions.parsing import parse_plan_choice
from actions.plans import choose_plan
from actions.turn import Turn, latest_message_with_intent

CLEAR_CONFIDENCE = 0.7
HANDOFF_CONFIDENCE = 0.5
CONFIRMATION = "act_confirmation"  # awaiting: the one-tap question is on screen (slot pending_act: which act)
CONFIRMED = "act_confirmed"  # awaiting: the borrower said yes; the act's action records it


@dataclass(frozen=True)
class Act:
    name: str
    intent: str
    confidence: float
    questions_unclear: bool = True  # a question about the act ("how do I complain?") is confirmed first


DISPUTE = Act("dispute", "dispute_debt", CLEAR_CONFIDENCE)
COMPLAINT = Act("complaint", "complain", CLEAR_CONFIDENCE)
STOP_CONTACT = Act("stop_contact", "stop_contact", CLEAR_CONFIDENCE, questions_unclear=False)
HANDOFF = Act("handoff", "request_human", HANDOFF_CONFIDENCE, questions_unclear=False)
ACTS = {act.name: act for act in (DISPUTE, COMPLAINT, STOP_CONTACT, HANDOFF)}
STATUS_INTENT = "ask_overdue_status"
# Acts a message about an offered plan is never taken for.
NOT_A_PLAN_CHOICE = (DISPUTE, COMPLAINT)


def act_message(turn: Turn, act: Act) -> tuple[str, float]:
    """The message that asked for `act` and the confidence of its intent: the latest message, or,
    when the act is answered after a verification, the message that asked for it before."""
    if turn.resumed_intent == act.intent:
        message = latest_message_with_intent(turn.tracker.events, act.intent)
        if message is not None:
            intent = (message.get("parse_data") or {}).get("intent") or {}
            return message.get("text") or "", float(intent.get("confidence") or 0.0)
    confidence = turn.latest_confidence if turn.latest_intent == act.intent else 0.0
    return turn.latest_text, confidence


def _tapped(text: str) -> bool:
    return text.strip().startswith("/")


def confirmed(turn: Turn, act: Act) -> bool:
    """The borrower said yes to the confirmation of `act`."""
    return turn.slot("pending_act") == act.name and turn.slot("awaiting") == CONFIRMED


def pending(turn: Turn) -> Act | None:
    """The act whose confirmation is on screen, if any."""
    if turn.slot("awaiting") != CONFIRMATION:
        return None
    return ACTS.get(turn.slot("pending_act") or "")


async def other_reading(turn: Turn, act: Act) -> bool:
    """Answers a message that, in context, means something other than `act` (a plan choice, a
    no, an acknowledgement, dropping the question) and returns True; False when `act` is still
    the reading (clear or to be confirmed)."""
    if confirmed(turn, act):
        return False
    text, _ = act_message(turn, act)
    if _tapped(text):
        return False
    names = readings.names_act(act.name, text)
    if act in NOT_A_PLAN_CHOICE and not names and turn.slot("offered_plans") and parse_plan_choice(text) is not None:
        return await choose_plan(turn)
    if readings.negates_act(act.name, text) or (readings.says_none(text) and not names):
        decline(turn, act)
        return True
    if act in NOT_A_PLAN_CHOICE and not names and readings.asks_status(text):
        settle(turn)  # "我老婆不知道我借了这笔钱……我现在欠多少": the question is answered, nothing filed
        await turn.answer_as(STATUS_INTENT, act.intent)
        return True
    if act in NOT_A_PLAN_CHOICE and not names and readings.says_waiting(text):
        settle(turn)
        turn.say("noted_waiting")
        return True
    return False


def is_clear(turn: Turn, act: Act) -> bool:
    """True when the message asks for `act` beyond doubt (see the module's docstring)."""
    text, confidence = act_message(turn, act)
    if _tapped(text):
        return True
    if confidence < act.confidence or not readings.names_act(act.name, text):
        return False
    if act.questions_unclear and readings.is_question(text):
        return False
    if act in NOT_A_PLAN_CHOICE:
        if turn.slot("offered_plans") and parse_plan_choice(text) is not None:
            return False
        if readings.says_waiting(text):
            return False
    return True


def go_ahead(turn: Turn, act: Act, key: str | None = None, **figures: Any) -> bool:
    """True when `act` may be recorded now (confirmed, or clear; the confirmation is cleared).
    Otherwise asks the one-tap confirmation (`key`, by default confirm_<act>, with `figures`:
    what will happen) and returns False: nothing is recorded until the borrower says yes."""
    if confirmed(turn, act) or is_clear(turn, act):
        settle(turn)
        return True
    ask(turn, act, key, **figures)
    return False


def ask(turn: Turn, act: Act, key: str | None = None, **figures: Any) -> None:
    """The one-tap confirmation of `act`: what it will do, [Yes, ...] [No]. For a person, the
    offer of a person (its yes is the request)."""
    if act is HANDOFF:
        turn.offer_human(key or "confirm_handoff")
        return
    buttons = [texts.button(f"yes_{act.name}", "/affirm", turn.lang), texts.button("no", "/deny", turn.lang)]
    turn.say(key or f"confirm_{act.name}", buttons=buttons, **figures)
    turn.set("pending_act", act.name)
    turn.set("awaiting", CONFIRMATION)


def settle(turn: Turn) -> None:
    """Forgets the confirmation (asked or answered)."""
    if turn.slot("pending_act"):
        turn.set("pending_act", None)
    if turn.slot("awaiting") in (CONFIRMATION, CONFIRMED):
        turn.set("awaiting", None)


def decline(turn: Turn, act: Act) -> None:
    """The borrower does not want `act`: nothing is recorded, the question about it (its
    confirmation, the offer of a person, which channel to stop) is dropped, and they are told."""
    awaiting = turn.slot("awaiting") or ""
    settle(turn)
    if awaiting.startswith("human_offer") or awaiting == "contact_channel":
        turn.set("awaiting", None)
    turn.say(f"declined_{act.name}")
