"""Which action answers an intent, and which reads the reply to a pending question (slot `awaiting`).

The composition root (actions/__init__.py) builds the one Dispatch from its explicit tables and
installs it; every Turn carries it (``turn.dispatch``). A feature that hands a turn to another
feature's action (the question asked before verification, a question answered in passing during
a form, the reply to a question the assistant asked) looks the action up here instead of
importing that feature. The dispatch holds classes of any kind (``H``), so that this module
depends on nothing in the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

H = TypeVar("H", covariant=True)


class Dispatch(Generic[H]):
    """Two read-only tables: intent -> handler, and pending question (`awaiting`) -> handler."""

    def __init__(self, by_intent: Mapping[str, H], by_awaiting: Mapping[str, H] | None = None) -> None:
        self._by_intent = dict(by_intent)
        self._by_awaiting = dict(by_awaiting or {})

    def handler_for(self, intent: str | None) -> H | None:
        return self._by_intent.get(intent) if intent else None

    def handler(self, intent: str) -> H:
        """The handler of an intent the table must map (KeyError when it does not)."""
        return self._by_intent[intent]

    def reply_handler_for(self, awaiting: str | None) -> H | None:
        """The handler that reads the borrower's reply to the question the assistant is waiting on."""
        return self._by_awaiting.get(awaiting) if awaiting else None

    def intents_of(self, handler: object) -> tuple[str, ...]:
        """The intents `handler` answers, in the table's order."""
        return tuple(intent for intent, known in self._by_intent.items() if known is handler)


_installed: Dispatch[Any] | None = None


def install(dispatch: Dispatch[Any]) -> None:
    """Called once by the composition root when the package loads."""
    global _installed
    _installed = dispatch


def installed() -> Dispatch[Any]:
    """The root's dispatch: what an action uses unless it was given one."""
    if _installed is None:
        raise RuntimeError("no dispatch installed: actions/__init__.py installs it when the package loads")
    return _installed
