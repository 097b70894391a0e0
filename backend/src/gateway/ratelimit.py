"""Request limits for the gateway's edges: moving windows, counted in process memory.

One ``Limits`` object per app holds every named limit; a caller asks ``await
limits.hit("login_address", key)`` and gets ``None`` (allowed) or the seconds to wait before
the next attempt may succeed (for a 429's ``Retry-After``). Keys are opaque strings chosen by
the caller (a hashed client address, an account name, a conversation id); nothing here logs
them. The counters are process memory: one gateway process, or a front proxy that pins a
client to one process.

The windows are the ``limits`` library's moving windows (a hit is allowed while fewer than
``amount`` allowed hits fall in the last ``per``; the wait is until the oldest leaves), and
``limits`` parses the specs ("30/1 minute"). Its asyncio memory storage is not used: at every
hit it expired every key of every limit through a thread hop per key, about twenty thread hops
a borrower's turn with twenty conversations open (issue 11). Here a key's window is a deque of
hit times trimmed when the key is hit, and keys whose windows have emptied are swept once the
table has doubled since the last sweep (amortised O(1) a hit). ``max_keys`` bounds the table:
past it the keys hit least recently are forgotten.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse


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
    MIN_SWEEP = 1024

    def __init__(
        self,
        specs: Mapping[str, LimitSpec],
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 200_000,
    ) -> None:
        self._windows = {name: (spec.amount, float(spec.item().get_expiry())) for name, spec in specs.items()}
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._clock = clock
        self._max_keys = max_keys
        self._sweep_at = self.MIN_SWEEP

    def _window(self, name: str) -> tuple[int, float]:
        window = self._windows.get(name)
        if window is None:
            raise UnknownLimit(name)
        return window

    def _wait(self, name: str, key: str, count: bool) -> float | None:
        amount, per = self._window(name)
        now = self._clock()
        hits = self._hits.get((name, key))
        if hits is not None:
            while hits and hits[0] <= now - per:
                hits.popleft()
            if len(hits) >= amount:
                return max(1.0, float(math.ceil(hits[0] + per - now)))
        if count:
            if hits is None:
                self._make_room()
                hits = self._hits[(name, key)] = deque()
            hits.append(now)
        return None

    def _make_room(self) -> None:
        if len(self._hits) < self._sweep_at and len(self._hits) < self._max_keys:
            return
        now = self._clock()
        for slot, hits in list(self._hits.items()):
            if not hits or hits[-1] <= now - self._windows[slot[0]][1]:
                del self._hits[slot]
        if len(self._hits) >= self._max_keys:  # still full: keep the half hit most recently
            ordered = sorted(self._hits.items(), key=lambda kv: kv[1][-1] if kv[1] else 0.0)
            for slot, _ in ordered[: len(ordered) - self._max_keys // 2]:
                del self._hits[slot]
        self._sweep_at = max(self.MIN_SWEEP, 2 * len(self._hits))

    def keys(self) -> int:
        """How many (limit, key) windows are held (for tests and health figures)."""
        return len(self._hits)

    async def hit(self, name: str, key: str) -> float | None:
        """Count one attempt; None when allowed, else seconds until one is allowed again."""
        return self._wait(name, key, count=True)

    async def check(self, name: str, key: str) -> float | None:
        """Like ``hit`` without counting: None when one more attempt would be allowed, else the
        seconds to wait (for limits that count failures only, checked before the attempt)."""
        return self._wait(name, key, count=False)

    async def clear(self, name: str, key: str) -> None:
        """Forget the attempts of one key (e.g. after a successful login)."""
        self._window(name)
        self._hits.pop((name, key), None)


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
