"""WeChat Official Account protocol: signatures, inbound XML, passive replies, customer-service API.

Plain-text ("明文") mode of the Official Account message push, as documented by the platform:

* every request (GET echostr check and POST message push) carries ``signature``,
  ``timestamp`` and ``nonce`` query parameters; ``signature`` is
  ``sha1("".join(sorted([token, timestamp, nonce])))`` in lowercase hex;
* a POST body is one ``<xml>`` element whose children are the message fields
  (ToUserName, FromUserName, CreateTime, MsgType, Content, MsgId, Event, ...);
* the server must answer within 5 seconds, either with a passive reply XML or with the
  plain string ``success`` (then later messages go out through the customer-service
  message API, ``POST /cgi-bin/message/custom/send``);
* the platform retries an unanswered push up to three times with the same MsgId
  (events without MsgId are identified by FromUserName + CreateTime).

This module has no web framework code: the gateway's web layer calls it. Safe-mode
(AES-encrypted) pushes are not supported and are refused by the web layer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Protocol

MAX_XML_BYTES = 64 * 1024
MAX_ID_CHARS = 64  # fits the conversation's external_user_id and the message's dedup key
SUCCESS = "success"
API_BASE = "https://api.weixin.qq.com"


class WeChatError(Exception):
    """Root of the WeChat adapter's errors."""


class MalformedMessage(WeChatError):
    """Raised when a pushed body is not a well-formed, safe, complete message XML."""


class WeChatApiError(WeChatError):
    """Raised when the platform's HTTP API answers with a non-zero errcode or an HTTP error."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"wechat api error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def compute_signature(token: str, timestamp: str, nonce: str) -> str:
    """sha1 of the lexicographically sorted, concatenated token, timestamp and nonce."""
    joined = "".join(sorted([token, timestamp, nonce]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def verify_signature(token: str, signature: str | None, timestamp: str | None, nonce: str | None) -> bool:
    """True when the query parameters were signed with our token (constant-time compare)."""
    if not token or not signature or not timestamp or not nonce:
        return False
    expected = compute_signature(token, timestamp, nonce)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


@dataclass(frozen=True)
class InboundMessage:
    """One pushed message or event, reduced to what the gateway uses."""

    to_user: str  # the Official Account's original id (gh_...)
    from_user: str  # the borrower's OpenID
    create_time: int
    msg_type: str  # text, image, voice, video, shortvideo, location, link, event
    msg_id: str | None
    content: str | None = None  # text content, or voice Recognition when enabled
    event: str | None = None
    event_key: str | None = None

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; FromUserName + CreateTime (+ Event) for events, as the platform advises."""
        if self.msg_id:
            return f"wx:{self.msg_id}"
        return f"wx:{self.from_user}:{self.create_time}:{self.event or ''}"

    @property
    def text_for_bot(self) -> str | None:
        """What the bot should see, or None when the message carries no text we can route."""
        if self.msg_type == "text" and self.content:
            return self.content
        if self.msg_type == "voice" and self.content:  # Recognition result
            return self.content
        return None


