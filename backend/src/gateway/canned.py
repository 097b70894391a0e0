"""Canned replies: texts an agent sends in one click, in Chinese and English, with placeholders
filled from the conversation's account (amount due, next due date, case number...).

Pure: the replies come as a parsed mapping (canned_replies.yaml beside this module;
GATEWAY_CANNED_REPLIES names another file) and are validated at start-up like the compliance
rules: an error names the key. Every text must use only the known placeholders and, filled with
sample values, pass the compliance guard: a canned reply can never be one the guard would stop.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .compliance import LANGS, Rules

CANNED_FILE = "canned_replies.yaml"  # beside this module; GATEWAY_CANNED_REPLIES names another
MAX_TEXT = 2000  # as a typed reply (conversations.MAX_TEXT)
MAX_TITLE = 80
# What a placeholder stands for, with the sample each text is checked against the guard with.
PLACEHOLDERS: Mapping[str, str] = {
    "agent_name": "李娜",
    "borrower_name": "王芳",
    "case_number": "ESC-2026-000001",
    "loan_number": "HX0000000001",
    "amount_due": "1,234.50",
    "next_due_date": "2026-12-15",
    "next_due_amount": "1,100.00",
}


class CannedError(ValueError):
    """The canned replies file is not usable; ``key`` names the entry at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class CannedReply:
    id: str
    title: Mapping[str, str]
    text: Mapping[str, str]

    def placeholders(self, language: str) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.text[language]) if name]

    def fill(self, language: str, values: Mapping[str, str | None]) -> tuple[str | None, list[str]]:
        """(the text with its placeholders filled, []) or (None, the placeholders without a value)."""
        missing = sorted({name for name in self.placeholders(language) if not values.get(name)})
        if missing:
            return None, missing
        return self.text[language].format_map({k: v for k, v in values.items() if v}), []


@dataclass(frozen=True)
class CannedReplies:
    replies: tuple[CannedReply, ...]

    def get(self, reply_id: str) -> CannedReply | None:
        return next((r for r in self.replies if r.id == reply_id), None)


def _text(raw: Any, key: str, guard: Rules | None) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise CannedError(key, "must be a non-empty text")
    if len(raw) > MAX_TEXT:
        raise CannedError(key, f"longer than {MAX_TEXT} characters")
    try:
        names = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(raw) if name is not None]
    except ValueError as exc:
        raise CannedError(key, f"not a text with {{placeholders}} ({exc}); write {{{{ for a brace") from None
    for name, spec, conv in names:
        if name not in PLACEHOLDERS or spec or conv:
            raise CannedError(key, f"unknown placeholder {{{name}}}; known: {', '.join(PLACEHOLDERS)}")
    if guard is not None:
        verdict = guard.check(raw.format_map(PLACEHOLDERS))
        if not verdict.allowed:
            reasons = "; ".join(f"{f.rule}: {f.reason_en}" for f in verdict.findings)
            raise CannedError(key, f"the compliance guard would stop it ({reasons})")
    return raw


def _field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def parse_reply(raw: Any, prefix: str, guard: Rules | None) -> CannedReply:
    """One reply (``{"id", "title": {zh, en}, "text": {zh, en}}``), validated; CannedError names the
    field at fault under ``prefix`` (``replies[2].text.en`` in the file, ``text.en`` on the desk)."""
    if not isinstance(raw, Mapping):
        raise CannedError(prefix or "reply", "must be a mapping with id, title and text")
    unknown = set(raw) - {"id", "title", "text"}
    if unknown:
        raise CannedError(_field(prefix, sorted(unknown)[0]), "unknown key")
    reply_id = raw.get("id")
    if not isinstance(reply_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,47}", reply_id):
        raise CannedError(_field(prefix, "id"), "must be a name of lower-case letters, digits and _ (at most 48)")
    title, text = raw.get("title"), raw.get("text")
    for part, value in (("title", title), ("text", text)):
        if not isinstance(value, Mapping):
            raise CannedError(_field(prefix, part), "must give zh and en")
    assert isinstance(title, Mapping) and isinstance(text, Mapping)
    titles, texts = {}, {}
    for lang in LANGS:
        title_value = title.get(lang)
        if not isinstance(title_value, str) or not title_value.strip() or len(title_value) > MAX_TITLE:
            raise CannedError(
                _field(prefix, f"title.{lang}"), f"must be a non-empty text of at most {MAX_TITLE} characters"
            )
        titles[lang] = title_value
        texts[lang] = _text(text.get(lang), _field(prefix, f"text.{lang}"), guard)
    return CannedReply(reply_id, titles, texts)


def parse_canned(data: Any, guard: Rules | None) -> CannedReplies:
    """The replies of a parsed canned replies file, validated; CannedError names the key at fault."""
    if not isinstance(data, Mapping) or not isinstance(data.get("replies"), list) or not data["replies"]:
        raise CannedError("replies", "must be a non-empty list of replies")
    replies = []
    seen: set[str] = set()
    for index, raw in enumerate(data["replies"]):
        reply = parse_reply(raw, f"replies[{index}]", guard)
        if reply.id in seen:
            raise CannedError(f"replies[{index}].id", f"{reply.id!r} is used twice")
        seen.add(reply.id)
        replies.append(reply)
    return CannedReplies(tuple(replies))
