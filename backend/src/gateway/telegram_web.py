"""The Telegram bot's webhook: a borrower's reply in the chat their reminders come to
(docs/outbound.md).

Telegram posts each ``Update`` (Bot API ``setWebhook`` with ``secret_token``) to
``POST /api/telegram/webhook`` with ``X-Telegram-Bot-Api-Secret-Token:
<GATEWAY_TELEGRAM_WEBHOOK_SECRET>``. A STOP ("TD", "退订", "STOP", or the command "/stop") in
``message.text`` from a chat id a borrower bound (``ledger bind-channel --channel telegram``)
opts that borrower out of Telegram reminders at once (the ledger's STOP handling, through its
door), and the answer is Telegram's "reply in the webhook response":
``{"method": "sendMessage", "chat_id": <the chat>, "text": <the confirmation>}``. Anything
else (other text, an unbound chat, an update without a message, a body that is no Update) is
answered 200 ``{}`` and changes nothing: Telegram retries every other status, so an update we
cannot use must not come back. Without the secret configured the webhook is off (404); a
missing secret is 401, a wrong one 403. Neither chat ids nor texts are logged.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from .keys import service_key, settings_key
from .problems import problem

log = logging.getLogger("gateway.telegram")
routes = web.RouteTableDef()
HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096  # Telegram's own limit on a message's text
NOTHING: dict[str, Any] = {}


def _command_word(text: str) -> str:
    """A bot command's word ("/stop@HuanxinBot" -> "stop"); other text as it is."""
    if text.startswith("/") and " " not in text.strip():
        return text.strip()[1:].split("@", 1)[0]
    return text


def _chat_and_text(update: Any) -> tuple[int, str] | None:
    """``(message.chat.id, message.text)`` of an Update carrying a text message, else None."""
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict):
        return None
    chat, text = message.get("chat"), message.get("text")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if type(chat_id) is not int or not isinstance(text, str) or len(text) > MAX_TEXT:
        return None
    return chat_id, text


@routes.post("/api/telegram/webhook")
async def telegram_webhook(request: web.Request) -> web.Response:
    expected = request.app[settings_key].telegram_webhook_secret
    if not expected:
        return problem(404, "not_found", "the Telegram webhook is not configured (GATEWAY_TELEGRAM_WEBHOOK_SECRET)")
    given = request.headers.get(HEADER)
    if not given:
        return problem(401, "unauthorized", f"{HEADER} is required")
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8")):
        return problem(403, "forbidden", f"wrong {HEADER}")
    try:
        update = await request.json()
    except (ValueError, LookupError, RecursionError):  # not JSON, not UTF-8, unknown charset, nested too deep
        log.warning("telegram webhook: unreadable update body ignored (%d bytes)", request.content_length or 0)
        return web.json_response(NOTHING)
    found = _chat_and_text(update)
    if found is None:
        return web.json_response(NOTHING)
    chat_id, text = found
    replier = getattr(request.app[service_key].accounts, "telegram_reply", None)
    if replier is None:
        log.warning("telegram webhook: no ledger behind this gateway to record a STOP")
        return web.json_response(NOTHING)
    result = await replier(_command_word(text), str(chat_id))
    if not (result["stop"] and result["bound"] and result["confirmation"]):
        return web.json_response(NOTHING)
    log.info("telegram webhook: a STOP reply opted a bound chat out of telegram")
    return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": result["confirmation"]})
