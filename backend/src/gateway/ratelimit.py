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

    async def check(self, name: str, key: str) -> float | None:
        """Like ``hit`` without counting: None when one more attempt would be allowed, else the
        seconds to wait (for limits that count failures only, checked before the attempt)."""
        item = self._items.get(name)
        if item is None:
            raise UnknownLimit(name)
        if await self._limiter.test(item, name, key):
            return None
        stats = await self._limiter.get_window_stats(item, name, key)
        return max(1.0, math.ceil(stats.reset_time - self._clock()))

    async def clear(self, name: str, key: str) -> None:
        """Forget the attempts of one key (e.g. after a successful login)."""
        item = self._items.get(name)
        if item is None:
            raise UnknownLimit(name)
        await self._limiter.clear(item, name, key)


class GrowingDelay:
    """Consecutive failures per key make the next attempt wait longer: none for the first
    ``free`` failures, then ``base_s`` doubled at each further failure up to ``cap_s``. A key
    forgets its failures after ``forget_s`` without one, or when ``clear``ed (a success).

    It complements a ``Limits`` window: the window caps attempts per period, the delay slows a
    guesser down well before that cap. Memory only, like ``Limits``; entries are dropped when
    forgotten so the table stays as small as the set of keys failing right now.
    """

    def __init__(
        self,
        free: int = 2,
        base_s: float = 1.0,
        cap_s: float = 300.0,
        forget_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.free, self.base_s, self.cap_s, self.forget_s = free, base_s, cap_s, forget_s
        self._clock = clock
        self._max_keys = max_keys
        self._state: dict[str, tuple[int, float]] = {}  # key -> (failures, time of the last one)

    def _delay(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        return min(self.cap_s, self.base_s * 2 ** (failures - self.free - 1))

    def wait(self, key: str) -> float | None:
        """None when an attempt may be made now, else whole seconds (at least 1) to wait."""
        entry = self._state.get(key)
        if entry is None:
            return None
        failures, last = entry
        now = self._clock()
        if now - last >= self.forget_s:
            del self._state[key]
            return None
        remaining = last + self._delay(failures) - now
        return float(max(1, math.ceil(remaining))) if remaining > 0 else None

    def failed(self, key: str) -> None:
        now = self._clock()
        failures, last = self._state.get(key, (0, now))
        if now - last >= self.forget_s:
            failures = 0
        if key not in self._state and len(self._state) >= self._max_keys:
            self._forget_old(now)
        self._state[key] = (failures + 1, now)

    def clear(self, key: str) -> None:
        self._state.pop(key, None)

    def _forget_old(self, now: float) -> None:
        for key, (_, last) in list(self._state.items()):
            if now - last >= self.forget_s:
                del self._state[key]
        if len(self._state) >= self._max_keys:  # still full: drop the oldest half, never grow unbounded
            for key, _ in sorted(self._state.items(), key=lambda kv: kv[1][1])[: self._max_keys // 2]:
                del self._state[key]
