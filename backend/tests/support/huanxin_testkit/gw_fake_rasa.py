"""A tiny stand-in for Rasa's REST channel and HTTP API, with the behaviour the gateway relies on.

It answers like a bot would, records what it received (and on which instance), and asks for a
hand-off with the custom payload the gateway supports.
"""

from __future__ import annotations

import asyncio
import json
import random

import jwt
from aiohttp import web

received_key = web.AppKey("received", list)
metadata_key = web.AppKey("metadata", list)  # the metadata of each webhook call, in order
slots_key = web.AppKey("slots", dict)
api_calls_key = web.AppKey("api_calls", list)  # (query, Authorization header) of each HTTP API call


PLAN_CARDS = [
    {
        "plan_type": "deferral",
        "title": "1. Deferral",
        "payload": '/inform{"choice":"deferral"}',
        "rows": [{"label": "Payment", "value": "CNY 905.20 a month"}, {"label": "Payments", "value": "11"}],
        "choose": "Choose this",
        "figures": {"payment_amount": "905.20"},
    },
    {
        "plan_type": "term_extension",
        "title": "2. Extension",
        "payload": '/inform{"choice":"term_extension"}',
        "rows": [{"label": "Payment", "value": "CNY 512.80 a month"}],
        "choose": "Choose this",
    },
]


def _jwt_allows(header: str | None, secret: str, conversation_id: str) -> bool:
    """Rasa 3.6's check (rasa/server.py requires_auth + sufficient_scope): a valid HS256 Bearer
    JWT whose user.role is "admin", or "user" with user.username equal to the conversation."""
    if not header or not header.startswith("Bearer "):
        return False
    try:
        payload = jwt.decode(header[len("Bearer ") :], secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    user = payload.get("user") or {}
    return user.get("role") == "admin" or (user.get("role") == "user" and user.get("username") == conversation_id)


def make_fake_rasa(
    name: str = "rasa-1", jitter_s: float = 0.0, delay_s: float = 0.0, jwt_secret: str | None = None
) -> web.Application:
    app = web.Application()
    app[received_key] = []
    app[metadata_key] = []
    app[slots_key] = {}
    app[api_calls_key] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        sender, message = body["sender"], body["message"]
        app[received_key].append((sender, message))
        app[metadata_key].append(body.get("metadata"))
        if delay_s:
            await asyncio.sleep(delay_s)
        if jitter_s:
            await asyncio.sleep(random.uniform(0, jitter_s))
        if message.startswith("/handback"):
            payload = json.loads(message[len("/handback") :] or "{}")
            return web.json_response(
                [{"recipient_id": sender, "text": f"[{name}] I'm back. Agreed: {payload.get('agent_note', '')}"}]
            )
        if "human" in message or "人工" in message:
            return web.json_response(
                [
                    {"recipient_id": sender, "text": f"[{name}] Let me get a colleague."},
                    {"recipient_id": sender, "custom": {"handoff": {"reason": "request_human"}}},
                ]
            )
        if message == "verify me":  # asks an identity question, as the verification form does
            return web.json_response(
                [
                    {"recipient_id": sender, "text": f"[{name}] Your phone number, please?"},
                    {"recipient_id": sender, "custom": {"expects_identity_answer": True}},
                ]
            )
        if message == "bye":  # the bot ends the conversation, as action_goodbye does
            return web.json_response(
                [
                    {"recipient_id": sender, "text": f"[{name}] Goodbye!"},
                    {"recipient_id": sender, "custom": {"conversation_end": True}},
                ]
            )
        if message == "crash":  # what Rasa answers when an action crashes or the action server is down
            return web.json_response([])
        if message == "complain":
            return web.json_response([{"recipient_id": sender, "custom": {"escalate": "complaint"}}])
        if message == "choose":
            return web.json_response(
                [
                    {
                        "recipient_id": sender,
                        "text": "Which plan?",
                        "buttons": [
                            {"title": "Deferral", "payload": '/inform{"plan": "deferral"}'},
                            {"title": "Extension", "payload": '/inform{"plan": "term_extension"}'},
                        ],
                    }
                ]
            )
        if message == "plans":  # offered plans as the bot sends them: numbered text, buttons, cards
            return web.json_response(
                [
                    {
                        "recipient_id": sender,
                        "text": "1. Deferral: CNY 905.20 a month\n2. Extension: CNY 512.80 a month",
                        "buttons": [
                            {"title": "1. Deferral", "payload": '/inform{"choice":"deferral"}'},
                            {"title": "2. Extension", "payload": '/inform{"choice":"term_extension"}'},
                        ],
                    },
                    {"recipient_id": sender, "custom": {"plans": PLAN_CARDS}},
                    {"recipient_id": sender, "text": "Please choose one."},
                ]
            )
        return web.json_response([{"recipient_id": sender, "text": f"[{name}] echo: {message}"}])

    async def tracker_events(request: web.Request) -> web.Response:
        app[api_calls_key].append((dict(request.query), request.headers.get("Authorization")))
        if jwt_secret is not None and not _jwt_allows(
            request.headers.get("Authorization"), jwt_secret, request.match_info["sender"]
        ):
            return web.json_response({"reason": "NotAuthenticated"}, status=401)
        events = await request.json()
        slots = app[slots_key].setdefault(request.match_info["sender"], {})
        for event in events:
            slots[event["name"]] = event["value"]
        return web.json_response({"sender_id": request.match_info["sender"]})

    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", tracker_events)
    return app