def parse_message(body: bytes) -> InboundMessage:
    """Parse a pushed XML body safely; raise MalformedMessage for anything else.

    Safe means: bounded size, no DTD (so no entity expansion and no external entities),
    exactly one ``<xml>`` root with text children, required fields present.
    """
    if len(body) > MAX_XML_BYTES:
        raise MalformedMessage("body too large")
    if not body.strip():
        raise MalformedMessage("empty body")
    upper = body.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise MalformedMessage("DTDs are not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedMessage(f"not well-formed XML: {exc}") from None
    except (ValueError, LookupError) as exc:  # an encoding declaration expat cannot use ("gbk", "bogus")
        raise MalformedMessage(f"unusable XML encoding: {exc}") from None
    if root.tag != "xml":
        raise MalformedMessage("root element must be <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            continue  # nested structures (e.g. ScanCodeInfo) are not used
        fields[child.tag] = (child.text or "").strip() if child.tag != "Content" else (child.text or "")
    for required in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
        if not fields.get(required):
            raise MalformedMessage(f"missing {required}")
    try:
        create_time = int(fields["CreateTime"])
    except ValueError:
        raise MalformedMessage("CreateTime is not an integer") from None
    msg_type = fields["MsgType"].lower()
    msg_id = fields.get("MsgId") or fields.get("MsgID") or None
    for name, value in (
        ("ToUserName", fields["ToUserName"]),
        ("FromUserName", fields["FromUserName"]),
        ("MsgId", msg_id),
    ):
        if value is not None and len(value) > MAX_ID_CHARS:  # OpenIDs have 28, MsgIds 20 at most
            raise MalformedMessage(f"{name} longer than {MAX_ID_CHARS} characters")
    if msg_type != "event" and not msg_id:
        raise MalformedMessage("missing MsgId")
    if msg_type == "text" and "Content" not in fields:
        raise MalformedMessage("missing Content")
    content = fields.get("Content")
    if msg_type == "voice":
        content = fields.get("Recognition") or None
    return InboundMessage(
        to_user=fields["ToUserName"],
        from_user=fields["FromUserName"],
        create_time=create_time,
        msg_type=msg_type,
        msg_id=msg_id,
        content=content,
        event=(fields.get("Event") or None),
        event_key=(fields.get("EventKey") or None),
    )


def _cdata(text: str) -> str:
    # "]]>" cannot appear inside CDATA: split it across two sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_text_reply(inbound: InboundMessage, content: str, now: int | None = None) -> str:
    """Passive text reply XML: To/From swapped relative to the inbound message."""
    created = int(time.time()) if now is None else now
    return (
        "<xml>"
        f"<ToUserName>{_cdata(inbound.from_user)}</ToUserName>"
        f"<FromUserName>{_cdata(inbound.to_user)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    )


def render_text(text: str | None, buttons: list[dict[str, Any]] | None, language: str) -> str:
    """One plain-text message for WeChat: text plus buttons as a numbered list to reply with."""
    parts = [text] if text else []
    if buttons:
        hint = "回复数字选择：" if language == "zh" else "Reply with a number:"
        lines = [f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, start=1)]
        parts.append(hint + "\n" + "\n".join(lines))
    return "\n".join(parts)


def choose_button(text: str, buttons: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The button a numeric reply ("2", "２") picks from the last offered buttons, if any."""
    if not buttons:
        return None
    stripped = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not (stripped.isascii() and stripped.isdigit()):  # "²" and "①" are digits to isdigit() but not to int()
        return None
    index = int(stripped)
    if 1 <= index <= len(buttons):
        return buttons[index - 1]
    return None


class HttpPoster(Protocol):
    """The two HTTP calls the API client needs; the real one wraps aiohttp, tests pass a fake."""

    async def get_json(self, url: str, params: dict[str, str]) -> dict[str, Any]: ...

    async def post_json(self, url: str, params: dict[str, str], body: dict[str, Any]) -> dict[str, Any]: ...


class AiohttpPoster:
    """HttpPoster over an aiohttp ClientSession (bounded timeouts)."""

    def __init__(self, session: Any, timeout_s: float = 5.0) -> None:
        import aiohttp

        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def get_json(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        async with self._session.get(url, params=params, timeout=self._timeout) as resp:
            return json.loads(await resp.text())

    async def post_json(self, url: str, params: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        async with self._session.post(
            url, params=params, data=data, headers={"Content-Type": "application/json"}, timeout=self._timeout
        ) as resp:
            return json.loads(await resp.text())


class CustomerServiceClient:
    """Customer-service message API (客服消息): access token cache + text send.

    Real endpoints: ``GET {API_BASE}/cgi-bin/token?grant_type=client_credential&appid=&secret=``
    and ``POST {API_BASE}/cgi-bin/message/custom/send?access_token=``. An expired or invalid
    token (errcode 40001, 40014, 42001) is refreshed once and the send retried.
    """

    TOKEN_URL = API_BASE + "/cgi-bin/token"
    SEND_URL = API_BASE + "/cgi-bin/message/custom/send"
    _TOKEN_ERRORS = {40001, 40014, 42001}

    def __init__(self, app_id: str, app_secret: str, http: HttpPoster, clock=time.monotonic) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._http = http
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0

    async def _access_token(self, force: bool = False) -> str:
        if not force and self._token and self._clock() < self._token_expires:
            return self._token
        data = await self._http.get_json(
            self.TOKEN_URL,
            {"grant_type": "client_credential", "appid": self._app_id, "secret": self._app_secret},
        )
        if "access_token" not in data:
            raise WeChatApiError(int(data.get("errcode", -1)), str(data.get("errmsg", "no access_token")))
        self._token = str(data["access_token"])
        # refresh five minutes early
        self._token_expires = self._clock() + max(int(data.get("expires_in", 7200)) - 300, 60)
        return self._token

    async def send_text(self, openid: str, content: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        for attempt in range(2):
            token = await self._access_token(force=attempt > 0)
            data = await self._http.post_json(self.SEND_URL, {"access_token": token}, body)
            errcode = int(data.get("errcode", 0))
            if errcode == 0:
                return
            if errcode in self._TOKEN_ERRORS and attempt == 0:
                continue
            raise WeChatApiError(errcode, str(data.get("errmsg", "")))
