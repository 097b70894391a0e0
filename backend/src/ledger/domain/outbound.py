"""The dispatcher's decision for one queued contact at send time (pure: no I/O).

The contact planner planned the contact earlier; by the time it is sent, things may have
changed: a dispute opened a minute ago, an opt-out or cease-contact just recorded, the
instalment paid, a cap reached by another delivered contact. So the dispatcher runs the planner
again on fresh data (its caps counting delivered contacts only) and sends only what that plan
still plans, on the same channel, inside its send interval. A failed send is retried with
exponential backoff up to ``RetryRules.max_attempts`` attempts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from .contact_plan import HeldContact, PlannedContact

# A send failure that begins with this is the channel's refusal (the borrower blocked the bot,
# an unknown address, a message the template cannot carry): given up at once, not retried.
REFUSED = "refused: "


@dataclass(frozen=True)
class RetryRules:
    """Backoff of a failed send: ``first`` after the first failure, doubled after each further
    one, never more than ``longest``; after ``max_attempts`` attempts the contact is given up."""

    first: timedelta = timedelta(minutes=1)
    longest: timedelta = timedelta(minutes=30)
    max_attempts: int = 5

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt (attempts >= 1)."""
        wait: timedelta = self.first * (2 ** max(0, attempts - 1))
        return min(self.longest, wait)


@dataclass(frozen=True)
class QueuedContact:
    """A row of the contact history not yet delivered, as the dispatcher sees it."""

    idempotency_key: str
    channel: str
    status: str  # planned | attempted | failed
    attempts: int
    send_after: datetime  # aware
    send_before: datetime
    last_attempt_at: datetime | None = None
    failure: str | None = None  # "held: <rule>" when held at send time, else the send error


Action = Literal["send", "wait", "hold", "give_up"]


@dataclass(frozen=True)
class Decision:
    action: Action
    rule: str = ""  # hold: the rule holding it back (a planner rule, or no_longer_due / outside_window)
    text: str = ""  # send: the message, as the fresh plan words it
    retry_at: datetime | None = None  # wait: not before this


def decide(
    row: QueuedContact,
    fresh_contacts: Mapping[str, PlannedContact],
    fresh_held: Mapping[str, HeldContact],
    now: datetime,
    retry: RetryRules = RetryRules(),
) -> Decision:
    """What to do with ``row`` at ``now`` given the plan just made on fresh data (its planned
    and held contacts by idempotency key)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if not row.send_after <= now < row.send_before:
        return Decision("hold", "outside_window")
    # An "attempted" row is one whose worker stopped between attempt and result: it is sent
    # again with the same idempotency key (the channel delivers a key once), never given up.
    failed_send = row.status == "failed" and not (row.failure or "").startswith("held: ")
    if failed_send and row.attempts >= retry.max_attempts:
        return Decision("give_up", "max_attempts")
    if failed_send and (row.failure or "").startswith((REFUSED, "given up")):
        return Decision("give_up", "refused")  # the channel refused it: no retry mends that
    if failed_send and row.attempts > 0 and row.last_attempt_at is not None:
        retry_at = row.last_attempt_at + retry.backoff(row.attempts)
        if now < retry_at:
            return Decision("wait", retry_at=retry_at)
    held = fresh_held.get(row.idempotency_key)
    if held is not None:
        return Decision("hold", held.rule)
    fresh = fresh_contacts.get(row.idempotency_key)
    if fresh is None:  # paid in the meantime, a day has passed, or delivered already
        return Decision("hold", "no_longer_due")
    if fresh.channel != row.channel:  # the planned channel is no longer allowed
        rule = dict(fresh.skipped_channels).get(row.channel, "opted_out")
        return Decision("hold", rule)
    if not fresh.send_after <= now < fresh.send_before:
        return Decision("hold", "outside_window")
    return Decision("send", text=fresh.text)


# The replies that opt a borrower out of the channel they came on, and the language of each
# (the confirmation is written in it: a reply from an unknown number gets the same answer).
STOP_WORDS: Mapping[str, str] = {"TD": "zh", "退订": "zh", "STOP": "en", "UNSUBSCRIBE": "en"}
_TRIM = " \t\r\n.,!?;:。，！？；：、\"'“”‘’()（）【】[]"


def stop_word(text: str) -> str | None:
    """The STOP word ``text`` is ("TD", "退订", "STOP", "UNSUBSCRIBE", read in any case,
    full-width or with punctuation around it), or None when it is not one."""
    word = unicodedata.normalize("NFKC", text).strip(_TRIM).upper()
    return word if word in STOP_WORDS else None


def stop_reply_language(text: str) -> str | None:
    """The language of a STOP reply ("TD", "退订", "STOP", in any case, full-width or with
    punctuation around it), or None when ``text`` is not one."""
    word = stop_word(text)
    return None if word is None else STOP_WORDS[word]


__all__ = [
    "REFUSED",
    "STOP_WORDS",
    "Decision",
    "QueuedContact",
    "RetryRules",
    "decide",
    "stop_reply_language",
    "stop_word",
]
