"""Gateway settings, parsed once from the environment at start-up."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ledger.settings import DEFAULT_DATABASE_URL


class SettingsError(Exception):
    """An environment variable holds an unusable value."""


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


@dataclass(frozen=True)
class GatewaySettings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8090
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_token: str | None = None  # token for Rasa's HTTP API (rasa run --enable-api --auth-token)
    rasa_timeout_s: float = 15.0
    handback_intent: str | None = "handback"
    redis_url: str | None = None
    ledger_url: str = "http://127.0.0.1:8080"
    ledger_api_token: str | None = None
    session_ttl_s: int = 8 * 3600
    cookie_secure: bool = False
    wechat_token: str | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_reply_deadline_s: float = 4.5
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "GatewaySettings":
        env = os.environ if env is None else env
        urls_text = env.get("RASA_URLS") or env.get("RASA_URL") or "http://127.0.0.1:5005"
        urls = tuple(u.strip().rstrip("/") for u in urls_text.split(",") if u.strip())
        if not urls:
            raise SettingsError("RASA_URLS must list at least one URL")
        handback = env.get("GATEWAY_HANDBACK_INTENT", "handback").strip() or None
        origins = tuple(o.strip() for o in (env.get("GATEWAY_ALLOWED_ORIGINS") or "").split(",") if o.strip())
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("GATEWAY_HOST") or "127.0.0.1",
            port=_int(env, "GATEWAY_PORT", 8090),
            rasa_urls=urls,
            rasa_token=env.get("RASA_TOKEN") or None,
            rasa_timeout_s=_float(env, "RASA_TIMEOUT", 15.0),
            handback_intent=handback,
            redis_url=env.get("REDIS_URL") or None,
            ledger_url=(env.get("LEDGER_URL") or "http://127.0.0.1:8080").rstrip("/"),
            ledger_api_token=env.get("LEDGER_API_TOKEN") or None,
            session_ttl_s=_int(env, "GATEWAY_SESSION_TTL", 8 * 3600),
            cookie_secure=(env.get("GATEWAY_COOKIE_SECURE", "0").lower() in {"1", "true", "yes"}),
            wechat_token=env.get("WECHAT_TOKEN") or None,
            wechat_app_id=env.get("WECHAT_APP_ID") or None,
            wechat_app_secret=env.get("WECHAT_APP_SECRET") or None,
            wechat_reply_deadline_s=_float(env, "WECHAT_REPLY_DEADLINE", 4.5),
            allowed_origins=origins,
        )
