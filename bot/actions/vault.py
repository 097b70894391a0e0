"""Secrets that must never enter Rasa's tracker, kept by the action server per conversation.

The verification token and the identity answers (phone or loan number, date of birth, ID
digits) live here, keyed by conversation id, with a sliding expiry; the tracker holds only a
mask ("[redacted]") in the identity slots so that the form still knows which questions were
answered. The vault is process memory: after an action-server restart a borrower is asked
to verify again (the ledger's token would expire after 30 idle minutes anyway). Running
several action servers needs a shared vault (Redis); this module is the one place to change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MASK = "[redacted]"
TOKEN_TTL_S = 30 * 60
IDENTITY_TTL_S = 15 * 60


class ConversationVault:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}
        self._identity: dict[str, tuple[dict[str, str], float]] = {}

    def put_token(self, conversation_id: str, token: str) -> None:
        with self._lock:
            self._tokens[conversation_id] = (token, self._clock() + TOKEN_TTL_S)

    def token(self, conversation_id: str) -> str | None:
        """The conversation's token, or None; each use extends it (like the ledger does)."""
        with self._lock:
            entry = self._tokens.get(conversation_id)
            if entry is None:
                return None
            token, expires = entry
            if self._clock() >= expires:
                del self._tokens[conversation_id]
                return None
            self._tokens[conversation_id] = (token, self._clock() + TOKEN_TTL_S)
            return token

    def drop_token(self, conversation_id: str) -> None:
        with self._lock:
            self._tokens.pop(conversation_id, None)

    def put_identity(self, conversation_id: str, field: str, value: str) -> None:
        with self._lock:
            answers, _ = self._identity.get(conversation_id, ({}, 0.0))
            answers = {**answers, field: value}
            self._identity[conversation_id] = (answers, self._clock() + IDENTITY_TTL_S)

    def identity(self, conversation_id: str) -> dict[str, str]:
        with self._lock:
            entry = self._identity.get(conversation_id)
            if entry is None or self._clock() >= entry[1]:
                self._identity.pop(conversation_id, None)
                return {}
            return dict(entry[0])

    def clear_identity(self, conversation_id: str) -> None:
        with self._lock:
            self._identity.pop(conversation_id, None)


_default = ConversationVault()


def default_vault() -> ConversationVault:
    return _default
