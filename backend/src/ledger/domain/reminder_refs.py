"""A reminder's short reference: what a sent reminder carries (in its web chat link) so that a
conversation that follows it can say which reminder it answers (docs/outbound.md).

The reference is the contact history row's id in base 36 after an "r" ("r1a"). It opens
nothing by itself: the bot starts from it only after verification, and only when the reminder
is one delivered to the verified borrower, so guessing one tells nobody anything.
"""

from __future__ import annotations

import re

REF = re.compile(r"r[0-9a-z]{1,12}")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def reminder_ref(contact_id: int) -> str:
    """The reference of contact history row ``contact_id`` (a positive integer)."""
    if contact_id <= 0:
        raise ValueError("a contact id is positive")
    digits = ""
    n = contact_id
    while n:
        n, d = divmod(n, 36)
        digits = _DIGITS[d] + digits
    return "r" + digits


def contact_id_of(ref: str) -> int | None:
    """The contact history id a reference names, or None when ``ref`` is not one."""
    if not isinstance(ref, str) or not REF.fullmatch(ref):
        return None
    return int(ref[1:], 36)


def with_link(text: str, ref: str, chat_link: str | None) -> str:
    """The reminder's text with its reference: the web chat link carrying it when the chat's
    address is configured (``LEDGER_CHAT_LINK``), else the bare reference."""
    if chat_link:
        sep = "&" if "?" in chat_link else "?"
        return f"{text} {chat_link}{sep}r={ref}"
    return f"{text} [{ref}]"


__all__ = ["REF", "contact_id_of", "reminder_ref", "with_link"]
