"""Request limits for the gateway's edges, on the ``limits`` library (moving windows).

One ``Limits`` object per app holds every named limit; a caller asks ``await
limits.hit("login_address", key)`` and gets ``None`` (allowed) or the seconds to wait before
the next attempt may succeed (for a 429's ``Retry-After``). Keys are opaque strings chosen by
the caller (a hashed client address, an account name, a conversation id); nothing here logs
them. The counters are process memory: one gateway process, or a front proxy that pins a
client to one process. ``limits`` also offers Redis storage when several processes must share
them; that is the one line to change here.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


class UnknownLimit(KeyError):
    """A caller named a limit that was never configured (a programming error)."""


@dataclass(frozen=True)
class LimitSpec:
    """``amount`` hits per ``per`` (a ``limits`` window such as "1 minute")."""

    amount: int
    per: str

    def item(self) -> RateLimitItem:
        return parse(f"{self.amount}/{self.per}")


class Limits:
    def __init__(self, specs: Mapping[str, LimitSpec], clock: Callable[[], float] = time.time) -> None:
        self._items = {name: spec.item() for name, spec in specs.items()}
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._clock = clock

    async def hit(self, name: str, key: str) -> float | None:
        """Count one attempt; None when allowed, else seconds until one is allowed again."""
        item = self._items.get(name)
        if item is None:
            raise UnknownLimit(name)
        if await self._limiter.hit(item, name, key):
            return None
        stats = await self._limiter.get_window_stats(item, name, key)
        return max(1.0, math.ceil(stats.reset_time - self._clock()))

    async def clear(self, name: str, key: str) -> None:
        """Forget the attempts of one key (e.g. after a successful login)."""
        item = self._items.get(name)
        if item is None:
            raise UnknownLimit(name)
        await self._limiter.clear(item, name, key)
