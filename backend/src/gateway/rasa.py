"""Rasa over HTTP: the REST channel webhook for turns, the HTTP API for hand-back slots.

Several Rasa instances share one tracker store (SQL) and one lock store (Redis), so any
instance can answer any conversation; the gateway spreads turns round-robin and keeps each
conversation's order with its own per-conversation lock. A turn is re-sent to the next
instance only when the connection was refused (the message never reached Rasa), never after
a timeout (it may have been processed).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt

HANDOFF_KEYS = ("handoff", "escalate")
# Plan cards (the bot's custom {"plans": [...]}, bot/actions/offers.py): what the widget shows of one.
CARD_TITLE_MAX = 120
CARD_ROWS_MAX = 8
CARD_LABEL_MAX = 60
CARD_VALUE_MAX = 200
CARD_CHOOSE_MAX = 40
INTENT_PREFIX = "/"  # rasa.shared.constants.INTENT_MESSAGE_PREFIX
JWT_LIFETIME_S = 60


class RasaUnavailable(Exception):
    """No Rasa instance answered the turn (refused, timed out or answered with an error)."""

    def __init__(self, detail: str, reason: str = "unavailable") -> None:
        super().__init__(detail)
        self.reason = reason  # "unavailable" or "timeout" (the turn may still have been handled)


def as_text(text: str) -> str:
    """Borrower text as Rasa will only ever read it as text.

    Rasa 3.6 (YAMLStoryReader.unpack_regex_message, used by RegexMessageHandler) strips the text
    with ``str.strip()`` and treats it as ``/intent{entities}`` when it then starts with "/". The
    leading "/" becomes the full-width solidus, which reads the same to a person and to NLU.
    """
    body = text.strip()
    if body.startswith(INTENT_PREFIX):
        return "\uff0f" + body[len(INTENT_PREFIX) :]
    return body


def system_metadata(secret: bytes, sender: str, message: str, ts: int) -> dict[str, Any]:
    """Shared protocol 2: the credential of a system intent (only the gateway holds the key)."""
    sig = hmac.new(secret, f"{sender}\n{ts}\n{message}".encode(), hashlib.sha256).hexdigest()
    return {"huanxin_system": {"ts": ts, "sig": sig}}


@dataclass(frozen=True)
class BotReply:
    text: str
    buttons: list[dict[str, Any]] | None = None


@dataclass
class BotTurn:
    """What one turn of the bot produced, with the hand-off request if it asked for one."""

    replies: list[BotReply] = field(default_factory=list)
    handoff_reason: str | None = None
    language: str | None = None
    expects_identity_answer: bool = False  # the bot asked for a phone, birth date or ID digits
    conversation_ended: bool = False  # the bot ended the conversation (goodbye): the widget asks for a rating


def _handoff_from_custom(custom: Any) -> str | None:
    if not isinstance(custom, dict):
        return None
    handoff = custom.get("handoff")
    if isinstance(handoff, dict):
        return str(handoff.get("reason") or "request_human")
    if handoff:
        return str(handoff) if isinstance(handoff, str) else "request_human"
    escalate = custom.get("escalate")
    if escalate:
        return str(escalate) if isinstance(escalate, str) else "request_human"
    return None


def _card(raw: Any) -> dict[str, Any] | None:
    """A plan card as the widget shows it: title, label/value rows, the choose label; strings
    only, cut to size; None when it is not a card."""
    if not isinstance(raw, dict) or not isinstance(raw.get("title"), str) or not isinstance(raw.get("rows"), list):
        return None
    rows = [
        {"label": r["label"][:CARD_LABEL_MAX], "value": r["value"][:CARD_VALUE_MAX]}
        for r in raw["rows"]
        if isinstance(r, dict) and isinstance(r.get("label"), str) and isinstance(r.get("value"), str)
    ][:CARD_ROWS_MAX]
    card: dict[str, Any] = {"title": raw["title"][:CARD_TITLE_MAX], "rows": rows}
    if isinstance(raw.get("choose"), str):
        card["choose"] = raw["choose"][:CARD_CHOOSE_MAX]
    return card


def _attach_cards(turn: BotTurn, plans: Any) -> None:
    """Each card onto the button with its payload, in the message just before (the numbered
    plans): the widget shows the cards, other channels the text and the buttons."""
    if not isinstance(plans, list) or not turn.replies or not turn.replies[-1].buttons:
        return
    last = turn.replies[-1]
    cards = {p["payload"]: p for p in plans if isinstance(p, dict) and isinstance(p.get("payload"), str)}
    buttons = []
    for button in last.buttons or []:
        card = _card(cards.get(button["payload"]))
        buttons.append({**button, "card": card} if card else button)
    turn.replies[-1] = BotReply(text=last.text, buttons=buttons)


def parse_rest_output(items: Any) -> BotTurn:
    """Turn the REST channel's output list into replies and an optional hand-off.

    Supported custom payloads (a ``json_message`` from an action):
    ``{"handoff": {"reason": "request_human"}}`` and ``{"escalate": "complaint"}``;
    a custom ``{"language": "en"}`` tells the conversation's language;
    ``{"expects_identity_answer": true}`` says the borrower's next message answers an identity
    question (it is stored redacted); ``{"conversation_end": true}`` says the bot ended the
    conversation (a web borrower is asked for a rating); ``{"plans": [card, ...]}`` puts each plan card on the button
    of the previous message with the card's payload (``_attach_cards``).
    """
    turn = BotTurn()
    if not isinstance(items, list):
        return turn
    for item in items:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        reason = _handoff_from_custom(custom)
        if reason and not turn.handoff_reason:
            turn.handoff_reason = reason
        if isinstance(custom, dict) and custom.get("language") in ("zh", "en"):
            turn.language = custom["language"]
        if isinstance(custom, dict) and custom.get("expects_identity_answer") is True:
            turn.expects_identity_answer = True
            continue
        if isinstance(custom, dict) and custom.get("conversation_end") is True:
            turn.conversation_ended = True
            continue
        if isinstance(custom, dict) and "plans" in custom:
            _attach_cards(turn, custom["plans"])
            continue
        text = item.get("text")
        buttons = item.get("buttons")
        clean_buttons = None
        if isinstance(buttons, list):
            clean_buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", b.get("title", "")))}
                for b in buttons
                if isinstance(b, dict)
            ] or None
        if isinstance(text, str) and text or clean_buttons:
            turn.replies.append(BotReply(text=text if isinstance(text, str) else "", buttons=clean_buttons))
        elif isinstance(custom, dict) and isinstance(custom.get("text"), str) and not reason:
            turn.replies.append(BotReply(text=custom["text"]))
    return turn


class RasaPool:
    def __init__(
        self,
        urls: tuple[str, ...],
        session: aiohttp.ClientSession,
        timeout_s: float = 120.0,
        jwt_secret: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not urls:
            raise ValueError("at least one Rasa URL")
        self.urls = urls
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._jwt_secret = jwt_secret
        self._clock = clock
        self._next = itertools.cycle(range(len(urls)))

    def _order(self) -> list[str]:
        start = next(self._next)
        return [self.urls[(start + i) % len(self.urls)] for i in range(len(self.urls))]

    async def send(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> BotTurn:
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        last_error: Exception | None = None
        for base in self._order():
            try:
                async with self._session.post(
                    f"{base}/webhooks/rest/webhook", json=body, timeout=self._timeout
                ) as resp:
                    if resp.status != 200:
                        raise RasaUnavailable(f"{base} answered {resp.status}")
                    return parse_rest_output(json.loads(await resp.text()))
            except aiohttp.ClientConnectorError as exc:  # never reached Rasa: safe to try the next one
                last_error = exc
                continue
            except TimeoutError as exc:
                raise RasaUnavailable(f"{base} timed out", reason="timeout") from exc
            except (aiohttp.ClientError, ValueError) as exc:
                raise RasaUnavailable(f"{base}: {type(exc).__name__}") from exc
        raise RasaUnavailable(f"no Rasa instance reachable: {last_error}")

    def _auth_headers(self, sender: str) -> dict[str, str]:
        """Shared protocol 6: a short-lived HS256 JWT in the Authorization header, never a URL token.

        Rasa 3.6 (rasa/server.py ``requires_auth``) accepts role "user" for the conversation whose
        id equals ``user.username``: the least it needs to append this conversation's events."""
        if not self._jwt_secret:
            return {}
        now = int(self._clock())
        token = jwt.encode(
            {"user": {"username": sender, "role": "user"}, "iat": now, "exp": now + JWT_LIFETIME_S},
            self._jwt_secret,
            algorithm="HS256",
        )
        return {"Authorization": f"Bearer {token}"}

    async def set_slots(self, sender: str, slots: dict[str, Any]) -> bool:
        """Append SlotSet events through Rasa's HTTP API (needs ``rasa run --enable-api``).

        Returns False when no instance accepted them (the hand-back still happens)."""
        if not slots:
            return True
        events = [{"event": "slot", "name": k, "value": v} for k, v in slots.items()]
        params = {"include_events": "NONE"}
        for base in self._order():
            try:
                async with self._session.post(
                    f"{base}/conversations/{sender}/tracker/events",
                    json=events,
                    params=params,
                    headers=self._auth_headers(sender),
                    timeout=self._timeout,
                ) as resp:
                    if resp.status == 200:
                        return True
            except (aiohttp.ClientError, TimeoutError):
                continue
        return False
