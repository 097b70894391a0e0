"""A seeded fuzzer of the gateway's HTTP and WebSocket inputs, run against the real app
(``gateway.web.init_app``, state in ``gateway.keys``) with the fake Rasa of gw_fake_rasa: no running stack needed.

Used by tests/gateway/test_fuzz_gateway.py (a few hundred inputs) and bench/fuzz_gateway.py
(thousands). Every input goes to one row of ``ENDPOINTS`` (round-robin, so each row gets its
share); a row names the endpoint and the function that builds and sends one input. A 5xx,
an ERROR logged by the server (an unhandled exception), a request that does not finish
within the timeout, a dropped connection or a failed health check is a failure; any 4xx is
fine (429 and 403 from limits and replay refusal included). The same seed gives the same
inputs, so a failure is reproduced by running the same seed again.

The chat WebSocket is tried with both ways of authenticating: the query string
(``?conversation=..&token=..&after=..``) and a first frame ``{"type": "auth", ...}``;
whichever the gateway accepts is used for the authenticated inputs.

To adapt: a new route gets a ``Fuzzer`` method (build the input, send it, return what was sent
and the ``Outcome``) and a row in ``ENDPOINTS``; credentials come from ``Fuzzer.start`` (desk
sessions through ``DeskAuth.login``, not the rate-limited form; web conversations through the API).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import secrets
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from gateway.keys import auth_key, hub_key

from .gw_helpers import PASSWORD, WECHAT_TOKEN, make_agent

# ---- nasty values ----------------------------------------------------------------------------

NASTY_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\t\n",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ufeff",
    "\u202eevil",
    "\u200b\u200d",
    "👨‍👩‍👧‍👦",
    "e\u0301" * 300,
    "１３８００１３８０００",
    "𝕳𝖚𝖆𝖓",
    "\uffff",
    "\U0010ffff",
    "还信" * 50,
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "]]><x>",
    "${jndi:ldap://x}",
    "{{csrf}}",
    "%00",
    "%ED%A0%80",
    "../../etc/passwd",
    '/handback{"agent_note":"waived"}',
    '/inform{"plan": "deferral"}',
    "/",
    "//",
    "\r\nSet-Cookie: x=1",
    "null",
    "true",
    "1e309",
    "-0",
    "NaN",
    "9" * 40,
    "-1",
    "0",
    "人工",
    "human",
    "verify me",
    "choose",
    "complain",
    "1",
    "２",
    "²",
    "①",
    "٣",
    "x" * 2001,
    "y" * 20_000,
    "z" * 70_000,
)
NASTY_VALUES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    1.5,
    10**30,
    -(2**63),
    2**64,
    float("nan"),
    float("inf"),
    [],
    {},
    [1, "a"],
    {"a": {"b": None}},
    "",
)
CONTENT_TYPES: tuple[str | None, ...] = (
    None,
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/json; charset=bogus-charset",
    "application/json; charset=utf-16",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=zzz",
    "application/xml",
    "text/xml; charset=gbk",
    "application/octet-stream",
    "ä/ö",
    "",
)


def nasty_string(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(NASTY_STRINGS)
    return "".join(rng.choice(NASTY_STRINGS[:20]) or "x" for _ in range(rng.randint(1, 5)))


def nasty_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.45:
        return nasty_string(rng)
    if roll < 0.8 or depth > 3:
        return rng.choice(NASTY_VALUES)
    if roll < 0.9:
        return [nasty_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {nasty_string(rng)[:20]: nasty_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def deep(rng: random.Random, levels: int) -> str:
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    return opener * levels + "1" + closer * levels


def json_bytes(value: Any) -> bytes:
    """JSON with lone surrogates kept as \\u escapes (valid JSON, not valid UTF-8 when decoded)."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


def raw_body(rng: random.Random, valid: Any) -> bytes:
    """A body for a JSON endpoint: mostly the valid object with its fields mutated, else junk."""
    roll = rng.random()
    if roll < 0.45:
        obj = dict(valid) if isinstance(valid, dict) else {}
        for _ in range(rng.randint(1, 3)):
            key = rng.choice(list(obj) or ["x"]) if rng.random() < 0.8 else nasty_string(rng)[:30]
            obj[key] = nasty_value(rng)
        return json_bytes(obj)
    if roll < 0.55:
        return json_bytes(valid)
    junk: list[Callable[[], bytes]] = [
        lambda: b"",
        lambda: b"{",
        lambda: b'{"text": "unterminated',
        lambda: deep(rng, rng.choice([50, 999, 5000, 30_000])).encode(),
        lambda: b"\xff\xfe\x00{" + b"\x80" * 10,
        lambda: "\ufeff".encode() + json_bytes(valid),
        lambda: json_bytes(nasty_value(rng)),
        lambda: b"[" + b"1," * 20_000 + b"1]",
        lambda: b"x" * rng.choice([65_537, 300_000]),
        lambda: json.dumps(valid).encode("utf-16"),
        lambda: b'{"a": 1, "a": [2]}',
        lambda: b"NaN",
        lambda: b"<xml><a>1</a></xml>",
        lambda: b"text=hi&language=zh&csrf=x",
    ]
    return rng.choice(junk)()


def path_param(rng: random.Random, known: list[str]) -> str:
    """A path segment: a known id, or something odd, percent-encoded (lone surrogates included)."""
    if known and rng.random() < 0.55:
        return rng.choice(known)
    value = rng.choice([secrets.token_hex(16), nasty_string(rng), "a" * 65, "0", "..", "%2e%2e", "ÿ"])
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


# ---- results -------------------------------------------------------------------------------


@dataclass
class EndpointStats:
    inputs: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: int = 0
    plain_4xx: int = 0  # a 4xx without a problem+json body (fine; reported for the lead)


@dataclass
class Failure:
    index: int
    endpoint: str
    kind: str  # 5xx, crash, hang, disconnect, unhealthy
    detail: str
    sent: dict[str, Any]


