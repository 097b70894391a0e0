"""Lock store chosen by the environment: in memory (one Rasa instance) unless
RASA_LOCK_STORE_URL names a Redis server (redis://[:password@]host[:port][/db]), which several
Rasa instances behind one load balancer need to serialise the turns of a conversation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore


def lock_store_from_env(env: Mapping[str, str] | None = None) -> LockStore:
    env = os.environ if env is None else env
    url = env.get("RASA_LOCK_STORE_URL")
    if not url:
        return InMemoryLockStore()
    parsed = urlparse(url)
    db = int(parsed.path.lstrip("/") or 1)
    return RedisLockStore(
        host=parsed.hostname or "localhost", port=parsed.port or 6379, db=db, password=parsed.password
    )


class EnvLockStore(InMemoryLockStore):
    """`lock_store: {type: addons.lock_store.EnvLockStore}` in endpoints.yml."""

    def __new__(cls, *args: Any, **kwargs: Any) -> LockStore:
        return lock_store_from_env()
