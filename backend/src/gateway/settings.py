"""Gateway settings, parsed once from the environment at start-up."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ledger.desk_door import DEFAULT_DATABASE_URL

from .canned import CANNED_FILE, CannedError, CannedReplies, parse_canned
from .compliance import RULES_FILE, Rules, RulesError, parse_rules
from .desk_hours import DeskHours, DeskHoursError
from .events import StreamSettings

ASSIGNMENT_MODES = ("manual", "least_busy")


class SettingsError(Exception):
    """An environment variable holds an unusable value."""


def load_compliance_rules(path: str | None = None) -> Rules:
    """The compliance guard's rules: the file GATEWAY_COMPLIANCE_RULES names, else the packaged
    one. A file that cannot be read or parsed, or breaks the format, stops the start-up naming
    the file and the key."""
    import yaml

    file = Path(path) if path else Path(__file__).with_name(RULES_FILE)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"GATEWAY_COMPLIANCE_RULES: cannot read {file}: {exc}") from None
    try:
        return parse_rules(data)
    except RulesError as exc:
        raise SettingsError(f"GATEWAY_COMPLIANCE_RULES: {file}: {exc}") from None


def load_canned_replies(path: str | None = None, guard: Rules | None = None) -> CannedReplies:
    """The desk's canned replies: the file GATEWAY_CANNED_REPLIES names, else the packaged one,
    each text checked against ``guard`` (the compliance rules). Any error stops the start-up
    naming the file and the key."""
    import yaml

    file = Path(path) if path else Path(__file__).with_name(CANNED_FILE)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"GATEWAY_CANNED_REPLIES: cannot read {file}: {exc}") from None
    try:
        return parse_canned(data, guard if guard is not None else load_compliance_rules())
    except CannedError as exc:
        raise SettingsError(f"GATEWAY_CANNED_REPLIES: {file}: {exc}") from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name) or str(default)
    try:
        return int(text)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {text!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name) or str(default)
    try:
        return float(text)  # a duration in seconds, not money
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {text!r}") from None


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """GATEWAY_TRUSTED_PROXIES: comma-separated addresses or networks whose X-Forwarded-For is believed."""
    items = tuple(p.strip() for p in (env.get("GATEWAY_TRUSTED_PROXIES") or "").split(",") if p.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(f"GATEWAY_TRUSTED_PROXIES: {item!r} is not an address or network") from None
    return items


def _bounded(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = _int(env, name, default)
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if value <= 0:
        raise SettingsError(f"{name} must be more than 0, got {value!r}")
    return value


@dataclass(frozen=True)
class DeskSettings:
    """The agent desk's own settings (hours, shift, login throttling, session housekeeping).

    GATEWAY_DESK_HOURS unset means no hours are configured: the hand-off says someone is
    joining, as before. Set, "on shift" = inside the hours and at least one agent with an open
    desk socket or a desk request in the last GATEWAY_DESK_PRESENCE_MINUTES.
    """

    hours: DeskHours | None = None
    tz: str = "Asia/Shanghai"
    presence_window_s: float = 10 * 60
    overdue_after_s: float = 15 * 60
    assignment: str = "manual"  # GATEWAY_DESK_ASSIGNMENT: manual (agents take) or least_busy (auto-assigned)
    agent_capacity: int = 5  # conversations an agent is auto-assigned at most (GATEWAY_DESK_AGENT_CAPACITY)
    login_max_pending: int = 8
    login_threads: int = 2
    session_purge_interval_s: float = 10 * 60
    session_check_s: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DeskSettings:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        tz_name = env.get("GATEWAY_DESK_TZ") or "Asia/Shanghai"
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"GATEWAY_DESK_TZ must be an IANA time zone such as Asia/Shanghai, got {tz_name!r}"
            ) from None
        assignment = (env.get("GATEWAY_DESK_ASSIGNMENT") or "manual").strip()
        if assignment not in ASSIGNMENT_MODES:
            raise SettingsError(
                f"GATEWAY_DESK_ASSIGNMENT must be one of {', '.join(ASSIGNMENT_MODES)}, got {assignment!r}"
            )
        hours = None
        if (env.get("GATEWAY_DESK_HOURS") or "").strip():
            try:
                hours = DeskHours.parse(env["GATEWAY_DESK_HOURS"], tz)
            except DeskHoursError as exc:
                raise SettingsError(
                    f"GATEWAY_DESK_HOURS: {exc} (example: 'Mon-Fri 09:00-18:00; Sat 10:00-14:00')"
                ) from None
        return cls(
            hours=hours,
            tz=tz_name,
            presence_window_s=_positive(env, "GATEWAY_DESK_PRESENCE_MINUTES", 10) * 60,
            overdue_after_s=_positive(env, "GATEWAY_DESK_OVERDUE_MINUTES", 15) * 60,
            assignment=assignment,
            agent_capacity=_bounded(env, "GATEWAY_DESK_AGENT_CAPACITY", 5, 0, 1000),
            login_max_pending=max(1, int(_positive(env, "GATEWAY_LOGIN_MAX_PENDING", 8))),
            login_threads=max(1, int(_positive(env, "GATEWAY_LOGIN_THREADS", 2))),
            session_purge_interval_s=_positive(env, "GATEWAY_SESSION_PURGE_INTERVAL", 600),
            session_check_s=_positive(env, "GATEWAY_DESK_SESSION_CHECK", 30),
        )


@dataclass(frozen=True)
class GatewaySettings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8090
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_jwt_secret: str | None = None  # HS256 key of Rasa's HTTP API (rasa run --jwt-secret)
    rasa_timeout_s: float = 120.0  # the longest a bot turn may take before the borrower is told it failed
    slow_reply_notice_s: float = 8.0  # after this the borrower is told the assistant is still working
    system_secret: str | None = None  # GATEWAY_SYSTEM_SECRET: signs system intents and client references
    idle_expiry_minutes: int = 30  # an idle conversation refuses its web token / gets a new Rasa sender id
    trusted_proxies: tuple[str, ...] = ()  # proxies whose X-Forwarded-For is believed
    new_conversations_per_hour: int = 10  # per client address
    chat_messages_per_minute: int = 30  # per WebSocket connection
    client_timeout_s: float = 10.0  # GATEWAY_CLIENT_TIMEOUT: a request head, and its body, must arrive within this
    ws_auth_timeout_s: float = 5.0  # the first frame of a chat socket must authenticate within this
    ws_idle_timeout_s: float | None = None  # a chat socket silent this long is closed (None: the idle expiry)
    handback_intent: str | None = "handback"
    redis_url: str | None = None
    ledger_url: str = "http://127.0.0.1:8080"
    ledger_api_token: str | None = None
    session_ttl_s: int = 8 * 3600
    cookie_secure: bool = False
    wechat_token: str | None = None
    sms_webhook_secret: str | None = None  # GATEWAY_SMS_WEBHOOK_SECRET: the SMS provider's inbound webhook
    telegram_webhook_secret: str | None = None  # GATEWAY_TELEGRAM_WEBHOOK_SECRET: the Telegram bot's webhook
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_reply_deadline_s: float = 4.5
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    desk: DeskSettings = field(default_factory=DeskSettings)
    events: StreamSettings = field(default_factory=StreamSettings)  # the analytics stream (off unless from_env)
    compliance: Rules = field(default_factory=load_compliance_rules)  # what agents may not send
    canned: CannedReplies = field(default_factory=load_canned_replies)  # the desk's one-click replies

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewaySettings:
        env = os.environ if env is None else env
        urls_text = env.get("RASA_URLS") or env.get("RASA_URL") or "http://127.0.0.1:5005"
        urls = tuple(u.strip().rstrip("/") for u in urls_text.split(",") if u.strip())
        if not urls:
            raise SettingsError("RASA_URLS must list at least one URL")
        handback = env.get("GATEWAY_HANDBACK_INTENT", "handback").strip() or None
        rasa_timeout = _float(env, "RASA_TIMEOUT", 120.0)
        slow_notice = _float(env, "GATEWAY_SLOW_REPLY_NOTICE", 8.0)
        if not 0 < slow_notice < rasa_timeout:
            raise SettingsError("GATEWAY_SLOW_REPLY_NOTICE must be above 0 and below RASA_TIMEOUT")
        origins = tuple(o.strip() for o in (env.get("GATEWAY_ALLOWED_ORIGINS") or "").split(",") if o.strip())
        compliance = load_compliance_rules(env.get("GATEWAY_COMPLIANCE_RULES") or None)
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("GATEWAY_HOST") or "127.0.0.1",
            port=_int(env, "GATEWAY_PORT", 8090),
            rasa_urls=urls,
            rasa_jwt_secret=env.get("RASA_JWT_SECRET") or None,
            rasa_timeout_s=rasa_timeout,
            slow_reply_notice_s=slow_notice,
            system_secret=env.get("GATEWAY_SYSTEM_SECRET") or None,
            idle_expiry_minutes=_bounded(env, "GATEWAY_IDLE_EXPIRY_MINUTES", 30, 1, 7 * 24 * 60),
            client_timeout_s=_bounded(env, "GATEWAY_CLIENT_TIMEOUT", 10, 1, 600),
            trusted_proxies=_trusted_proxies(env),
            new_conversations_per_hour=_bounded(env, "GATEWAY_NEW_CONVERSATIONS_PER_HOUR", 10, 1, 100000),
            chat_messages_per_minute=_bounded(env, "GATEWAY_CHAT_MESSAGES_PER_MINUTE", 30, 1, 100000),
            handback_intent=handback,
            redis_url=env.get("REDIS_URL") or None,
            ledger_url=(env.get("LEDGER_URL") or "http://127.0.0.1:8080").rstrip("/"),
            ledger_api_token=env.get("LEDGER_API_TOKEN") or None,
            session_ttl_s=_int(env, "GATEWAY_SESSION_TTL", 8 * 3600),
            cookie_secure=(env.get("GATEWAY_COOKIE_SECURE", "0").lower() in {"1", "true", "yes"}),
            wechat_token=env.get("WECHAT_TOKEN") or None,
            sms_webhook_secret=env.get("GATEWAY_SMS_WEBHOOK_SECRET") or None,
            telegram_webhook_secret=env.get("GATEWAY_TELEGRAM_WEBHOOK_SECRET") or None,
            wechat_app_id=env.get("WECHAT_APP_ID") or None,
            wechat_app_secret=env.get("WECHAT_APP_SECRET") or None,
            wechat_reply_deadline_s=_float(env, "WECHAT_REPLY_DEADLINE", 4.5),
            allowed_origins=origins,
            desk=DeskSettings.from_env(env),
            events=StreamSettings.from_env(env),
            compliance=compliance,
            canned=load_canned_replies(env.get("GATEWAY_CANNED_REPLIES") or None, compliance),
        )
