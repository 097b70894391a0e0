"""Who is on shift at the desk, and what a borrower handed to the desk is told.

"On shift" = inside the desk hours (GATEWAY_DESK_HOURS, GATEWAY_DESK_TZ) and at least one
agent with an open desk socket or an authenticated desk request within the presence window
(GATEWAY_DESK_PRESENCE_MINUTES, 10 by default). Presence is process memory: with several
gateway processes behind a balancer, each knows its own desks (pin desks to one process, or
accept a pessimistic "queued" message). Without configured hours the hand-off text is the
old "someone is joining" one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from .desk_hours import DeskHours, describe_moment
from .texts import text as t


class DeskPresence:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._seen: dict[str, datetime] = {}
        self._sockets: Counter[str] = Counter()

    def touch(self, username: str) -> None:
        self._seen[username] = self.clock()

    def socket_opened(self, username: str) -> None:
        self._sockets[username] += 1
        self.touch(username)

    def socket_closed(self, username: str) -> None:
        self._sockets[username] -= 1
        if self._sockets[username] <= 0:
            del self._sockets[username]
        self.touch(username)

    def forget(self, username: str) -> None:
        """The agent's sessions ended (logout, deactivation): not present any more."""
        self._seen.pop(username, None)

    def online(self) -> list[str]:
        """The agents with a desk open now (a socket): those an escalation may be assigned to."""
        return sorted(self._sockets)

    def anyone(self, window: timedelta) -> bool:
        if self._sockets:
            return True
        since = self.clock() - window
        return any(seen >= since for seen in self._seen.values())


class DeskShift:
    def __init__(self, hours: DeskHours | None, presence: DeskPresence, window_s: float) -> None:
        self.hours = hours
        self.presence = presence
        self.window = timedelta(seconds=window_s)

    def handoff_text(self, language: str, now: datetime) -> str:
        """What the borrower is told at a hand-off: someone is joining only when an agent is on
        shift; otherwise that the request is queued (with the hours and the next opening when
        desk hours are configured), so nobody waits for a person who is not there."""
        if self.hours is None:
            return t("agent_joining" if self.presence.anyone(self.window) else "desk_offline", language)
        hours = f"{self.hours.describe(language)} ({self.hours.tz.key})"
        if not self.hours.is_open(now):
            return t("desk_closed", language, hours=hours, when=describe_moment(self.hours.next_open(now), language))
        if not self.presence.anyone(self.window):
            return t("desk_unstaffed", language, hours=hours)
        return t("agent_joining", language)
