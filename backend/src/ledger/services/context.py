"""What every service needs: the session factory, the policy, the salt, the clock."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from ..db.session import SessionFactory
from ..domain.policy import Policy


def utc_now() -> datetime:
    return datetime.now(UTC)


def hash_national_id(national_id: str, salt: str) -> str:
    """HMAC-SHA256 of the normalised national ID keyed by the secret ID_HASH_SALT.

    Why a keyed HMAC rather than scrypt/argon2: the ID is only compared, never needed back,
    and the key lives outside the database, so a database dump alone cannot be brute-forced
    (a Chinese ID has little entropy: region + birth date + 4 characters). A deliberately slow
    hash per row would add nothing once the key is secret and would make loading 100,000
    synthetic borrowers take hours instead of seconds.
    """
    normalised = national_id.strip().upper()
    return hmac.new(salt.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Ledger:
    sessions: SessionFactory
    policy: Policy
    id_hash_salt: str
    timezone: str = "Asia/Shanghai"
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.now().astimezone(ZoneInfo(self.timezone)).date()
