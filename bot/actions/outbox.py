"""Escalations waiting for the ledger: the hand-off never depends on the ledger being up.

The bot always sends the hand-off payload to the channel; recording the escalation in the
ledger (POST /escalations) is what may fail. A failed record is queued here, in the action
server's memory: one entry per conversation (a second request replaces the first), at most
``max_items`` (the oldest dropped, logged), retried with exponential back-off by the action
server's background task (actions/server.py) until the ledger takes it. The queue is lost if
the action server restarts; the gateway still has the hand-off and the transcript.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actions.ledger_client import BorrowerAuth, LedgerError, LedgerUnavailable

logger = logging.getLogger(__name__)

FIRST_RETRY_S = 5.0
MAX_RETRY_S = 300.0
# The ledger's escalation reasons (docs/contracts.md); anything else is recorded as "other"
# with the reason kept in the summary when the ledger refuses it.
FALLBACK_REASON = "other"


@dataclass
class PendingEscalation:
    conversation_id: str
    reason: str
    summary: str
    language: str | None
    auth: BorrowerAuth | None
    attempts: int = 0
    next_at: float = 0.0


async def record_escalation(
    ledger: Any, conversation_id: str, reason: str, summary: str, language: str | None, auth: BorrowerAuth | None
) -> dict:
    """POST /escalations, linked to the borrower when the token still works. An expired token
    (401) is retried unlinked and a reason the ledger does not know (422) as "other": neither
    created anything, so sending again is safe. LedgerUnavailable is left to the caller."""
    try:
        return await ledger.create_escalation(conversation_id, reason, summary, language=language, auth=auth)
    except LedgerError as exc:
        if exc.status == 401 and auth is not None:
            return await record_escalation(ledger, conversation_id, reason, summary, language, None)
        if exc.status in (400, 422) and reason != FALLBACK_REASON:
            return await record_escalation(
                ledger, conversation_id, FALLBACK_REASON, f"reason={reason}; {summary}", language, auth
            )
        raise


class EscalationOutbox:
    def __init__(self, max_items: int = 500, clock: Callable[[], float] = time.monotonic):
        self._max = max_items
        self._clock = clock
        self._items: OrderedDict[str, PendingEscalation] = OrderedDict()

    def add(
        self, conversation_id: str, reason: str, summary: str, language: str | None, auth: BorrowerAuth | None
    ) -> None:
        self._items.pop(conversation_id, None)
        self._items[conversation_id] = PendingEscalation(
            conversation_id, reason, summary, language, auth, next_at=self._clock() + FIRST_RETRY_S
        )
        while len(self._items) > self._max:
            dropped, _ = self._items.popitem(last=False)
            logger.error("escalation outbox full (%d): dropped the oldest, conversation %s", self._max, dropped)

    def pending(self) -> list[PendingEscalation]:
        return list(self._items.values())

    async def flush(self, ledger: Any, now: float | None = None) -> int:
        """Sends the entries that are due; returns how many the ledger recorded. Stops at the
        first LedgerUnavailable (the ledger is still down: the others wait for their turn)."""
        now = self._clock() if now is None else now
        sent = 0
        for item in [i for i in self._items.values() if i.next_at <= now]:
            try:
                await record_escalation(
                    ledger, item.conversation_id, item.reason, item.summary, item.language, item.auth
                )
            except LedgerUnavailable:
                for waiting in [i for i in self._items.values() if i.next_at <= now]:
                    waiting.attempts += 1
                    waiting.next_at = now + min(MAX_RETRY_S, FIRST_RETRY_S * 2**waiting.attempts)
                break
            except LedgerError as exc:
                logger.error(
                    "escalation of conversation %s refused by the ledger (%s): dropped", item.conversation_id, exc.code
                )
            else:
                sent += 1
                logger.info("queued escalation of conversation %s recorded", item.conversation_id)
            self._items.pop(item.conversation_id, None)
        return sent


_default = EscalationOutbox()


def default_outbox() -> EscalationOutbox:
    return _default
