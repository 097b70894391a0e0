"""In-process fan-out of transcript events to WebSocket subscribers.

Topics: ``conv:<id>`` (the borrower's widget; agent-only messages are never published there)
and ``desk`` (every agent desk). Each subscriber has a bounded queue; a subscriber that falls
behind is dropped (its socket closes and the client reconnects and replays from its last seq).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any


class Subscription:
    def __init__(self, hub: Hub, topic: str, maxsize: int) -> None:
        self.hub = hub
        self.topic = topic
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=maxsize)

    def close(self) -> None:
        self.hub._subs[self.topic].discard(self)


class Hub:
    def __init__(self, maxsize: int = 1000) -> None:
        self._subs: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._maxsize = maxsize

    def subscribe(self, topic: str) -> Subscription:
        sub = Subscription(self, topic, self._maxsize)
        self._subs[topic].add(sub)
        return sub

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        for sub in list(self._subs.get(topic, ())):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.close()
                # the reader sees None and closes the socket; the client replays on reconnect
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)

    def subscribers(self, topic: str) -> int:
        return len(self._subs.get(topic, ()))
