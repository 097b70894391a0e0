"""Settings parsed once from the environment at start-up (never per request, never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .scopes import Scope

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{REPO_ROOT / 'var' / 'ledger.sqlite3'}"


class SettingsError(Exception):
    """The environment is missing a required variable or holds an unusable value."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    api_token: str | None = None  # LEDGER_API_TOKEN: the action server's token, scope "bot"
    desk_token: str | None = None  # LEDGER_DESK_TOKEN (optional), scope "desk"
    payments_token: str | None = None  # LEDGER_PAYMENTS_TOKEN (optional), scope "payments"
    analytics_token: str | None = None  # LEDGER_ANALYTICS_TOKEN (optional), scope "analytics"
    policy_file: Path | None = None
    cadence_file: Path | None = None  # LEDGER_CADENCE_FILE: the contact cadence (docs/outbound.md)
    chat_link: str | None = None  # LEDGER_CHAT_LINK: the web chat address a reminder links to, with its reference
    id_hash_salt: str | None = None
    timezone: str = "Asia/Shanghai"
    client_max_size: int = 64 * 1024
    workers: int = 1
    client_timeout: float = 10.0  # LEDGER_CLIENT_TIMEOUT: seconds for a request head, and for its body

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        port_text = env.get("LEDGER_PORT", "8080")
        try:
            port = int(port_text)
        except ValueError:
            raise SettingsError(f"LEDGER_PORT must be an integer, got {port_text!r}") from None
        workers_text = env.get("LEDGER_WORKERS") or "1"
        try:
            workers = int(workers_text)
        except ValueError:
            raise SettingsError(f"LEDGER_WORKERS must be an integer, got {workers_text!r}") from None
        if not 1 <= workers <= 64:
            raise SettingsError(f"LEDGER_WORKERS must be between 1 and 64, got {workers}")
        timeout_text = env.get("LEDGER_CLIENT_TIMEOUT") or "10"
        try:
            client_timeout = float(timeout_text)
        except ValueError:
            raise SettingsError(f"LEDGER_CLIENT_TIMEOUT must be a number of seconds, got {timeout_text!r}") from None
        if not 0 < client_timeout <= 600:  # also refuses nan and inf
            raise SettingsError(f"LEDGER_CLIENT_TIMEOUT must be between 0 and 600 seconds, got {timeout_text!r}")
        tz = env.get("TZ") or "Asia/Shanghai"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            # TZ may hold a POSIX string such as "UTC0"; the ledger's business day stays Shanghai.
            tz = "Asia/Shanghai"
        policy = env.get("LEDGER_POLICY_FILE") or None
        cadence = env.get("LEDGER_CADENCE_FILE") or None
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("LEDGER_HOST") or "127.0.0.1",
            port=port,
            api_token=env.get("LEDGER_API_TOKEN") or None,
            desk_token=env.get("LEDGER_DESK_TOKEN") or None,
            payments_token=env.get("LEDGER_PAYMENTS_TOKEN") or None,
            analytics_token=env.get("LEDGER_ANALYTICS_TOKEN") or None,
            policy_file=Path(policy) if policy else None,
            cadence_file=Path(cadence) if cadence else None,
            chat_link=(env.get("LEDGER_CHAT_LINK") or "").strip() or None,
            id_hash_salt=env.get("ID_HASH_SALT") or None,
            timezone=tz,
            workers=workers,
            client_timeout=client_timeout,
        )

    def static_clients(self) -> list[tuple[str, Scope, str]]:
        """(client name, scope, token) of every token set in the environment. More clients, with
        only the hash of their token stored, come from `ledger create-token --name N --scope S`."""
        configured: tuple[tuple[str, Scope, str | None], ...] = (
            ("api", "bot", self.api_token),
            ("api:desk", "desk", self.desk_token),
            ("api:payments", "payments", self.payments_token),
            ("api:analytics", "analytics", self.analytics_token),
        )
        return [(name, scope, token) for name, scope, token in configured if token]

    def require_serving(self) -> None:
        """Raise SettingsError naming every variable the server cannot start without."""
        tokens = [token for _, _, token in self.static_clients()]
        if len(set(tokens)) != len(tokens):
            raise SettingsError(
                "LEDGER_API_TOKEN, LEDGER_DESK_TOKEN, LEDGER_PAYMENTS_TOKEN and "
                "LEDGER_ANALYTICS_TOKEN must differ: one token has one scope"
            )
        missing = [
            name
            for name, value in (("LEDGER_API_TOKEN", self.api_token), ("ID_HASH_SALT", self.id_hash_salt))
            if not value
        ]
        if missing:
            raise SettingsError(
                "missing required environment variable(s): "
                + ", ".join(missing)
                + " (make run writes generated values to .env.local; `ledger create-token` prints a new token)"
            )

    def require_salt(self) -> str:
        if not self.id_hash_salt:
            raise SettingsError("missing required environment variable: ID_HASH_SALT")
        return self.id_hash_salt
