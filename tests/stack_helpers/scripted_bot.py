"""A scripted stand-in for Rasa (REST channel + tracker events) that talks to the real ledger API
the way the action server does: verification (phone, date of birth, ID last 4), then the loan
status; "person"/"人工" files an escalation and asks the gateway for a hand-off.

Used by the browser tests (tests/browser), which run without the trained Rasa stack.
"""

from __future__ import annotations

import json
import re

import aiohttp
from aiohttp import web

conversations_key = web.AppKey("conversations", dict)
ASKS_IDENTITY = {"custom": {"expects_identity_answer": True}}  # what the real bot sends with such questions


def make_scripted_bot(ledger_url: str, ledger_token: str) -> web.Application:
    app = web.Application()
    app[conversations_key] = {}
    headers = {"Authorization": f"Bearer {ledger_token}"}

    def say(sender: str, text: str, **extra) -> dict:
        return {"recipient_id": sender, "text": text, **extra}

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        sender, message = body["sender"], body["message"].strip()
        state = app[conversations_key].setdefault(sender, {"step": None})
        async with aiohttp.ClientSession(headers=headers) as http:
            if message.startswith("/handback"):
                note = json.loads(message[len("/handback") :] or "{}").get("agent_note", "")
                return web.json_response([say(sender, f"I'm back. As agreed with our colleague: {note}")])
            if "person" in message.lower() or "人工" in message or message == "/request_human":
                async with http.post(
                    f"{ledger_url}/api/v1/escalations",
                    json={
                        "conversation_id": sender,
                        "reason": "request_human",
                        "summary": "borrower asked for a person",
                        "language": "en",
                    },
                    headers={"X-Verification-Token": state.get("token", ""), "X-Conversation-Id": sender}
                    if state.get("token")
                    else {},
                ) as r:
                    assert r.status == 201, await r.text()
                return web.json_response(
                    [
                        say(sender, "Of course, I'm connecting you with a colleague."),
                        {"recipient_id": sender, "custom": {"handoff": {"reason": "request_human"}}},
                    ]
                )
            if message.lower() in ("bye", "goodbye") or "再见" in message:  # the end, as action_goodbye says it
                return web.json_response(
                    [say(sender, "Goodbye! 再见！"), {"recipient_id": sender, "custom": {"conversation_end": True}}]
                )
            if re.fullmatch(r"1\d{10}", message):
                state.update(phone=message, step="dob")
                return web.json_response(
                    [say(sender, "Thanks. What is your date of birth (YYYY-MM-DD)?"), ASKS_IDENTITY]
                )
            if state["step"] == "dob" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", message):
                state.update(dob=message, step="id")
                return web.json_response([say(sender, "And the last 4 characters of your ID number?"), ASKS_IDENTITY])
            if state["step"] == "id" and re.fullmatch(r"\w{4}", message):
                async with http.post(
                    f"{ledger_url}/api/v1/verifications",
                    json={
                        "conversation_id": sender,
                        "phone": state["phone"],
                        "date_of_birth": state["dob"],
                        "id_last4": message,
                    },
                ) as r:
                    if r.status != 201:
                        state["step"] = None
                        return web.json_response([say(sender, "Sorry, that does not match our records.")])
                    verified = await r.json()
                state.update(token=verified["token"], step=None)
                auth = {"X-Verification-Token": state["token"], "X-Conversation-Id": sender}
                async with http.get(
                    f"{ledger_url}/api/v1/borrowers/{verified['borrower']['borrower_id']}", headers=auth
                ) as r:
                    loan_number = (await r.json())["loans"][0]["loan_number"]
                async with http.get(f"{ledger_url}/api/v1/loans/{loan_number}/status", headers=auth) as r:
                    status = await r.json()
                return web.json_response(
                    [
                        say(
                            sender,
                            f"Thank you, {verified['borrower']['name']}. "
                            f"Loan {loan_number}: {status['overdue']['total']} CNY "
                            f"overdue, {status['days_past_due']} days past due.",
                            buttons=[
                                {"title": "Pay now", "payload": "/pay_now"},
                                {"title": "Talk to a person", "payload": "/request_human"},
                            ],
                        )
                    ]
                )
            if message in ("how much do I owe?", "how much do I owe") or "欠" in message:
                state["step"] = "phone"
                return web.json_response(
                    [say(sender, "I can help with that. First, what is your phone number?"), ASKS_IDENTITY]
                )
            return web.json_response([say(sender, f"You said: {message}. How else can I help?")])

    async def tracker_events(request: web.Request) -> web.Response:
        return web.json_response({"sender_id": request.match_info["sender"]})

    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", tracker_events)
    return app
