"""The SMS provider's inbound webhook: a borrower's reply to a reminder text (docs/outbound.md).

``POST /api/sms/inbound`` with ``X-Webhook-Secret: <GATEWAY_SMS_WEBHOOK_SECRET>`` and
``{"from": "<sender's number>", "text": "<the reply>"}``. A STOP ("TD", "退订", "STOP") opts the
number's owner out of SMS reminders at once (the ledger's STOP handling, through its door) and
the answer carries the confirmation to text back: ``{"stop": true, "reply": "..."}``. Any other
text changes nothing: ``{"stop": false, "reply": null}``. A number that matches no borrower gets
the same answer as one that does, so the webhook tells nobody whose number it is. Without the
secret configured the webhook is off (404); a missing secret is 401, a wrong one 403.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from .conversations import InvalidInput
from .keys import service_key, settings_key
from .problems import problem, read_json

log = logging.getLogger("gateway.sms")
routes = web.RouteTableDef()
MAX_PHONE, MAX_TEXT = 32, 2000


@routes.post("/api/sms/inbound")
async def sms_inbound(request: web.Request) -> web.Response:
    expected = request.app[settings_key].sms_webhook_secret
    if not expected:
        return problem(404, "not_found", "the SMS webhook is not configured (GATEWAY_SMS_WEBHOOK_SECRET)")
    given = request.headers.get("X-Webhook-Secret")
    if not given:
        return problem(401, "unauthorized", "X-Webhook-Secret is required")
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8")):
        return problem(403, "forbidden", "wrong X-Webhook-Secret")
    data = await read_json(request)
    sender, text = data.get("from"), data.get("text")
    if not isinstance(sender, str) or not 0 < len(sender.strip()) <= MAX_PHONE:
        raise InvalidInput(f"from must be the sender's phone number (at most {MAX_PHONE} characters)")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise InvalidInput(f"text must be the reply's text (at most {MAX_TEXT} characters)")
    accounts = request.app[service_key].accounts
    replier = getattr(accounts, "sms_reply", None)
    if replier is None:
        return problem(404, "not_found", "no ledger behind this gateway to record an opt-out")
    result = await replier(text, sender.strip())
    return web.json_response({"stop": result["stop"], "reply": result["confirmation"]})