@dataclass
class Report:
    seed: int
    examples: int
    seconds: float = 0.0
    stats: dict[str, EndpointStats] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    chat_ws_auth: str = "?"

    @property
    def five_xx(self) -> int:
        return sum(
            n for s in self.stats.values() for code, n in s.statuses.items() if isinstance(code, int) and code >= 500
        )

    @property
    def crashes(self) -> int:
        return sum(1 for f in self.failures if f.kind != "5xx")

    def render(self) -> str:
        lines = [
            f"seed={self.seed} inputs={self.examples} time={self.seconds:.1f}s 5xx={self.five_xx} "
            f"crashes={self.crashes} failures={len(self.failures)} chat_ws_auth={self.chat_ws_auth}",
            f"{'endpoint':<18} {'inputs':>6} {'fail':>5} {'4xx-no-problem':>14}  statuses",
        ]
        for name, s in self.stats.items():
            codes = " ".join(f"{k}:{v}" for k, v in sorted(s.statuses.items(), key=lambda kv: str(kv[0])))
            lines.append(f"{name:<18} {s.inputs:>6} {s.failures:>5} {s.plain_4xx:>14}  {codes}")
        kinds = Counter((f.endpoint, f.kind, f.detail.splitlines()[0][:100] if f.detail else "") for f in self.failures)
        for (endpoint, kind, detail), n in kinds.most_common():
            lines.append(f"FAILURE x{n} {endpoint} {kind}: {detail}")
        if self.failures:
            first = self.failures[0]
            lines.append(f"first failing input (#{first.index}, {first.endpoint}, {first.kind}):")
            lines.append("  " + short(first.sent, 3000))
            lines.append("  " + first.detail[-3000:].replace("\n", "\n  "))
        return (
            "\n".join(lines).encode("utf-8", "backslashreplace").decode("utf-8")
        )  # printable even with lone surrogates


