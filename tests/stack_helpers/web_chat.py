"""A borrower in the gateway's web chat, behaving as the widget (backend/src/gateway/static/chat.js):
POST /api/chat/conversations, one WebSocket /ws/chat, an outbox of unacknowledged messages
re-sent with their client ids after a reconnect, and replay from the last seq seen.

The tests are synchronous (like tests/e2e); the sockets live on one background event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .e2e_stack import Demo, Reply, http_json

REPLY_DEADLINE_S = 20  # the gateway's "still working" notice (8 s), a normal slow turn, and slack
QUIET_S = 0.6  # the replies of one turn are published together; this long without more ends a turn
ANSWER_SENDERS = ("bot", "system", "agent")


async def open_chat_socket(
    session: aiohttp.ClientSession, gateway_url: str, conversation_id: str, token: str, after: int
) -> aiohttp.ClientWebSocketResponse:
    """The one place that knows how the chat socket is authenticated: a first frame
    {"type": "auth", ...}, never a secret in the URL."""
    ws = await session.ws_connect(gateway_url.replace("http", "ws", 1) + "/ws/chat")
    await ws.send_json({"type": "auth", "conversation_id": conversation_id, "token": token, "after": after})
    return ws


class _Loop:
    """One event loop in a daemon thread for every chat of the session."""

    _loop: asyncio.AbstractEventLoop | None = None
    _lock = threading.Lock()

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                cls._loop = asyncio.new_event_loop()
                threading.Thread(target=cls._loop.run_forever, name="web-chat-loop", daemon=True).start()
            return cls._loop

    @classmethod
    def run(cls, coro, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, cls.get()).result(timeout)


@dataclass
class Sent:
    client_msg_id: str
    text: str
    payload: str | None
    seq: int | None = None  # from the gateway's ack
    duplicate_acks: int = 0


@dataclass
class WebChat:
    gateway_url: str
    language: str = "zh"
    conversation_id: str = ""
    token: str = ""
    messages: dict[int, dict] = field(default_factory=dict)  # by seq, as pushed or replayed
    sent: list[Sent] = field(default_factory=list)
    reconnects: int = 0
    errors: list[dict] = field(default_factory=list)  # {"type": "error"} frames
    reminder_ref: str | None = None  # the chat opened from a reminder's link (?r=...), as chat.js sends it

    def __post_init__(self) -> None:
        body = {"language": self.language, **({"reminder_ref": self.reminder_ref} if self.reminder_ref else {})}
        status, body = http_json("POST", f"{self.gateway_url}/api/chat/conversations", body)
        assert status == 201, f"the gateway answered {status} to a new conversation: {body!r}"
        self.conversation_id, self.token = body["conversation_id"], body["token"]
        self._changed: asyncio.Event | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._closing = False
        self._task = _Loop.run(self._start())

    # ---- the socket (on the loop) ---------------------------------------------------------
    async def _start(self) -> asyncio.Task:
        self._changed = asyncio.Event()
        self._session = aiohttp.ClientSession()
        return asyncio.get_running_loop().create_task(self._connection())

    def _last_seq(self) -> int:
        return max(self.messages, default=0)

    async def _connection(self) -> None:
        """Connect, flush the outbox, read frames; reconnect with back-off whenever it drops."""
        delay = 0.2
        while not self._closing:
            try:
                ws = await open_chat_socket(
                    self._session, self.gateway_url, self.conversation_id, self.token, self._last_seq()
                )
            except (TimeoutError, aiohttp.ClientError, OSError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            self._ws = ws
            try:
                for item in self.sent:
                    if item.seq is None:
                        await self._send(item)
                async for frame in ws:
                    if frame.type == aiohttp.WSMsgType.TEXT:
                        self._on_event(frame.json())
                        delay = 0.2
            except (aiohttp.ClientError, OSError, ConnectionResetError):
                pass
            finally:
                self._ws = None
                await ws.close()
            if not self._closing:
                self.reconnects += 1
                await asyncio.sleep(delay)

    async def _send(self, item: Sent) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_json(
                {"type": "message", "text": item.text, "payload": item.payload, "client_msg_id": item.client_msg_id}
            )

    def _on_event(self, event: dict) -> None:
        if event.get("type") == "message" and isinstance(event.get("seq"), int):
            self.messages.setdefault(event["seq"], event)
        elif event.get("type") == "ack":
            for item in self.sent:
                if item.client_msg_id == event.get("client_msg_id"):
                    if item.seq is not None:
                        item.duplicate_acks += 1
                    item.seq = event.get("seq")
        elif event.get("type") == "error":
            self.errors.append(event)
            if event.get("code") in ("unavailable", "rate_limited"):  # as chat.js does: send it again later
                for item in self.sent:
                    if item.client_msg_id == event.get("client_msg_id") and item.seq is None:
                        asyncio.get_running_loop().call_later(
                            float(event.get("retry_after") or 3), lambda i=item: asyncio.ensure_future(self._send(i))
                        )
        self._changed.set()

    async def _wait(self, done, deadline: float) -> bool:
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
            except TimeoutError:
                pass
        return True

    async def _say(self, text: str, payload: str | None, wait_for_bot: bool, deadline_s: float) -> Reply:
        item = Sent(uuid.uuid4().hex, text, payload)
        self.sent.append(item)
        await self._send(item)
        deadline = time.monotonic() + deadline_s
        if not await self._wait(lambda: item.seq is not None, deadline):
            return Reply([])
        senders = ("bot",) if wait_for_bot else ANSWER_SENDERS
        await self._wait(lambda: any(m["sender"] in senders for m in self._after(item.seq)), deadline)
        count = -1
        while count != len(self._after(item.seq)) and time.monotonic() < deadline:  # the rest of the turn
            count = len(self._after(item.seq))
            await asyncio.sleep(QUIET_S)
        return Reply(self._after(item.seq))

    def _after(self, seq: int) -> list[dict]:
        return [self.messages[s] for s in sorted(self.messages) if s > seq]

    # ---- what a test calls -----------------------------------------------------------------
    def say(
        self, text: str, payload: str | None = None, *, wait_for_bot: bool = False, deadline_s: float = REPLY_DEADLINE_S
    ) -> Reply:
        """Sends one message and returns what came after it: the first answer (a bot reply, or a
        system message unless `wait_for_bot`) plus the rest of that turn; empty when nothing came
        within the deadline (assert_every_message_answered_once reports it)."""
        return _Loop.run(self._say(text, payload, wait_for_bot, deadline_s))

    def send(self, text: str) -> asyncio.Future:
        """Sends without waiting; `.result()` of the returned future is the say() reply."""
        return asyncio.run_coroutine_threadsafe(self._say(text, None, False, REPLY_DEADLINE_S), _Loop.get())

    def verify(self, who: Demo, first_message: str) -> Reply:
        assert self.say(first_message).text, f"no answer to {first_message!r}"
        self.say(who.phone)
        self.say(who.dob)
        return self.say(who.id_last4)

    def transcript(self) -> list[dict]:
        status, body = http_json(
            "GET",
            f"{self.gateway_url}/api/chat/conversations/{self.conversation_id}/messages",
            headers={"X-Client-Token": self.token},
        )
        assert status == 200, f"the transcript answered {status}: {body!r}"
        return body["messages"]

    def close(self) -> None:
        async def stop() -> None:
            self._closing = True
            if self._ws is not None:
                await self._ws.close()
            self._task.cancel()
            await self._session.close()

        _Loop.run(stop(), timeout=10)

    def dump(self) -> str:
        try:
            rows = self.transcript()
        except Exception as exc:  # noqa: BLE001 - a dump for a failure report
            return f"(no transcript: {exc}); pushed: {sorted(self.messages)}"
        return "\n".join(f"{m['seq']:>3} {m['sender']:>8}: {m['text']}" for m in rows)


def assert_every_message_answered_once(chat: WebChat) -> None:
    """The stored transcript (what a reconnecting widget replays) has every borrower message
    once, in the order sent, each followed by at least one bot or system message before the
    next one, and no reply text twice for one borrower message."""
    rows = chat.transcript()
    seqs = [m["seq"] for m in rows]
    assert seqs == sorted(set(seqs)), f"seq not unique and increasing: {seqs}"
    borrower = [m for m in rows if m["sender"] == "borrower"]
    assert [m["seq"] for m in borrower] == [s.seq for s in chat.sent], (
        f"borrower messages stored {[m['text'] for m in borrower]} for sent {[s.text for s in chat.sent]}"
    )
    for stored, sent in zip(borrower, chat.sent, strict=True):
        if not any(c.isdigit() for c in sent.text):  # digits may be masked in the transcript
            assert stored["text"] == sent.text, (stored, sent)
    for i, b in enumerate(borrower):
        end = borrower[i + 1]["seq"] if i + 1 < len(borrower) else float("inf")
        answers = [m["text"] for m in rows if b["seq"] < m["seq"] < end and m["sender"] in ANSWER_SENDERS]
        assert answers, f"borrower message #{b['seq']} {b['text']!r} got no answer:\n{chat.dump()}"
        assert len(answers) == len(set(answers)), f"#{b['seq']} {b['text']!r} answered twice: {answers}"
