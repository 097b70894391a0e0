"""Test helpers: a widget client over the real WebSocket and a logged-in desk client."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from gateway.keys import auth_key

from .gw_fakes import FIXED_NOW  # noqa: F401 - the FakeClock's start, imported by tests from here

PASSWORD = "correct horse battery"
WECHAT_TOKEN = "huanxin-test-token"
SYSTEM_SECRET = "gateway-system-secret-for-tests"
WAIT_S = 5.0  # how long Widget.wait_for waits for a matching event


class Widget:
    """Plays the borrower's browser: opens a conversation, sends, collects what arrives."""

    def __init__(self, client, conversation_id: str, token: str) -> None:
        self.client = client
        self.conversation_id = conversation_id
        self.token = token
        self.ws = None
        self.events: list[dict[str, Any]] = []
        self.last_seq = 0

    @classmethod
    async def open(cls, client, language: str = "en") -> Widget:
        resp = await client.post("/api/chat/conversations", json={"language": language})
        assert resp.status == 201
        data = await resp.json()
        widget = cls(client, data["conversation_id"], data["token"])
        await widget.connect()
        return widget

    async def connect(self) -> None:
        """Open the socket and authenticate in its first frame (secrets never go in the URL)."""
        self.ws = await self.client.ws_connect("/ws/chat")
        await self.ws.send_json(
            {"type": "auth", "conversation_id": self.conversation_id, "token": self.token, "after": self.last_seq}
        )

    async def send(self, text: str, client_msg_id: str | None = None, payload: str | None = None) -> dict:
        await self.ws.send_json({"type": "message", "text": text, "client_msg_id": client_msg_id, "payload": payload})
        return await self.wait_for(lambda e: e["type"] == "ack" and e.get("client_msg_id") == client_msg_id)

    async def wait_for(self, predicate) -> dict:
        """The first unseen event that matches, waiting up to WAIT_S seconds for it."""
        for event in self.events:
            if predicate(event) and not event.get("_seen"):
                event["_seen"] = True
                return event
        async with asyncio.timeout(WAIT_S):
            while True:
                event = await self.ws.receive_json()
                self.events.append(event)
                if event.get("type") == "message":
                    self.last_seq = max(self.last_seq, event["seq"])
                if predicate(event):
                    event["_seen"] = True
                    return event

    def messages(self) -> list[dict]:
        seen: dict[int, dict] = {}
        for e in self.events:
            if e.get("type") == "message":
                seen[e["seq"]] = e
        return [seen[k] for k in sorted(seen)]


async def make_agent(client, username: str, role: str = "agent") -> None:
    await client.app[auth_key].create_agent(username, PASSWORD, role, display_name=username.title())


async def login(client, username: str, password: str = PASSWORD):
    """Log in through the form; returns (status, csrf token for API calls or None)."""
    form = await client.get("/desk/login")
    html = await form.text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    resp = await client.post(
        "/desk/login", data={"username": username, "password": password, "csrf": csrf}, allow_redirects=False
    )
    if resp.status != 303:
        return resp.status, None
    me = await client.get("/desk/api/me")
    return 303, (await me.json())["csrf_token"]


class Desk:
    def __init__(self, client, csrf: str) -> None:
        self.client = client
        self.csrf = csrf
        self.ws = None  # the desk socket, when opened (agent_desk)

    async def post(self, path: str, body: dict | None = None):
        return await self.client.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})

    async def take(self, conversation_id: str):
        return await self.post(f"/desk/api/conversations/{conversation_id}/take")

    async def reply(self, conversation_id: str, text: str, agent_only: bool = False):
        return await self.post(
            f"/desk/api/conversations/{conversation_id}/messages", {"text": text, "agent_only": agent_only}
        )

    async def handback(self, conversation_id: str, **body):
        return await self.post(f"/desk/api/conversations/{conversation_id}/handback", body)

    async def close(self, conversation_id: str, outcome: str):
        return await self.post(f"/desk/api/conversations/{conversation_id}/close", {"outcome": outcome})

    async def queue(self) -> list[dict]:
        resp = await self.client.get("/desk/api/queue")
        assert resp.status == 200
        return (await resp.json())["conversations"]

    async def view(self, conversation_id: str):
        return await self.client.get(f"/desk/api/conversations/{conversation_id}")


async def desk_for(client, username: str, role: str = "agent") -> Desk:
    """A new agent, logged in through the form on this client (its cookie jar holds the session)."""
    await make_agent(client, username, role)
    status, csrf = await login(client, username)
    assert status == 303
    return Desk(client, csrf)


async def other_client(aiohttp_client, client):
    """A second client of the same running gateway, with a cookie jar of its own."""
    return await aiohttp_client(client.server)


async def agent_desk(aiohttp_client, client, username: str, display: str, role: str = "agent", online: bool = True):
    """A new agent on a client of their own; with ``online`` their desk socket is open."""
    own = await other_client(aiohttp_client, client)
    await client.app[auth_key].create_agent(username, PASSWORD, role, display_name=display)
    status, csrf = await login(own, username)
    assert status == 303
    desk = Desk(own, csrf)
    desk.ws = await own.ws_connect("/ws/desk") if online else None
    if desk.ws is not None:
        assert (await desk.ws.receive_json())["type"] == "hello"
    return desk


async def escalated_conversation(client) -> Widget:
    """A widget conversation whose borrower asked for a human (state agent, nobody assigned)."""
    widget = await Widget.open(client)
    await widget.send("I want a human", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    return widget


async def record_verification(sessions: Any, borrower_id: str, conversation_id: str) -> None:
    """The ledger's record of a verification in this conversation (what POST /verifications
    leaves), so the gateway's door finds the borrower verified there."""
    from datetime import UTC, datetime, timedelta

    from ledger.db import models as m

    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        s.add(
            m.VerificationSession(
                token_hash=conversation_id.ljust(64, "0"),
                borrower_id=borrower_id,
                conversation_id=conversation_id,
                created_at=now,
                last_used_at=now,
                expires_at=now + timedelta(minutes=30),
            )
        )
