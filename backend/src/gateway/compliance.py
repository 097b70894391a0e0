"""The compliance guard on what agents send: before an agent's reply leaves the desk it is checked
against the prohibited practices of the collections rules (threats of arrest or violence,
impersonating a court, the police or a lawyer, shaming, telling or threatening to tell third
parties, invented legal consequences, abusive language), in Chinese and English. A message that
breaks a rule is not sent; the agent is told which rule and why, and asked to rewrite it.

Pure: the rules come as a parsed mapping (compliance_rules.yaml, which the compliance team
edits; GATEWAY_COMPLIANCE_RULES names another file) and are validated like a policy file: an
error names the key. Each rule has patterns (regular expressions over the message, lower-cased,
full-width folded, Traditional characters written as both forms in the patterns themselves) and
optional `unless_before` patterns: a match is excused when one is found in the words just before
it in the same clause ("我们不会联系您的家人", "no one will arrest you"); `unless_anywhere`
excuses the whole message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CATEGORIES = (
    "threat",  # arrest, jail, violence, harassment
    "impersonation",  # a court, the police, a lawyer, a government body
    "shaming",
    "third_party",  # telling, or threatening to tell, family, employer, contacts
    "invented_legal",  # legal consequences the law does not provide or that are not decided
    "abusive",  # insults and swearing
)
LANGS = ("zh", "en")
BEFORE_CHARS = 24  # how far back an `unless_before` pattern looks from a match, within its clause
_CLAUSE_END = re.compile(r"[,，.。;；!！?？:：\n]")


RULES_FILE = "compliance_rules.yaml"  # beside this module; GATEWAY_COMPLIANCE_RULES names another


class MessageStopped(Exception):
    """The agent's reply breaks a rule: it was neither stored nor sent."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("; ".join(f.reason_en for f in verdict.findings))
        self.verdict = verdict


class RulesError(ValueError):
    """The rules file is not usable; ``key`` names the entry at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    patterns: tuple[re.Pattern[str], ...]
    unless_before: tuple[re.Pattern[str], ...]  # excuses a match when found just before it
    unless_anywhere: tuple[re.Pattern[str], ...]  # excuses the whole message
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class Finding:
    rule: str
    category: str
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...]

    @property
    def allowed(self) -> bool:
        return not self.findings


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]

    def check(self, text: str) -> Verdict:
        """Every rule the message breaks (one finding per rule), or none."""
        folded = fold(text)
        found = []
        for rule in self.rules:
            if any(p.search(folded) for p in rule.unless_anywhere):
                continue
            for pattern in rule.patterns:
                if any(not _excused(rule, folded, m.start()) for m in pattern.finditer(folded)):
                    found.append(Finding(rule.id, rule.category, rule.reason_zh, rule.reason_en))
                    break
        return Verdict(tuple(found))


def _excused(rule: Rule, folded: str, start: int) -> bool:
    """A negation just before the match, in the same clause ("we won't wait, you will be
    arrested" is not excused by the "won't" of another clause)."""
    clause = _CLAUSE_END.split(folded[:start])[-1]
    before = clause[-BEFORE_CHARS:]
    return any(p.search(before) for p in rule.unless_before)


def fold(text: str) -> str:
    """What the patterns see: NFKC (full-width letters and digits folded), lower case, runs of
    white space as one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).lower()


def parse_rules(data: Any) -> Rules:
    """The rules of a parsed rules file, validated; RulesError names the key at fault."""
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list) or not data["rules"]:
        raise RulesError("rules", "must be a non-empty list of rules")
    rules = []
    seen: set[str] = set()
    for index, raw in enumerate(data["rules"]):
        key = f"rules[{index}]"
        if not isinstance(raw, Mapping):
            raise RulesError(key, "must be a mapping with id, category, patterns and reason")
        unknown = set(raw) - {"id", "category", "patterns", "unless_before", "unless_anywhere", "reason"}
        if unknown:
            raise RulesError(f"{key}.{sorted(unknown)[0]}", "unknown key")
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", rule_id):
            raise RulesError(f"{key}.id", "must be a name of lower-case letters, digits and _")
        if rule_id in seen:
            raise RulesError(f"{key}.id", f"{rule_id!r} is used twice")
        seen.add(rule_id)
        category = raw.get("category")
        if category not in CATEGORIES:
            raise RulesError(f"{key}.category", f"must be one of {', '.join(CATEGORIES)}")
        reason = raw.get("reason")
        if not isinstance(reason, Mapping) or not all(isinstance(reason.get(k), str) and reason[k] for k in LANGS):
            raise RulesError(f"{key}.reason", "must give the reason in zh and en")
        rules.append(
            Rule(
                rule_id,
                category,
                _patterns(raw.get("patterns"), f"{key}.patterns", required=True),
                _patterns(raw.get("unless_before"), f"{key}.unless_before"),
                _patterns(raw.get("unless_anywhere"), f"{key}.unless_anywhere"),
                reason["zh"],
                reason["en"],
            )
        )
    return Rules(tuple(rules))


def _patterns(raw: Any, key: str, required: bool = False) -> tuple[re.Pattern[str], ...]:
    if raw is None and not required:
        return ()
    if not isinstance(raw, list) or (required and not raw):
        raise RulesError(key, "must be a non-empty list of regular expressions" if required else "must be a list")
    out = []
    for index, pattern in enumerate(raw):
        if not isinstance(pattern, str) or not pattern:
            raise RulesError(f"{key}[{index}]", "must be a non-empty string")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise RulesError(f"{key}[{index}]", f"not a valid regular expression ({exc})") from None
        if compiled.search(""):
            raise RulesError(f"{key}[{index}]", "matches the empty message")
        out.append(compiled)
    return tuple(out)
