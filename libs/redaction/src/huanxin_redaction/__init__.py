"""What a borrower types to prove who they are is never kept, shown or logged in clear.

One module, shared by the bot's tracker store, the gateway's transcript and desk, the
ledger's free-text records and the logs, so that all of them hide the same things:

- ``redact_identity_answer()``: a message that answers an identity question (phone or loan
  number, date of birth, ID digits) is replaced whole, whatever its format: a bare "4321"
  answering "the last 4 digits of your ID?" looks like nothing in particular, so only the
  context (the question just asked) can tell. Callers that know the context use this.
- ``mask_identity_numbers()``: any other text keeps its words, but mainland mobile numbers
  (spaces, dashes, +86 allowed), 15/18-character national ID numbers and dates that can only be
  birth dates (years 1900-2015, in every format the bot's parser accepts: 1990-03-15,
  1990年3月15日, 90年3月15号, 15/03/1990, 03/15/1990, 19900315, March 15 1990, 15 March 1990)
  become ``MASK``. Repayment dates (this decade) and amounts stay readable.

Pure standard library, no I/O: the bot (Python 3.10) and the backend (3.11+) both install it.
"""

from __future__ import annotations

import re
from typing import overload

MASK = "[redacted]"
IDENTITY_ANSWER = "[identity answer]"

# Years a birth date can have but a repayment, promise or dispute date cannot.
_BIRTH_YEAR = r"(?:19\d\d|200\d|201[0-5])"
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DIGITS_SEP = r"[\s\-]?"
_PATTERNS = [
    # mainland mobile numbers, optionally +86 / 86, digits grouped by spaces or dashes
    r"(?<!\d)(?:\+?\s?86[\s\-]?)?1[3-9]\d(?:" + _DIGITS_SEP + r"\d){8}(?!\d)",
    # 18-character and 15-digit national ID numbers
    r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])",
    r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])",
    # 1990-03-15, 1990/3/15, 1990.3.15, 1990年3月15日
    r"(?<!\d)" + _BIRTH_YEAR + r"\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日号號]?(?!\d)",
    # 90年3月15号 (two-digit years 40-99 and 00-15; "26年12月1号" stays a repayment date)
    r"(?<!\d)(?:[4-9]\d|0\d|1[0-5])\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号號]?",
    # 15/03/1990, 03-15-1990, 15.3.1990
    r"(?<!\d)\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*" + _BIRTH_YEAR + r"(?!\d)",
    # 19900315
    r"(?<!\d)" + _BIRTH_YEAR + r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)",
    # March 15 1990, Mar. 15th, 1990, 15 March 1990, 15th of March, 1990
    r"\b" + _MONTHS + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+" + _BIRTH_YEAR + r"\b",
    r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTHS + r"\.?,?\s+" + _BIRTH_YEAR + r"\b",
]
_IDENTITY = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


# Full-width digits, letters and the separators the patterns use ("１３８…", "－") read as
# ASCII, one character for one, so a match's span is the same in the original text.
_FULL_WIDTH = [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B), 0xFF0B, 0xFF0D, 0xFF0E, 0xFF0F]
_HALF_WIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in _FULL_WIDTH})


def mask_identity_numbers(text: str | None) -> str | None:
    """The text with phone numbers, national ID numbers and birth dates replaced by MASK."""
    if not text:
        return text
    spans = [m.span() for m in _IDENTITY.finditer(text.translate(_HALF_WIDTH))]
    for start, end in reversed(spans):
        text = text[:start] + MASK + text[end:]
    return text


def redact_identity_answer(text: str | None) -> str:
    """What stands in for a message that answered an identity question."""
    return IDENTITY_ANSWER


@overload
def redact(text: str, *, identity_answer: bool = False) -> str: ...
@overload
def redact(text: None, *, identity_answer: bool = False) -> str | None: ...
def redact(text: str | None, *, identity_answer: bool = False) -> str | None:
    """The one call for stores and views: whole answer hidden, or identity numbers masked."""
    if identity_answer:
        return IDENTITY_ANSWER
    return mask_identity_numbers(text)
