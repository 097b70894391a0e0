"""Chat channel adapters for the dispatcher: WeChat (template or subscription message) and
Telegram (Bot API sendMessage), each to the address the borrower bound (``ledger
bind-channel``: a WeChat openid, a Telegram chat id), never to anyone else.

Both follow the dispatcher's adapter contract (services.channels): a batch of messages in, one
result each out. A provider's passing fault (network error, HTTP 5xx, WeChat "system busy",
Telegram 429 "retry after N") is retried here a few times with backoff; if it persists the
message fails and the dispatcher retries it on later passes with its own, longer backoff. A
refusal that no retry can mend (the borrower blocked the bot or unfollowed the account, an
unknown openid or chat id, a message the template cannot carry) fails as ``refused: ...``, and
the dispatcher gives it up at once. While a provider keeps failing, the rest of the batch is not
tried (each fails "not tried"): a batch never outlasts its worker's lease waiting on a dead
provider. Only a delivered message counts against the caps.

Exactly once: WeChat template messages carry ``client_msg_id`` (derived from the idempotency
key), with which WeChat sends one message per openid and id. Telegram's sendMessage has no
de-duplication reference: a worker killed between Telegram's answer and the row's "delivered"
sends that message again when its lease runs out (docs/outbound.md says so).

No address or text is logged or kept here: addresses are read per batch from the ledger and go
only to the provider; errors name the provider's code and description, never the address.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from ..domain.outbound import REFUSED  # the failure prefix the dispatcher gives up on at once
from .channels import OutboundMessage, SendResult

AddressBook = Callable[[str, Sequence[str]], Awaitable[Mapping[str, str]]]  # (channel, borrower ids) -> addresses
Sleep = Callable[[float], Awaitable[None]]


class ChatSendError(Exception):
    """One failed send. ``retry``: a passing fault worth another try; ``after``: the provider's
    requested wait in seconds (Telegram's retry_after)."""

    def __init__(self, message: str, *, retry: bool, after: float | None = None):
        super().__init__(message)
        self.retry = retry
        self.after = after


class ChannelConfigError(ValueError):
    """A channel's configuration or a bound address is unusable; ``key`` names what to fix."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Retry:
    """In-adapter retries of a passing fault: ``tries`` attempts in all, waiting ``first``
    seconds after the first failure, doubled after each, never more than ``longest`` (a
    provider's longer retry_after is left to the dispatcher's next pass)."""

    tries: int = 3
    first: float = 0.5
    longest: float = 5.0

    def wait(self, failures: int, asked: float | None) -> float | None:
        """Seconds to wait after the ``failures``-th failure, or None: stop trying."""
        if failures >= self.tries:
            return None
        wait = min(self.longest, self.first * 2 ** (failures - 1))
        if asked is not None:
            if asked > self.longest:
                return None
            wait = max(wait, asked)
        return wait


async def _post_json(http: aiohttp.ClientSession, url: str, body: Mapping[str, Any], **params: str) -> tuple[int, Any]:
    """POST JSON; (HTTP status, decoded JSON or None). Network faults are passing faults."""
    try:
        async with http.post(url, json=body, params=params or None) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = None
            return resp.status, data
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ChatSendError(f"network: {type(exc).__name__}", retry=True) from exc


async def _send_all(
    channel: str,
    messages: Sequence[OutboundMessage],
    addresses: AddressBook,
    send_one: Callable[[aiohttp.ClientSession, str, OutboundMessage], Awaitable[None]],
    retry: Retry,
    sleep: Sleep,
    seconds: float,
) -> list[SendResult]:
    """Each message to its borrower's address on ``channel``, with the in-adapter retries."""
    book = await addresses(channel, sorted({m.borrower_id for m in messages}))
    results: list[SendResult] = []
    failing: str | None = None  # the provider's lasting fault: the rest of the batch waits for the next pass
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as http:
        for msg in messages:
            address = book.get(msg.borrower_id)
            if not address:
                results.append(SendResult(msg.idempotency_key, False, f"{REFUSED}no {channel} address bound"))
                continue
            if failing is not None:
                results.append(SendResult(msg.idempotency_key, False, f"{channel}: not tried, {failing}"[:500]))
                continue
            failures = 0
            while True:
                try:
                    await send_one(http, address, msg)
                except ChatSendError as exc:
                    failures += 1
                    wait = retry.wait(failures, exc.after) if exc.retry else None
                    if wait is None:
                        prefix = "" if exc.retry else REFUSED
                        results.append(SendResult(msg.idempotency_key, False, f"{prefix}{channel}: {exc}"[:500]))
                        if exc.retry:  # still failing after the retries: no use trying the others now
                            failing = f"the provider was failing: {exc}"
                        break
                    await sleep(wait)
                else:
                    results.append(SendResult(msg.idempotency_key, True))
                    break
    return results


# --- Telegram ---------------------------------------------------------------------------------

TELEGRAM_API = "https://api.telegram.org"
TELEGRAM_MAX_TEXT = 4096  # sendMessage's limit, in characters
_CHAT_ID = re.compile(r"^[1-9][0-9]{0,15}$")


def check_telegram_chat_id(address: str) -> str:
    """A Telegram private chat id (the borrower's user id): a positive integer."""
    if not _CHAT_ID.fullmatch(address.strip()):
        raise ChannelConfigError("address", f"a Telegram chat id is a positive integer, got {address!r}")
    return address.strip()


class TelegramAdapter:
    """Telegram Bot API ``sendMessage`` (``POST {api}/bot{token}/sendMessage`` with
    ``{"chat_id", "text"}``; the answer is ``{"ok": true, "result": Message}`` or ``{"ok": false,
    "error_code", "description", "parameters": {"retry_after"}}``)."""

    def __init__(
        self,
        token: str,
        addresses: AddressBook,
        *,
        api: str = TELEGRAM_API,
        retry: Retry = Retry(),
        sleep: Sleep = asyncio.sleep,
        timeout: float = 10.0,
    ):
        if not re.fullmatch(r"[0-9]+:[A-Za-z0-9_-]{20,}", token or ""):
            raise ChannelConfigError("LEDGER_TELEGRAM_BOT_TOKEN", "not a bot token (digits, a colon, then the secret)")
        self._url = f"{api.rstrip('/')}/bot{token}/sendMessage"
        self.addresses, self.retry, self.sleep, self.timeout = addresses, retry, sleep, timeout

    def payload(self, chat_id: str, msg: OutboundMessage) -> dict[str, Any]:
        if len(msg.text) > TELEGRAM_MAX_TEXT:
            raise ChatSendError(
                f"text of {len(msg.text)} characters, sendMessage takes {TELEGRAM_MAX_TEXT}", retry=False
            )
        return {"chat_id": int(chat_id), "text": msg.text, "disable_web_page_preview": True}

    async def _send_one(self, http: aiohttp.ClientSession, chat_id: str, msg: OutboundMessage) -> None:
        status, data = await _post_json(http, self._url, self.payload(chat_id, msg))
        if isinstance(data, dict) and data.get("ok") is True:
            return
        code = int(data.get("error_code", status)) if isinstance(data, dict) else status
        text = str(data.get("description", "")) if isinstance(data, dict) else ""
        params = data.get("parameters") if isinstance(data, dict) else None
        after = params.get("retry_after") if isinstance(params, dict) else None
        if code == 429 or code >= 500 or (code == 200 and data is None):
            raise ChatSendError(f"{code} {text}".strip(), retry=True, after=float(after) if after is not None else None)
        raise ChatSendError(f"{code} {text}".strip(), retry=False)  # 400 chat not found, 403 blocked, 401 token

    async def send(self, messages: Sequence[OutboundMessage], at: datetime) -> list[SendResult]:
        return await _send_all(
            "telegram", messages, self.addresses, self._send_one, self.retry, self.sleep, self.timeout
        )


# --- WeChat -----------------------------------------------------------------------------------

WECHAT_API = "https://api.weixin.qq.com"
_OPENID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# What the message offers a template's fields: the whole text, the loan number's last 4 digits,
# the reminder's reason (as the cadence names it).
WECHAT_SOURCES = ("text", "loan_tail", "reason")
# Subscription message fields are typed by their name's prefix (thing1, character_string2, ...),
# each with a length limit in characters (WeChat's documented limits for the value types).
SUBSCRIBE_LIMITS = {
    "thing": 20,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "name": 10,
    "phrase": 5,
    "phone_number": 17,
    "car_number": 8,
}
_TOKEN_ERRORS = {40001, 40014, 42001}  # invalid or expired access token: fetch a new one, once
_BUSY_ERRORS = {-1, 45009, 45011}  # system busy, API rate limits: passing
_TEMPLATE_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")


def check_wechat_openid(address: str) -> str:
    """An openid: the borrower's id for the official account (letters, digits, - and _)."""
    if not _OPENID.fullmatch(address.strip()):
        raise ChannelConfigError("address", f"a WeChat openid is 16-64 letters, digits, '-' or '_', got {address!r}")
    return address.strip()


@dataclass(frozen=True)
class WeChatTemplate:
    """Which message: ``kind`` "template" (模板消息, ``/cgi-bin/message/template/send``) or
    "subscribe" (公众号订阅通知, ``/cgi-bin/message/subscribe/bizsend``); the template's id; and
    ``fields``: each template field with what fills it (one of WECHAT_SOURCES)."""

    kind: str
    template_id: str
    fields: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("template", "subscribe"):
            raise ChannelConfigError("LEDGER_WECHAT_MESSAGE", f"'template' or 'subscribe', got {self.kind!r}")
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,128}", self.template_id or ""):
            raise ChannelConfigError("LEDGER_WECHAT_TEMPLATE_ID", f"not a template id: {self.template_id!r}")
        if not self.fields:
            raise ChannelConfigError("LEDGER_WECHAT_FIELDS", "name at least one field, e.g. keyword1=loan_tail")
        for name, source in self.fields.items():
            if source not in WECHAT_SOURCES:
                raise ChannelConfigError(
                    "LEDGER_WECHAT_FIELDS", f"{name}={source}: the source is one of {', '.join(WECHAT_SOURCES)}"
                )
            if self.kind == "subscribe" and _subscribe_type(name) is None:
                raise ChannelConfigError(
                    "LEDGER_WECHAT_FIELDS",
                    f"{name}: a subscription message field is a type and a number, "
                    f"the type one of {', '.join(SUBSCRIBE_LIMITS)} (e.g. thing1)",
                )
            if self.kind == "template" and not _TEMPLATE_FIELD.fullmatch(name):
                raise ChannelConfigError("LEDGER_WECHAT_FIELDS", f"{name}: not a template field name")

    @classmethod
    def parse_fields(cls, text: str) -> dict[str, str]:
        """``keyword1=loan_tail,keyword2=text`` -> {"keyword1": "loan_tail", "keyword2": "text"}."""
        out: dict[str, str] = {}
        for part in (p.strip() for p in (text or "").split(",")):
            if not part:
                continue
            name, eq, source = part.partition("=")
            if not eq or not name.strip():
                raise ChannelConfigError("LEDGER_WECHAT_FIELDS", f"{part!r}: write field=source, e.g. keyword1=text")
            out[name.strip()] = source.strip()
        return out


