"""Which action answers which intent, for questions answered after a verification or after
a form was interrupted."""

from __future__ import annotations

from actions import (  # noqa: F401  (imported so that every handler class is defined)
    account, contact, dialogue, disputes, escalation, fallback, hardship, language, payments, promises, tips,
)
from actions.common import LedgerAction


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def handler_for(intent: str | None) -> type[LedgerAction] | None:
    if not intent:
        return None
    for cls in _all_subclasses(LedgerAction):
        if intent in getattr(cls, "intents", ()):
            return cls
    return None
