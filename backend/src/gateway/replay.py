"""One use per (timestamp, nonce) of a signed WeChat push.

The platform's signature covers only the token, the timestamp and the nonce, so a captured push
could be replayed for ever. The web layer refuses timestamps more than ``MAX_SKEW_S`` from now,
and this guard refuses a pair it has already seen within twice that window (after which the
timestamp alone is refused). With REDIS_URL the pairs are kept in Redis (``SET NX EX``), so
several gateway processes share them; otherwise in process memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .locks import RedisClient, RedisError

MAX_SKEW_S = 300
log = logging.getLogger("gateway.wechat")


class ReplayGuard:
    def __init__(self, redis: RedisClient | None, clock: Callable[[], float], ttl_s: int = 2 * MAX_SKEW_S) -> None:
        self._redis = redis
        self._clock = clock
        self._ttl_s = ttl_s
        self._seen: dict[str, float] = {}

    def fresh(self, timestamp: str) -> bool:
        """True when the timestamp is an integer within MAX_SKEW_S of now."""
        try:
            value = int(timestamp)
        except (TypeError, ValueError):
            return False
        return abs(self._clock() - value) <= MAX_SKEW_S

    async def first_use(self, timestamp: str, nonce: str) -> bool:
        """Record the pair; False when it was already used."""
        key = f"huanxin:gateway:wechat-nonce:{timestamp}:{nonce}"
        if self._redis is not None:
            try:
                return await self._redis.execute("SET", key, "1", "NX", "EX", str(self._ttl_s)) == "OK"
            except (RedisError, OSError) as exc:
                log.warning("replay guard: Redis unavailable (%s); using process memory", type(exc).__name__)
        now = self._clock()
        if len(self._seen) > 1000:
            self._seen = {k: expiry for k, expiry in self._seen.items() if expiry > now}
        expiry = self._seen.get(key)
        if expiry is not None and expiry > now:
            return False
        self._seen[key] = now + self._ttl_s
        return True