def short(value: Any, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"...(+{len(text) - limit} chars)"


class ErrorLog(logging.Handler):
    """Collects ERROR records (aiohttp's "Error handling request", asyncio's lost task errors...)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], HttpProcessingError):
            return  # aiohttp's own parser refused the request and answered 400 (it logs that at ERROR)
        if record.exc_info and any("gw_fake_rasa" in f.filename for f in traceback.extract_tb(record.exc_info[2])):
            return  # the fake Rasa choking on a forged intent is not the gateway's failure
        self.records.append(record)

    def take(self) -> list[str]:
        taken, self.records = self.records, []
        out = []
        for r in taken:
            text = f"{r.name}: {r.getMessage()}"
            if r.exc_info:
                text += "\n" + "".join(traceback.format_exception(*r.exc_info))[-2500:]
            out.append(text)
        return out


# ---- the fuzzing context -------------------------------------------------------------------


@dataclass
class Outcome:
    status: int | str  # HTTP status, "ws" for an accepted socket, or "none"
    problem: bool = True  # the 4xx came with a problem+json body (or is not HTTP at all)


class Fuzzer:
    def __init__(self, client, seed: int, timeout_s: float = 10.0, clock=None) -> None:
        self.client = client
        self.rng = random.Random(seed)
        self.timeout_s = timeout_s
        self.clock = clock
        self.conversations: list[tuple[str, str]] = []  # (id, token) of web conversations
        self.sessions: list[tuple[str, str]] = []  # (desk cookie token, csrf)
        self.base = str(client.make_url("/")).rstrip("/")
        self.http: aiohttp.ClientSession | None = None
        self.chat_ws_auth = "query"  # or "frame", found at start
        self.last_sent: dict[str, Any] = {}

    # -- set-up --------------------------------------------------------------------------

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        auth = self.client.app[auth_key]
        for username, role in (("fuzz_supervisor", "supervisor"), ("fuzz_agent", "agent")):
            await make_agent(self.client, username, role)
            result = await auth.login(username, PASSWORD)  # not through the (rate-limited) form
            if result is None:
                raise RuntimeError(f"the fuzzer could not log {username} in through DeskAuth.login")
            token, csrf, _ = result
            self.sessions.append((token, csrf))
        for _ in range(3):
            await self.new_conversation()
        if not self.conversations:
            raise RuntimeError("POST /api/chat/conversations created no conversation for the fuzzer")
        self.chat_ws_auth = await self.detect_chat_ws_auth()
        for conv_id, token in self.conversations[
            1:
        ]:  # two waiting for a person, so desk actions get past the state checks
            ws = await self.open_chat_ws(conv_id, token)
            await ws.send_json({"type": "message", "text": "I want a human", "client_msg_id": "escalate"})
            with contextlib.suppress(asyncio.TimeoutError):
                while (await ws.receive_json(timeout=5)).get("type") != "ack":
                    pass
            await ws.close()

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()

    async def new_conversation(self) -> None:
        async with self.http.post(
            self.base + "/api/chat/conversations", json={"language": self.rng.choice(["zh", "en"])}
        ) as r:
            if r.status == 201:
                data = await r.json()
                self.conversations.append((data["conversation_id"], data["token"]))
                del self.conversations[:-40]

    async def open_chat_ws(self, conv_id: str, token: str, after: int = 0, mode: str | None = None):
        """An authenticated chat socket, in the way the gateway accepts (query or first frame)."""
        mode = mode or self.chat_ws_auth
        if mode == "query":
            return await self.http.ws_connect(
                self.base + "/ws/chat?" + urlencode({"conversation": conv_id, "token": token, "after": after})
            )
        ws = await self.http.ws_connect(self.base + "/ws/chat")
        await ws.send_json({"type": "auth", "conversation_id": conv_id, "token": token, "after": after})
        return ws

    async def detect_chat_ws_auth(self) -> str:
        conv_id, token = self.conversations[0]
        for mode in ("frame", "query"):
            try:
                ws = await self.open_chat_ws(conv_id, token, mode=mode)
            except aiohttp.WSServerHandshakeError:
                continue
            try:
                msg = await ws.receive(timeout=2)
                if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data).get("type") == "state":
                    return mode
            except (TimeoutError, ValueError):
                pass
            finally:
                await ws.close()
        return "query"

    # -- helpers -------------------------------------------------------------------------

    def conv_ids(self) -> list[str]:
        return [c for c, _ in self.conversations]

    def desk_cookie(self) -> tuple[dict[str, str], str]:
        """A Cookie header (valid session mostly) and the CSRF token to send with it."""
        rng = self.rng
        token, csrf = rng.choice(self.sessions)
        roll = rng.random()
        if roll < 0.75:
            cookie = {"Cookie": f"hx_desk={token}"}
        elif roll < 0.85:
            cookie = {}
        else:
            cookie = {"Cookie": "hx_desk=" + quote(nasty_string(rng).encode("utf-8", "surrogatepass"), safe="")}
        if rng.random() < 0.15:
            csrf = rng.choice([secrets.token_urlsafe(32), "", "é" * 3, "\u00ff"])
        return cookie, csrf

    def origin(self) -> dict[str, str]:
        if self.rng.random() < 0.7:  # mostly one that passes, so the handlers behind the check get inputs
            return rng_pick(self.rng, [{}, {"Origin": self.base}])
        return rng_pick(
            self.rng,
            [
                {"Origin": "https://evil.example"},
                {"Origin": "null"},
                {"Origin": "http://["},
                {"Origin": "http://[::1"},
                {"Origin": "http://ä.example"},
                {"Origin": "://"},
            ],
        )

    def content_type(self, usual: str) -> dict[str, str]:
        ct = usual if self.rng.random() < 0.6 else self.rng.choice(CONTENT_TYPES)
        return {} if ct is None else {"Content-Type": ct}

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> Outcome:
        self.last_sent = {"method": method, "path": path, "headers": headers, "body": body}
        url = URL(self.base + path, encoded=True)
        async with self.http.request(
            method, url, headers=headers or {}, data=body, allow_redirects=False, skip_auto_headers=("Content-Type",)
        ) as r:
            await r.read()
            problem = r.status < 400 or (r.content_type == "application/problem+json")
            return Outcome(r.status, problem)

    # -- endpoint inputs (each returns what was sent, for the report, and the outcome) ----------

    async def chat_create(self) -> tuple[dict, Outcome]:
        valid = {"language": self.rng.choice(["zh", "en"])}
        body = raw_body(self.rng, valid) if self.rng.random() < 0.8 else None
        headers = self.content_type("application/json")
        sent = {"method": "POST", "path": "/api/chat/conversations", "headers": headers, "body": body}
        outcome = await self.request("POST", "/api/chat/conversations", headers=headers, body=body)
        if outcome.status == 201 and self.rng.random() < 0.3:
            await self.new_conversation()
        return sent, outcome

    async def chat_messages(self) -> tuple[dict, Outcome]:
        rng = self.rng
        conv_id, token = rng.choice(self.conversations)
        path_id = conv_id if rng.random() < 0.7 else path_param(rng, self.conv_ids())
        headers = {}
        roll = rng.random()
        if roll < 0.7:
            headers["X-Client-Token"] = token
        elif roll < 0.85:
            headers["X-Client-Token"] = quote(nasty_string(rng).encode("utf-8", "surrogatepass"))[:4000]
        after = rng.choice(["0", "1", "-5", "abc", "9" * 30, "1e3", "", "١٢", "2147483648", "9223372036854775808"])
        path = f"/api/chat/conversations/{path_id}/messages?after={quote(after)}"
        sent = {"method": "GET", "path": path, "headers": headers}
        return sent, await self.request("GET", path, headers=headers)

    def chat_frame(self) -> str | bytes | None:
        rng = self.rng
        valid = {
            "type": "message",
            "text": rng.choice(["hello", "human", "choose", "verify me", "1"]),
            "client_msg_id": secrets.token_hex(4),
            "payload": None,
        }
        roll = rng.random()
        if roll < 0.5:
            obj = dict(valid)
            for _ in range(rng.randint(1, 2)):
                obj[rng.choice(["text", "payload", "client_msg_id", "type"])] = nasty_value(rng)
            return json.dumps(obj, allow_nan=True)
        if roll < 0.65:
            return json.dumps(valid)
        options: list[Callable[[], str | bytes | None]] = [
            lambda: "not json",
            lambda: deep(rng, rng.choice([999, 5000, 15_000])),
            lambda: json.dumps(nasty_value(rng), allow_nan=True),
            lambda: b"\x00\xff binary",
            lambda: "x" * 20_000,  # over the socket's max message size
            lambda: json.dumps(
                {
                    "type": "auth",
                    "conversation_id": nasty_value(rng),
                    "token": nasty_value(rng),
                    "after": nasty_value(rng),
                },
                allow_nan=True,
            ),
            lambda: None,  # a ping
        ]
        return rng.choice(options)()

    async def chat_ws(self) -> tuple[dict, Outcome]:
        rng = self.rng
        conv_id, token = rng.choice(self.conversations)
        roll = rng.random()
        frames = [self.chat_frame() for _ in range(rng.randint(1, 4))]
        sent: dict[str, Any] = {"socket": "/ws/chat", "frames": frames}
        self.last_sent = sent
        authenticated = roll < 0.7
        try:
            if authenticated:
                after = rng.choice([0, 0, 3, -1])
                sent["auth"] = f"{self.chat_ws_auth}(valid, after={after})"
                ws = await self.open_chat_ws(conv_id, token, after)
            elif roll < 0.85:  # odd query-string credentials
                query = {
                    "conversation": rng.choice([conv_id, nasty_string(rng)]),
                    "token": nasty_string(rng),
                    "after": rng.choice(["x", "9" * 30, "-1", "2147483648", ""]),
                }
                query = {k: quote(v.encode("utf-8", "surrogatepass"), safe="") for k, v in query.items()}
                path = "/ws/chat?" + "&".join(f"{k}={v}" for k, v in query.items())
                sent["auth"] = "query(odd) " + path
                ws = await self.http.ws_connect(URL(self.base + path, encoded=True))
            else:  # odd first frame
                first = rng.choice(
                    [
                        {
                            "type": "auth",
                            "conversation_id": conv_id,
                            "token": nasty_value(rng),
                            "after": nasty_value(rng),
                        },
                        {"type": "auth", "conversation_id": nasty_value(rng), "token": token, "after": 0},
                        {
                            "type": "auth",
                            "conversation_id": conv_id,
                            "token": token,
                            "after": rng.choice(["9" * 30, 10**30, 1.5, -3]),
                        },
                        nasty_value(rng),
                    ]
                )
                sent["auth"] = f"frame(odd) {short(first, 200)}"
                ws = await self.http.ws_connect(self.base + "/ws/chat")
                await ws.send_str(json.dumps(first, allow_nan=True))
        except aiohttp.WSServerHandshakeError as exc:
            return sent, Outcome(exc.status)
        async with ws:
            try:
                for frame in frames:
                    if frame is None:
                        await ws.ping()
                    elif isinstance(frame, bytes):
                        await ws.send_bytes(frame)
                    else:
                        await ws.send_str(frame)
                # a sentinel: its ack proves the socket still serves after the odd frames
                sentinel = secrets.token_hex(4)
                await ws.send_json({"type": "message", "text": "sentinel", "client_msg_id": sentinel})
                deadline = time.monotonic() + (self.timeout_s if authenticated else 1.0)
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        if authenticated and ws.close_code is None:
                            return sent, Outcome("hang")
                        return sent, Outcome("ws")
                    msg = await ws.receive(timeout=left)
                    if msg.type in (
                        aiohttp.WSMsgType.CLOSE,
                        aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.ERROR,
                    ):
                        return sent, Outcome(f"ws-closed:{ws.close_code}")
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        event = json.loads(msg.data)
                        if event.get("type") == "ack" and event.get("client_msg_id") == sentinel:
                            return sent, Outcome("ws")
            except TimeoutError:
                return sent, Outcome("hang" if authenticated else "ws")
            except (ConnectionResetError, aiohttp.ClientConnectionError):
                return sent, Outcome(f"ws-closed:{ws.close_code}")

    async def desk_login_form(self) -> tuple[dict, Outcome]:
        headers = rng_pick(
            self.rng,
            [
                {},
                {"Cookie": "hx_login_csrf=" + quote(nasty_string(self.rng).encode("utf-8", "surrogatepass"), safe="")},
            ],
        )
        sent = {"method": "GET", "path": "/desk/login", "headers": headers}
        return sent, await self.request("GET", "/desk/login", headers=headers)

    async def desk_login(self) -> tuple[dict, Outcome]:
        rng = self.rng
        csrf = secrets.token_urlsafe(8)
        fields: dict[str, Any] = {
            "username": rng.choice(["fuzz_agent", "fuzz_supervisor", "nobody", nasty_string(rng)]),
            "password": rng.choice([PASSWORD, "wrong password", nasty_string(rng)]),
            "csrf": csrf if rng.random() < 0.8 else nasty_string(rng),
        }
        for _ in range(rng.randint(0, 2)):
            fields[rng.choice(list(fields) + ["extra"])] = nasty_string(rng)
        headers = {"Cookie": f"hx_login_csrf={csrf}"} if rng.random() < 0.85 else {}
        headers.update(self.origin())
        roll = rng.random()
        if roll < 0.5:
            body = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in fields.items()}).encode()
            headers.update(self.content_type("application/x-www-form-urlencoded"))
        elif roll < 0.75:
            boundary = "fuzzb"
            parts = []
            for k, v in fields.items():
                disposition = rng.choice(
                    [
                        f'form-data; name="{k}"',
                        f'form-data; name="{k}"; filename="f.txt"',
                        "form-data",
                        f'form-data; name="{k}"',
                    ]
                )
                ctype = rng.choice(
                    ["", "Content-Type: text/plain; charset=bogus\r\n", "Content-Type: application/json\r\n", ""]
                )
                parts.append(
                    f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{ctype}\r\n".encode()
                    + v.encode("utf-8", "surrogatepass")
                    + b"\r\n"
                )
            body = b"".join(parts) + (f"--{boundary}--\r\n".encode() if rng.random() < 0.8 else b"")
            headers["Content-Type"] = rng.choice(
                [
                    f"multipart/form-data; boundary={boundary}",
                    "multipart/form-data",
                    "multipart/form-data; boundary=other",
                ]
            )
        else:
            body = raw_body(rng, fields)
            headers.update(self.content_type("application/x-www-form-urlencoded"))
        sent = {"method": "POST", "path": "/desk/login", "headers": headers, "body": body}
        return sent, await self.request("POST", "/desk/login", headers=headers, body=body)

    async def desk_logout(self) -> tuple[dict, Outcome]:
        rng = self.rng
        throwaway = await self.client.app[auth_key].login("fuzz_agent", PASSWORD) if rng.random() < 0.3 else None
        if throwaway is not None:  # a session of its own, so the fuzzer's sessions stay alive
            token, csrf, _ = throwaway
            headers = {"Cookie": f"hx_desk={token}", "X-CSRF-Token": csrf}
        else:
            headers = {"Cookie": "hx_desk=" + secrets.token_urlsafe(8), "X-CSRF-Token": nasty_string(rng)[:50]}
            headers = {k: quote(v.encode("utf-8", "surrogatepass"), safe="=") for k, v in headers.items()}
        sent = {"method": "POST", "path": "/desk/logout", "headers": headers}
        return sent, await self.request("POST", "/desk/logout", headers=headers)

    async def desk_get(self, path: str) -> tuple[dict, Outcome]:
        cookie, _ = self.desk_cookie()
        sent = {"method": "GET", "path": path, "headers": cookie}
        return sent, await self.request("GET", path, headers=cookie)

    async def desk_me(self) -> tuple[dict, Outcome]:
        return await self.desk_get("/desk/api/me")

    async def desk_queue(self) -> tuple[dict, Outcome]:
        return await self.desk_get(self.rng.choice(["/desk/api/queue", "/desk/api/queue?limit=-1", "/desk"]))

    async def desk_view(self) -> tuple[dict, Outcome]:
        return await self.desk_get(f"/desk/api/conversations/{path_param(self.rng, self.conv_ids())}")

    async def desk_action(self, action: str, valid: dict[str, Any]) -> tuple[dict, Outcome]:
        rng = self.rng
        cookie, csrf = self.desk_cookie()
        headers = {**cookie, **self.origin(), **self.content_type("application/json")}
        if rng.random() < 0.9:
            headers["X-CSRF-Token"] = csrf
        body = raw_body(rng, valid) if rng.random() < 0.7 else json_bytes(valid)
        conv_id = rng.choice(self.conv_ids()) if rng.random() < 0.5 else path_param(rng, self.conv_ids())
        path = f"/desk/api/conversations/{conv_id}/{action}"
        sent = {"method": "POST", "path": path, "headers": headers, "body": body}
        return sent, await self.request("POST", path, headers=headers, body=body)

    async def desk_take(self) -> tuple[dict, Outcome]:
        return await self.desk_action("take", {})

    async def desk_reply(self) -> tuple[dict, Outcome]:
        return await self.desk_action(
            "messages",
            {"text": self.rng.choice(["hello", "ok", "your phone 13800138000"]), "agent_only": self.rng.random() < 0.3},
        )

    async def desk_handback(self) -> tuple[dict, Outcome]:
        slots: dict[str, Any] = {"language": "en", "monthly_income": "3000"}
        if self.rng.random() < 0.4:  # odd slot names and values, nested below the top level
            slots[nasty_string(self.rng)[:40]] = nasty_value(self.rng)
            slots[self.rng.choice(["language", "monthly_income", "pending_intent"])] = nasty_value(self.rng)
        return await self.desk_action("handback", {"note": "ok", "internal_note": "n", "slots": slots})

    async def desk_close(self) -> tuple[dict, Outcome]:
        return await self.desk_action(
            "close", {"outcome": self.rng.choice(["resolved", "other", "bogus"]), "note": "x"}
        )

    async def desk_plans_evaluate(self) -> tuple[dict, Outcome]:
        loan = self.rng.choice(["HX0000000001", "", "X" * 300, 7, None])
        return await self.desk_action("plans/evaluate", {"loan_number": loan})

    async def desk_plans_send(self) -> tuple[dict, Outcome]:
        plan = self.rng.choice(["deferral", "term_extension", "holiday", "", None, ["deferral"]])
        return await self.desk_action("plans/send", {"loan_number": "HX0000000001", "plan_type": plan})

    async def desk_payment_trace(self) -> tuple[dict, Outcome]:
        rng = self.rng
        valid: dict[str, Any] = {
            "loan_number": "HX0000000001",
            "paid_on": rng.choice(["2026-11-28", "2026-02-30", "tomorrow", "", None]),
            "amount": rng.choice(["500.00", "12.345", "-1", "0", 500.0, "1e3", None]),
            "reference": rng.choice(["WX2026", "has space", "R" * 65, "", None]),
            "channel": rng.choice(["bank_transfer", "Bank", "x" * 40, None]),
        }
        return await self.desk_action("payment-trace", valid)

    async def chat_plan_accept(self) -> tuple[dict, Outcome]:
        """The borrower accepting a desk plan card: a real or mangled token, conversation and card id."""
        rng = self.rng
        conv_id, token = rng.choice(self.conversations)
        path_id = conv_id if rng.random() < 0.7 else path_param(rng, self.conv_ids())
        card = path_param(rng, [])
        headers = {"X-Client-Token": token} if rng.random() < 0.7 else {}
        path = f"/api/chat/conversations/{path_id}/plan-cards/{card}/accept"
        body = raw_body(rng, {}) if rng.random() < 0.3 else None
        sent = {"method": "POST", "path": path, "headers": headers, "body": body}
        return sent, await self.request("POST", path, headers=headers, body=body)

    async def desk_ws(self) -> tuple[dict, Outcome]:
        rng = self.rng
        cookie, _ = self.desk_cookie()
        headers = {**cookie, **self.origin()}
        frames = [
            rng.choice(["hi", deep(rng, 3000), "x" * 5000, json.dumps(nasty_value(rng), allow_nan=True)])
            for _ in range(rng.randint(0, 3))
        ]
        sent = {"socket": "/ws/desk", "headers": headers, "frames": frames}
        self.last_sent = sent
        try:
            ws = await self.http.ws_connect(self.base + "/ws/desk", headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return sent, Outcome(exc.status)
        async with ws:
            try:
                hello = await ws.receive(timeout=self.timeout_s)
                if hello.type != aiohttp.WSMsgType.TEXT:
                    return sent, Outcome(f"ws-closed:{ws.close_code}")
                for frame in frames:
                    await ws.send_str(frame)
                await ws.ping()
                await asyncio.sleep(0)
            except TimeoutError:
                return sent, Outcome("hang")
            except (ConnectionResetError, aiohttp.ClientConnectionError):
                pass
        return sent, Outcome("ws")

    def wechat_query(self) -> dict[str, str]:
        rng = self.rng
        now = int(time.time()) if self.clock is None or rng.random() < 0.5 else int(self.clock().timestamp())
        timestamp = rng.choice([str(now)] * 6 + [str(now - 3600), str(now + 3600), "0", "-1", "9" * 30, "abc", ""])
        nonce = secrets.token_hex(6) if rng.random() < 0.9 else "replayed-nonce"
        signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()
        roll = rng.random()
        if roll < 0.1:
            signature = "0" * 40
        elif roll < 0.15:
            signature = nasty_string(rng)
        query = {"signature": signature, "timestamp": timestamp, "nonce": nonce}
        if rng.random() < 0.1:
            del query[rng.choice(list(query))]
        if rng.random() < 0.1:
            query["encrypt_type"] = rng.choice(["aes", "raw", ""])
        return query

    def wechat_xml(self, content: str | None = None) -> bytes:
        rng = self.rng
        fields = {
            "ToUserName": "gh_fuzz",
            "FromUserName": "o" + secrets.token_hex(13) if rng.random() < 0.5 else "o_fuzz_user",
            "CreateTime": str(int(time.time())),
            "MsgType": rng.choice(["text"] * 5 + ["voice", "image", "event", "Text", "?"]),
            "Content": content or rng.choice(["hello", "human", "choose", "1", "２", "²", "①", "٣", "9", "verify me"]),
            "MsgId": str(rng.randint(1, 10**18)),
        }
        if content is not None:
            return (
                f"<xml><ToUserName>gh_fuzz</ToUserName><FromUserName>o_fuzz_user</FromUserName>"
                f"<CreateTime>{fields['CreateTime']}</CreateTime><MsgType>text</MsgType>"
                f"<Content>{content.replace('&', '&amp;').replace('<', '&lt;')}</Content>"
                f"<MsgId>{fields['MsgId']}</MsgId></xml>"
            ).encode("utf-8", "surrogatepass")
        if fields["MsgType"] == "event":
            fields["Event"] = rng.choice(["subscribe", "CLICK", ""])
        if fields["MsgType"] == "voice":
            fields["Recognition"] = "hello"
        for _ in range(rng.randint(0, 3)):
            key = rng.choice(list(fields) + ["Extra"])
            if rng.random() < 0.2:
                fields.pop(key, None)
            else:
                fields[key] = rng.choice([nasty_string(rng), "o" * 200, "9" * 200, "12" * 40])

        def esc(v: str) -> str:
            return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

        inner = "".join(
            f"<{k}>{rng.choice(['<![CDATA[' + v.replace(']]>', '') + ']]>', esc(v)])}</{k}>" for k, v in fields.items()
        )
        body = f"<xml>{inner}</xml>"
        roll = rng.random()
        if roll < 0.65:
            return body.encode("utf-8", "surrogatepass")
        mutations: list[Callable[[], bytes]] = [
            lambda: b'<?xml version="1.0" encoding="bogus"?>' + body.encode("utf-8", "surrogatepass"),
            lambda: '<?xml version="1.0" encoding="utf-16"?>'.encode("utf-16") + body.encode("utf-16", "surrogatepass"),
            lambda: b'<?xml version="1.0" encoding="gbk"?>' + body.encode("gbk", "replace"),
            lambda: b'<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>',
            lambda: b"<xml><ToUserName>a</ToUserName>" * 2,
            lambda: b"<notxml/>",
            lambda: b"<xml><A><B><C>1</C></B></A></xml>",
            lambda: ("<xml>" + "<a>" * 5000 + "</a>" * 5000 + "</xml>").encode(),
            lambda: b"<xml>" + b"<x>1</x>" * 9000 + b"</xml>",
            lambda: body.encode("utf-8", "surrogatepass")[: rng.randint(1, len(body))],
            lambda: b"\xff\xfe<xml>\x80</xml>",
            lambda: b'<xml xmlns="urn:x"><ToUserName>a</ToUserName></xml>',
            lambda: b"<?pi x?><!-- c --><xml><MsgType>text</MsgType></xml>",
            lambda: body.replace("<xml>", "<xml><Content>&#0;</Content>").encode("utf-8", "surrogatepass"),
            lambda: raw_body(rng, fields),
            lambda: b"",
        ]
        return rng.choice(mutations)()

    async def wechat_echo(self) -> tuple[dict, Outcome]:
        query = self.wechat_query()
        query["echostr"] = self.rng.choice(["12345", nasty_string(self.rng)[:3000]])
        path = "/wechat?" + urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in query.items()})
        sent = {"method": "GET", "path": path}
        return sent, await self.request("GET", path)

    async def wechat_push(self) -> tuple[dict, Outcome]:
        query = self.wechat_query()
        path = "/wechat?" + urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in query.items()})
        if self.rng.random() < 0.3:  # the bot offers buttons first, so a numeric-looking reply picks one
            choose = "/wechat?" + urlencode(self.signed_query())
            await self.request("POST", choose, body=self.wechat_xml("choose"))
            body = self.wechat_xml(
                self.rng.choice(["1", "２", "²", "①", "٣", "⑩", "9", "0", "-1", "1.0", nasty_string(self.rng)])
            )
        else:
            body = self.wechat_xml()
        headers = self.content_type("text/xml")
        sent = {"method": "POST", "path": path, "headers": headers, "body": body}
        return sent, await self.request("POST", path, headers=headers, body=body)

    async def pages(self) -> tuple[dict, Outcome]:
        rng = self.rng
        method, path = rng.choice(
            [
                ("GET", "/"),
                ("GET", "/demo"),
                ("GET", "/chat"),
                ("GET", "/widget.js"),
                ("GET", "/static/" + path_param(rng, [])),
                ("GET", "/static/../web.py"),
                ("GET", "/healthz"),
                ("PUT", "/api/chat/conversations"),
                ("DELETE", "/desk/api/queue"),
                ("GET", "/nowhere/" + path_param(rng, [])),
                ("POST", "/healthz"),
                ("OPTIONS", "/api/chat/conversations"),
                ("GET", "/ws/chat"),
                ("GET", "/ws/desk"),
                ("HEAD", "/desk/api/queue"),
                (
                    "GET",
                    "/ws/chat?"
                    + urlencode(dict(zip(("conversation", "token"), rng.choice(self.conversations), strict=True))),
                ),
                (
                    "HEAD",
                    "/ws/chat?"
                    + urlencode(dict(zip(("conversation", "token"), rng.choice(self.conversations), strict=True))),
                ),
                ("HEAD", "/wechat"),
                ("TRACE", "/"),
                ("GET", "/desk/api/conversations/"),
                ("GET", "/api/chat/conversations//messages"),
            ]
        )
        headers = rng_pick(
            rng,
            [
                {},
                {"Range": "bytes=5-1"},
                {"If-Modified-Since": "garbage"},
                {"Upgrade": "websocket"},
                {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "99"},
                {"Accept-Encoding": "gzip, br, zstd"},
                {"Range": "bytes=-999999999999999999999"},
            ],
        )
        sent = {"method": method, "path": path, "headers": headers}
        return sent, await self.request(method, path, headers=headers)

    async def raw_http(self) -> tuple[dict, Outcome]:
        """Bytes no well-behaved client sends: invalid UTF-8 in headers and paths, odd methods."""
        rng = self.rng
        conv_id, token = rng.choice(self.conversations)
        session, csrf = rng.choice(self.sessions)
        junk = rng.choice([b"\xff\xfe", b"\xed\xa0\x80", b"\xc3", b"\x80abc", "é".encode("latin-1"), b"\x7f"])
        target, header = rng.choice(
            [
                (f"/api/chat/conversations/{conv_id}/messages".encode(), b"X-Client-Token: " + junk),
                (b"/desk/api/queue", b"Cookie: hx_desk=" + junk),
                (b"/desk/api/me", f"Cookie: hx_desk={session}\r\nOrigin: http://".encode() + junk),
                (b"/api/chat/conversations/" + junk + b"/messages", b"X-Client-Token: " + token.encode()),
                (b"/wechat?signature=" + junk + b"&timestamp=1&nonce=1", b"X-A: b"),
                (b"/desk/login", b"Cookie: hx_login_csrf=" + junk),
                (b"/desk/api/conversations/x/take", f"Cookie: hx_desk={session}\r\nX-CSRF-Token: ".encode() + junk),
                (b"/ws/chat?conversation=" + conv_id.encode() + b"&token=" + junk, b"X-A: b"),
            ]
        )
        method = rng.choice([b"GET", b"POST", b"GET", b"BREW", b"get"])
        body = b""
        extra = b""
        if method == b"POST":
            body = rng.choice([b"{}", b"csrf=" + junk, b"<xml>" + junk + b"</xml>"])
            extra = (
                f"X-CSRF-Token: {csrf}\r\nContent-Type: application/x-www-form-urlencoded; charset=".encode()
                + junk
                + b"\r\n"
            )
        request = (
            method
            + b" "
            + target
            + b" HTTP/1.1\r\nHost: "
            + self.base.split("//")[1].encode()
            + b"\r\n"
            + header
            + b"\r\n"
            + extra
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        sent = {"raw": request}
        self.last_sent = sent
        host, port = self.base.split("//")[1].rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(request)
            await writer.drain()
            line = await reader.readline()
            await reader.read()
        finally:
            writer.close()
        parts = line.split()
        status: int | str = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else "none"
        return sent, Outcome(status)

    async def burst(self) -> tuple[dict, Outcome]:
        """Several inputs at once: retried WeChat pushes, one chat message on two sockets, two agents
        taking the same conversation, a reply racing a close. Outcome: the worst status."""
        rng = self.rng
        kind = rng.choice(["wechat-retry", "chat-twice", "take-race", "reply-close"])
        sent: dict[str, Any] = {"burst": kind}
        self.last_sent = sent
        if kind == "wechat-retry":
            query = urlencode(self.signed_query())
            body = self.wechat_xml()
            sent.update(path="/wechat?" + query, body=body)
            calls = [self.request("POST", "/wechat?" + query, body=body) for _ in range(rng.randint(2, 4))]
        elif kind == "chat-twice":
            conv_id, token = rng.choice(self.conversations)
            frame = {
                "type": "message",
                "text": rng.choice(["hello", "human", "choose"]),
                "client_msg_id": secrets.token_hex(4),
            }
            sent.update(conversation=conv_id, frame=frame)

            async def send_once() -> Outcome:
                ws = await self.open_chat_ws(conv_id, token)
                async with ws:
                    await ws.send_json(frame)
                    while True:
                        msg = await ws.receive(timeout=self.timeout_s)
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            return Outcome(f"ws-closed:{ws.close_code}")
                        event = json.loads(msg.data)
                        if event.get("type") in ("ack", "error"):
                            return Outcome("ws")

            calls = [send_once(), send_once()]
        else:
            conv_id = rng.choice(self.conv_ids())
            sent.update(conversation=conv_id)
            (t1, c1), (t2, c2) = self.sessions
            first = ("take", t1, c1, b"{}")
            second = (
                ("take", t2, c2, b"{}")
                if kind == "take-race"
                else rng.choice(
                    [("messages", t1, c1, b'{"text": "hello"}'), ("close", t2, c2, b'{"outcome": "other"}')]
                )
            )
            calls = [
                self.request(
                    "POST",
                    f"/desk/api/conversations/{conv_id}/{action}",
                    body=body,
                    headers={"Cookie": f"hx_desk={token}", "X-CSRF-Token": csrf, "Content-Type": "application/json"},
                )
                for action, token, csrf, body in (first, second)
            ]
        outcomes = await asyncio.gather(*calls)
        worst = max(outcomes, key=lambda o: o.status if isinstance(o.status, int) else 0)
        return sent, worst

    def signed_query(self) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(6)
        signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()
        return {"signature": signature, "timestamp": timestamp, "nonce": nonce}

    async def healthy(self) -> bool:
        async with self.http.get(self.base + "/healthz") as r:
            return r.status == 200


def rng_pick(rng: random.Random, options: list[dict[str, str]]) -> dict[str, str]:
    return dict(rng.choice(options))


# ---- the endpoint table: adapt here when routes or their auth change ------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str
    send: Callable[[Fuzzer], Awaitable[tuple[dict, Outcome]]]


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("chat.create", "POST /api/chat/conversations", Fuzzer.chat_create),
    Endpoint("chat.messages", "GET /api/chat/conversations/{id}/messages", Fuzzer.chat_messages),
    Endpoint("chat.ws", "GET /ws/chat (query or first-frame auth, then frames)", Fuzzer.chat_ws),
    Endpoint("desk.login_form", "GET /desk/login", Fuzzer.desk_login_form),
    Endpoint("desk.login", "POST /desk/login (form, double-submit CSRF)", Fuzzer.desk_login),
    Endpoint("desk.logout", "POST /desk/logout", Fuzzer.desk_logout),
    Endpoint("desk.me", "GET /desk/api/me", Fuzzer.desk_me),
    Endpoint("desk.queue", "GET /desk/api/queue, /desk", Fuzzer.desk_queue),
    Endpoint("desk.view", "GET /desk/api/conversations/{id}", Fuzzer.desk_view),
    Endpoint("desk.take", "POST /desk/api/conversations/{id}/take", Fuzzer.desk_take),
    Endpoint("desk.reply", "POST /desk/api/conversations/{id}/messages", Fuzzer.desk_reply),
    Endpoint("desk.handback", "POST /desk/api/conversations/{id}/handback", Fuzzer.desk_handback),
    Endpoint("desk.close", "POST /desk/api/conversations/{id}/close", Fuzzer.desk_close),
    Endpoint("desk.plans_evaluate", "POST /desk/api/conversations/{id}/plans/evaluate", Fuzzer.desk_plans_evaluate),
    Endpoint("desk.plans_send", "POST /desk/api/conversations/{id}/plans/send", Fuzzer.desk_plans_send),
    Endpoint("desk.payment_trace", "POST /desk/api/conversations/{id}/payment-trace", Fuzzer.desk_payment_trace),
    Endpoint("chat.plan_accept", "POST /api/chat/conversations/{id}/plan-cards/{card}/accept", Fuzzer.chat_plan_accept),
    Endpoint("desk.ws", "GET /ws/desk (session cookie, Origin)", Fuzzer.desk_ws),
    Endpoint("wechat.echo", "GET /wechat (signed and unsigned echostr check)", Fuzzer.wechat_echo),
    Endpoint("wechat.push", "POST /wechat (signed and unsigned XML pushes)", Fuzzer.wechat_push),
    Endpoint("pages", "static pages, /healthz, unknown routes and methods", Fuzzer.pages),
    Endpoint("raw", "raw HTTP bytes: invalid UTF-8 in paths, headers, charsets", Fuzzer.raw_http),
    Endpoint("burst", "concurrent: WeChat retries, one chat message twice, take/take, reply/close", Fuzzer.burst),
)


async def fuzz(
    client,
    examples: int,
    seed: int,
    *,
    endpoints: list[str] | None = None,
    timeout_s: float = 10.0,
    clock=None,
    health_every: int = 50,
    progress: Callable[[int, Report], None] | None = None,
) -> Report:
    """Send ``examples`` inputs (seeded) to the gateway behind ``client`` (an aiohttp TestClient)."""
    table = [e for e in ENDPOINTS if not endpoints or e.name in endpoints]
    report = Report(seed=seed, examples=examples, stats={e.name: EndpointStats() for e in table})
    errors = ErrorLog()
    root = logging.getLogger()
    root.addHandler(errors)
    level = root.level
    root.setLevel(min(level or logging.WARNING, logging.ERROR))
    fuzzer = Fuzzer(client, seed, timeout_s, clock)
    started = time.monotonic()
    try:
        await fuzzer.start()
        errors.take()
        report.chat_ws_auth = fuzzer.chat_ws_auth
        for index in range(examples):
            endpoint = table[index % len(table)]
            stats = report.stats[endpoint.name]
            stats.inputs += 1
            sent: dict[str, Any] = {}
            fuzzer.last_sent = {}
            try:
                sent, outcome = await asyncio.wait_for(endpoint.send(fuzzer), timeout_s + 5)
            except TimeoutError:
                sent, outcome = fuzzer.last_sent, Outcome("hang")
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, ConnectionResetError) as exc:
                sent, outcome = fuzzer.last_sent, Outcome(f"disconnect:{type(exc).__name__}")
            stats.statuses[outcome.status] += 1
            if isinstance(outcome.status, int) and 400 <= outcome.status < 500 and not outcome.problem:
                stats.plain_4xx += 1
            await asyncio.sleep(0)  # let handlers that outlive the response log their errors
            problems: list[tuple[str, str]] = []
            if isinstance(outcome.status, int) and outcome.status >= 500:
                problems.append(("5xx", f"status {outcome.status}"))
            elif outcome.status == "hang":
                problems.append(("hang", f"no answer within {timeout_s}s"))
            elif isinstance(outcome.status, str) and outcome.status.startswith("disconnect"):
                problems.append(("disconnect", outcome.status))
            logged = errors.take()
            if logged:
                problems.append(("crash", "\n".join(logged)))
            if health_every and index % health_every == health_every - 1 and not await fuzzer.healthy():
                problems.append(("unhealthy", "/healthz did not answer 200"))
            if problems:
                stats.failures += 1
                kind = "crash" if any(k == "crash" for k, _ in problems) else problems[0][0]
                detail = "\n".join(d for _, d in problems)
                report.failures.append(Failure(index, endpoint.name, kind, detail, sent or {"unknown": True}))
            if progress is not None:
                progress(index, report)
        await asyncio.sleep(0.5)  # sockets closed by the last inputs finish their clean-up
        live = sum(len(subs) for subs in client.app[hub_key]._subs.values())  # the hub's private table: a leak check
        if live:
            report.failures.append(
                Failure(examples, "all", "leak", f"{live} hub subscriptions outlived their sockets", {})
            )
    finally:
        report.seconds = time.monotonic() - started
        await fuzzer.close()
        root.removeHandler(errors)
        root.setLevel(level)
    return report
