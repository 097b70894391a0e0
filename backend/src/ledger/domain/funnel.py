"""The funnel of the insights page, from conversations' facts (pure: no I/O).

A conversation reaches a step when its `furthest_step` is that step or a later one
(ledger/domain/conversation_facts.py says when each step is reached). It *stops* at its furthest
step; what the bot said last to those who stopped (`last_bot_text_key`) shows where they left,
as the bot's text in the borrower's language when the caller gives the bot's texts (`texts`:
key -> language -> text; the ledger's copy is generated from the bot, ledger/bot_texts.json).
The last step, `committed`, is split into a plan accepted and a promise made.

A row may stand for several identical conversations (`conversations`: how many; the database
groups them so that the funnel of a long period does not read every row).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .conversation_facts import FUNNEL
from .insights import Filters, filters_view, language_of, rate, selected

STEPS = FUNNEL
LAST_BOT_SHOWN = 5  # the most frequent last bot texts listed per step

DEFINITIONS: dict[str, dict[str, str]] = {
    "started": {
        "en": "Every conversation that started in the period.",
        "zh": "该时段开始的全部会话。",
    },
    "verified": {
        "en": "The borrower proved who they are (the verified slot was set).",
        "zh": "客户完成身份核实。",
    },
    "status_explained": {
        "en": "The assistant told a verified borrower their account status.",
        "zh": "助手向已核实的客户说明了账户状况。",
    },
    "hardship_collected": {
        "en": "The borrower completed the hardship form.",
        "zh": "客户填完了困难情况表。",
    },
    "offers_shown": {
        "en": "The assistant offered repayment plans.",
        "zh": "助手提供了还款方案。",
    },
    "committed": {
        "en": "The borrower accepted a plan or made a promise to pay.",
        "zh": "客户接受了方案或作出还款承诺。",
    },
    "reached": {
        "en": "Conversations whose furthest step is this one or a later one.",
        "zh": "最远到达此步或更后步骤的会话数。",
    },
    "drop_off": {
        "en": (
            "Of those that reached the step, the share that went no further "
            "(ended there or were handed to a person there)."
        ),
        "zh": "到达此步的会话中，没有再往前的占比（在此结束或在此转人工）。",
    },
    "last_bot_before_stop": {
        "en": "What the assistant said last to the conversations that stopped at the step, in the borrower's "
        "language (figures shown as {placeholders}; the text key beside it).",
        "zh": "在此步停下的会话里，助手最后说的话，按客户的语言显示（数字等以 {占位符} 表示；附文本键）。",
    },
}


def _step_index(row: Mapping[str, Any]) -> int:
    step = row.get("furthest_step")
    return STEPS.index(step) if step in STEPS else 0


def _weight(row: Mapping[str, Any]) -> int:
    n = row.get("conversations", 1)
    return n if isinstance(n, int) else 1


Texts = Mapping[str, Mapping[str, str]]


def _said(key: str, language: str, texts: Texts) -> str | None:
    """The bot's text `key` in `language` (zh, the bot's default, for a conversation without
    one); None for no text or a key the bot no longer has."""
    entry = texts.get(key) or {}
    return entry.get(language) or entry.get("zh")


def _steps(rows: Sequence[Mapping[str, Any]], texts: Texts) -> list[dict[str, Any]]:
    started = sum(_weight(r) for r in rows)
    result = []
    for i, step in enumerate(STEPS):
        reached = sum(_weight(r) for r in rows if _step_index(r) >= i)
        entry: dict[str, Any] = {"step": step, "reached": reached, "share_of_started": rate(reached, started)}
        if i == len(STEPS) - 1:
            entry |= {"stopped": None, "drop_off": None, "stopped_escalated": None, "last_bot_before_stop": []}
        else:
            stopped = [r for r in rows if _step_index(r) == i]
            keys: Counter[tuple[str, str]] = Counter()
            for r in stopped:
                keys[(str(r.get("last_bot_text_key") or "-"), language_of(r) or "-")] += _weight(r)
            n_stopped = sum(_weight(r) for r in stopped)
            entry |= {
                "stopped": n_stopped,
                "drop_off": rate(n_stopped, reached),
                "stopped_escalated": sum(_weight(r) for r in stopped if r.get("escalated")),
                "last_bot_before_stop": [
                    {"text_key": key, "language": language, "text": _said(key, language, texts), "conversations": n}
                    for (key, language), n in sorted(keys.items(), key=lambda kv: (-kv[1], kv[0]))[:LAST_BOT_SHOWN]
                ],
            }
        result.append(entry)
    return result


def _committed_as(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    committed = [r for r in rows if _step_index(r) == len(STEPS) - 1]
    return {
        "plan_accepted": sum(_weight(r) for r in committed if "arrangement" in (r.get("outcomes") or [])),
        "promise": sum(_weight(r) for r in committed if "promise" in (r.get("outcomes") or [])),
    }


def funnel_of_selection(rows: Sequence[Mapping[str, Any]], texts: Texts | None = None) -> dict[str, Any]:
    """The funnel of rows already selected: in total and per language and channel; the last
    bot texts before a stop in the borrower's language when `texts` are given."""
    texts = texts or {}
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(language_of(row) or "-", str(row.get("channel") or "-"))].append(row)
    return {
        "steps": list(STEPS),
        "total": {"steps": _steps(rows, texts), "committed_as": _committed_as(rows)},
        "groups": [
            {"language": language, "channel": channel, "steps": _steps(g, texts), "committed_as": _committed_as(g)}
            for (language, channel), g in sorted(groups.items())
        ],
        "definitions": DEFINITIONS,
    }


def funnel(facts: Iterable[Mapping[str, Any]], filters: Filters, texts: Texts | None = None) -> dict[str, Any]:
    """The funnel of the conversations the filters select (`total`) and per language and
    channel (`groups`)."""
    return {"filters": filters_view(filters), **funnel_of_selection(selected(facts, filters), texts)}
