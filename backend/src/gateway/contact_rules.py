"""Contact rules for an agent's reply pushed through an app channel's API (WeChat customer
service), from collections-policy "Contact". Pure: the caller passes the time and the facts.

Decision: a reply in a conversation where the borrower wrote within the last 48 hours is a
reply, not outbound contact (the borrower may always start a conversation; WeChat itself only
lets the customer-service API answer within 48 h of the user's last message). So an open
dispute does not block it (the agent may answer about the dispute), but an opt-out of the
channel, a cease-contact request and the 08:00-21:00 window in the borrower's time zone do.
Past 48 h a message would be outbound contact: refused here; reminders are the ledger's job.
The window is the policy's (contact.window_start / window_end, through the ledger's door); a
borrower not linked yet gets the shipped default, 08:00-21:00.
The web widget is a page the borrower has open, not a push: these rules do not apply to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPLY_WINDOW = timedelta(hours=48)
CONTACT_FROM, CONTACT_UNTIL = time(8, 0), time(21, 0)
DEFAULT_TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class Refusal:
    reason: str  # opted_out, cease_contact, outside_contact_hours, no_recent_borrower_message
    detail: str


class ContactRefused(Exception):
    """The reply was not sent: the contact rules forbid it (kept agent-only with the reason)."""

    def __init__(self, refusal: Refusal, message: dict[str, Any]) -> None:
        super().__init__(refusal.detail)
        self.refusal = refusal
        self.message = message


class DeliveryFailed(Exception):
    """The channel's API did not take the reply (kept agent-only; the agent is told)."""

    def __init__(self, reason: str, message: dict[str, Any]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def reply_refusal(
    channel: str, now: datetime, last_borrower_at: datetime | None, rules: dict[str, Any] | None
) -> Refusal | None:
    """Why an agent's reply on ``channel`` may not be pushed now, or None when it may.

    ``rules`` comes from the account reader (None when the borrower is not linked yet: then
    only the time rules apply, in the default time zone)."""
    rules = rules or {}
    if rules.get("stop_all"):
        return Refusal("cease_contact", "the borrower asked us to stop contacting them (cease-contact)")
    if channel in (rules.get("opted_out_channels") or []):
        return Refusal("opted_out", f"the borrower opted out of contact on {channel}")
    if last_borrower_at is None or now - last_borrower_at > REPLY_WINDOW:
        return Refusal(
            "no_recent_borrower_message",
            "the borrower has not written in the last 48 hours: this would be outbound contact, not a reply",
        )
    zone = _zone(rules.get("timezone"))
    local = now.astimezone(zone).time()
    start = _clock(rules.get("window_start"), CONTACT_FROM)
    until = _clock(rules.get("window_end"), CONTACT_UNTIL)
    if not (start <= local < until):
        return Refusal(
            "outside_contact_hours",
            f"it is {local:%H:%M} for the borrower ({zone.key}); messages only {start:%H:%M}-{until:%H:%M}",
        )
    return None


def _clock(value: Any, default: time) -> time:
    """An "HH:MM" of the policy's contact window; the shipped default when absent or unreadable."""
    try:
        return time.fromisoformat(value) if isinstance(value, str) else default
    except ValueError:
        return default
