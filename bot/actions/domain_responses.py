"""The domain's responses (utter_*) as Rasa would render them, for actions that say one themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def domain_response(domain: dict, name: str, slot: Callable[[str], Any]) -> dict | None:
    """The variation of the domain response `name` that Rasa would choose for these slots: a
    variation whose slot conditions all hold, else one without conditions."""
    variations = ((domain or {}).get("responses") or {}).get(name) or []
    plain = None
    for variation in variations:
        conditions = variation.get("condition") or []
        if not conditions:
            plain = plain or variation
        elif all(c.get("type") == "slot" and slot(c.get("name")) == c.get("value") for c in conditions):
            return variation
    return plain
