"""System messages from the conversation gateway (shared protocol 2).

The gateway sends system intents (the hand-back, ``/handback{"agent_note": ...}``) through the
same REST webhook as borrower text, with metadata ``{"huanxin_system": {"ts": <unix seconds>,
"sig": <hex HMAC-SHA256, key GATEWAY_SYSTEM_SECRET, over f"{sender_id}\\n{ts}\\n{text}">}}``.
Anything else that reaches Rasa as a system intent (typed on a channel that passes "/..."
through, such as Telegram, or replayed after 5 minutes) is not believed: the actions answer it
as a message they did not understand and use nothing from its entities.

Rasa strips the message text before the actions see it: the gateway signs the text it sends,
which has no leading or trailing whitespace.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time

from rasa_sdk import Tracker

logger = logging.getLogger(__name__)

MAX_SKEW_S = 300


def sign_system_message(sender_id: str, ts: int, text: str, secret: str) -> str:
    """The gateway's signature of a system message: hex HMAC-SHA256 over f"{sender_id}\\n{ts}\\n{text}"."""
    return hmac.new(secret.encode("utf-8"), f"{sender_id}\n{ts}\n{text}".encode(), hashlib.sha256).hexdigest()


def is_signed_by_gateway(tracker: Tracker, secret: str | None = None, now: float | None = None) -> bool:
    """True when the latest message carries a valid, fresh gateway signature. Without
    GATEWAY_SYSTEM_SECRET nothing is believed (fail closed)."""
    secret = os.environ.get("GATEWAY_SYSTEM_SECRET", "") if secret is None else secret
    if not secret:
        logger.warning("GATEWAY_SYSTEM_SECRET is not set: system messages are refused")
        return False
    latest = tracker.latest_message or {}
    system = (latest.get("metadata") or {}).get("huanxin_system") if isinstance(latest.get("metadata"), dict) else None
    if not isinstance(system, dict):
        return False
    ts, sig = system.get("ts"), system.get("sig")
    if isinstance(ts, bool) or not isinstance(ts, int) or not isinstance(sig, str):
        return False
    now = time.time() if now is None else now
    if abs(now - ts) > MAX_SKEW_S:
        return False
    expected = sign_system_message(str(tracker.sender_id), ts, latest.get("text") or "", secret)
    return hmac.compare_digest(expected, sig.strip().lower())
