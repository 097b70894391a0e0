"""A tiny stand-in for Rasa's REST channel and HTTP API, with the behaviour the gateway relies on.

It answers like a bot would, records what it received (and on which instance), and asks for a
hand-off with the custom payload the gateway supports.
"""
from __future__ import annotations

import asyncio
import json
import random

from aiohttp import web

received_key = web.AppKey("received", list)
slots_key = web.AppKey("slots", dict)


def make_fake_rasa(name: str = "rasa-1", jitter_s: float = 0.0, delay_s: float = 0.0) -> web.Application:
    app = web.Application()
    app[received_key] = []
    app[slots_key] = {}

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        sender, message = body["sender"], body["message"]
        app[received_key].append((sender, message))
        if delay_s:
            await asyncio.sleep(delay_s)
        if jitter_s:
            await asyncio.sleep(random.uniform(0, jitter_s))
        if message.startswith("/handback"):
            payload = json.loads(message[len("/handback"):] or "{}")
            return web.json_response([{"recipient_id": sender,
                                       "text": f"[{name}] I'm back. Agreed: {payload.get('agent_note', '')}"}])
        if "human" in message or "人工" in message:
            return web.json_response([
                {"recipient_id": sender, "text": f"[{name}] Let me get a colleague."},
                {"recipient_id": sender, "custom": {"handoff": {"reason": "request_human"}}},
            ])
        if message == "verify me":  # asks an identity question, as the verification form does
            return web.json_response([{"recipient_id": sender, "text": f"[{name}] Your phone number, please?"},
                                      {"recipient_id": sender, "custom": {"expects_identity_answer": True}}])
        if message == "complain":
            return web.json_response([{"recipient_id": sender, "custom": {"escalate": "complaint"}}])
        if message == "choose":
            return web.json_response([{"recipient_id": sender, "text": "Which plan?",
                                       "buttons": [{"title": "Deferral", "payload": "/inform{\"plan\": \"deferral\"}"},
                                                   {"title": "Extension", "payload": "/inform{\"plan\": \"term_extension\"}"}]}])
        return web.json_response([{"recipient_id": sender, "text": f"[{name}] echo: {message}"}])

    async def tracker_events(request: web.Request) -> web.Response:
        events = await request.json()
        slots = app[slots_key].setdefault(request.match_info["sender"], {})
        for event in events:
            slots[event["name"]] = event["value"]
        return web.json_response({"sender_id": request.match_info["sender"]})

    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", tracker_events)
    return app