def _subscribe_type(name: str) -> str | None:
    match = re.fullmatch(r"([a-z_]+?)([0-9]+)", name)
    return match.group(1) if match and match.group(1) in SUBSCRIBE_LIMITS else None


class WeChatAdapter:
    """WeChat official account template or subscription messages. The access token comes from
    ``GET {api}/cgi-bin/token?grant_type=client_credential&appid=&secret=`` and is kept until
    five minutes before it expires; an expired or invalid token is fetched again once."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        template: WeChatTemplate,
        addresses: AddressBook,
        *,
        api: str = WECHAT_API,
        retry: Retry = Retry(),
        sleep: Sleep = asyncio.sleep,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not app_id or not app_secret:
            raise ChannelConfigError("LEDGER_WECHAT_APP_ID" if not app_id else "LEDGER_WECHAT_APP_SECRET", "not set")
        self.app_id, self.app_secret, self.template = app_id, app_secret, template
        self.api = api.rstrip("/")
        self.addresses, self.retry, self.sleep, self.timeout, self.clock = addresses, retry, sleep, timeout, clock
        self._token: str | None = None
        self._token_until = 0.0

    def payload(self, openid: str, msg: OutboundMessage) -> dict[str, Any]:
        """The documented request body. A value the template cannot carry (a subscription
        field's length limit) raises a refusal naming the field."""
        values = {"text": msg.text, "loan_tail": msg.loan_number[-4:], "reason": msg.reason}
        data: dict[str, dict[str, str]] = {}
        for name, source in self.template.fields.items():
            value = values[source]
            kind = _subscribe_type(name) if self.template.kind == "subscribe" else None
            if kind is not None and len(value) > SUBSCRIBE_LIMITS[kind]:
                raise ChatSendError(
                    f"field {name} ({kind}) takes at most {SUBSCRIBE_LIMITS[kind]} characters; "
                    f"its source '{source}' has {len(value)}",
                    retry=False,
                )
            data[name] = {"value": value}
        body: dict[str, Any] = {"touser": openid, "template_id": self.template.template_id}
        if self.template.kind == "template":
            if self.template.url:
                body["url"] = self.template.url
            # WeChat sends one message per openid and client_msg_id (its de-duplication reference)
            body["client_msg_id"] = hashlib.sha256(msg.idempotency_key.encode()).hexdigest()[:32]
        elif self.template.url:
            body["page"] = self.template.url
        body["data"] = data
        return body

    def _send_url(self) -> str:
        path = "template/send" if self.template.kind == "template" else "subscribe/bizsend"
        return f"{self.api}/cgi-bin/message/{path}"

    async def _access_token(self, http: aiohttp.ClientSession, fresh: bool) -> str:
        if not fresh and self._token and self.clock() < self._token_until:
            return self._token
        try:
            async with http.get(
                f"{self.api}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret},
            ) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ChatSendError(f"access token: {type(exc).__name__}", retry=True) from exc
        if not isinstance(data, dict) or "access_token" not in data:
            code = data.get("errcode", "?") if isinstance(data, dict) else "?"
            text = data.get("errmsg", "") if isinstance(data, dict) else ""
            # a wrong appid or secret stays wrong; a busy server passes
            raise ChatSendError(f"access token: errcode {code} {text}".strip(), retry=code in _BUSY_ERRORS)
        self._token = str(data["access_token"])
        self._token_until = self.clock() + max(int(data.get("expires_in", 7200)) - 300, 60)
        return self._token

    async def _send_one(self, http: aiohttp.ClientSession, openid: str, msg: OutboundMessage) -> None:
        body = self.payload(openid, msg)
        for attempt in range(2):
            token = await self._access_token(http, fresh=attempt > 0)
            status, data = await _post_json(http, self._send_url(), body, access_token=token)
            if status >= 500 or not isinstance(data, dict):
                raise ChatSendError(f"HTTP {status}", retry=True)
            code = int(data.get("errcode", 0))
            if code == 0:
                return
            if code in _TOKEN_ERRORS and attempt == 0:
                continue
            # 43004 (not following), 43101 (declined the subscription), 40003 (bad openid),
            # 40037 (bad template id), 47003 (argument invalid): no retry mends these
            raise ChatSendError(f"errcode {code} {data.get('errmsg', '')}".strip(), retry=code in _BUSY_ERRORS)
        raise ChatSendError("access token refused twice", retry=True)

    async def send(self, messages: Sequence[OutboundMessage], at: datetime) -> list[SendResult]:
        return await _send_all("wechat", messages, self.addresses, self._send_one, self.retry, self.sleep, self.timeout)


def chat_adapters_from_env(env: Mapping[str, str], addresses: AddressBook) -> dict[str, Any]:
    """The chat adapters configured in ``env`` (none when their variables are unset):
    LEDGER_TELEGRAM_BOT_TOKEN [LEDGER_TELEGRAM_API]; LEDGER_WECHAT_APP_ID,
    LEDGER_WECHAT_APP_SECRET, LEDGER_WECHAT_TEMPLATE_ID, LEDGER_WECHAT_FIELDS
    [LEDGER_WECHAT_MESSAGE=template|subscribe, LEDGER_WECHAT_URL, LEDGER_WECHAT_API]. A partial or
    bad configuration raises ChannelConfigError naming the variable."""
    adapters: dict[str, Any] = {}
    if env.get("LEDGER_TELEGRAM_BOT_TOKEN"):
        adapters["telegram"] = TelegramAdapter(
            env["LEDGER_TELEGRAM_BOT_TOKEN"], addresses, api=env.get("LEDGER_TELEGRAM_API") or TELEGRAM_API
        )
    wechat_keys = (
        "LEDGER_WECHAT_APP_ID",
        "LEDGER_WECHAT_APP_SECRET",
        "LEDGER_WECHAT_TEMPLATE_ID",
        "LEDGER_WECHAT_FIELDS",
    )
    if any(env.get(k) for k in wechat_keys):
        for key in wechat_keys:
            if not env.get(key):
                raise ChannelConfigError(key, "not set (WeChat needs all of " + ", ".join(wechat_keys) + ")")
        template = WeChatTemplate(
            kind=env.get("LEDGER_WECHAT_MESSAGE") or "template",
            template_id=env["LEDGER_WECHAT_TEMPLATE_ID"],
            fields=WeChatTemplate.parse_fields(env["LEDGER_WECHAT_FIELDS"]),
            url=env.get("LEDGER_WECHAT_URL") or None,
        )
        adapters["wechat"] = WeChatAdapter(
            env["LEDGER_WECHAT_APP_ID"],
            env["LEDGER_WECHAT_APP_SECRET"],
            template,
            addresses,
            api=env.get("LEDGER_WECHAT_API") or WECHAT_API,
        )
    return adapters


ADDRESS_CHECKS: Mapping[str, Callable[[str], str]] = {"wechat": check_wechat_openid, "telegram": check_telegram_chat_id}

__all__ = [
    "ADDRESS_CHECKS",
    "REFUSED",
    "ChannelConfigError",
    "ChatSendError",
    "Retry",
    "TelegramAdapter",
    "WeChatAdapter",
    "WeChatTemplate",
    "chat_adapters_from_env",
]
