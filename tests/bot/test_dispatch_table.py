"""The composition root's tables (actions/__init__.py) against the Rasa data: the intent an
action answers is written in the rules (which Rasa follows) and in HANDLERS (which the actions
follow when they answer a question for another: after verification, in passing during a form,
after a form was stopped); these tests keep the two the same."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import DISPATCH, HANDLERS, REPLY_HANDLERS
from actions.base import LedgerAction
from actions.dispatch import Dispatch
from actions.handback import ActionHandback
from actions.turn import Turn
from actions.vault import ConversationVault
from fake_ledger import FakeLedger
from harness import DOMAIN

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"
RULE_FILES = sorted((BOT_DIR / "data" / "rules").glob("*.yml"))
STORY_FILES = sorted((BOT_DIR / "data" / "stories").glob("*.yml")) + sorted((BOT_DIR / "tests").glob("test_*.yml"))


def intent_then_action(path: Path) -> list[tuple[str, str]]:
    """(intent, custom action) for every step `intent` directly followed by an `action_*` step."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in (document.get("rules") or []) + (document.get("stories") or []):
        steps = block.get("steps") or []
        for step, following in zip(steps, steps[1:], strict=False):
            action = following.get("action") or ""
            if step.get("intent") and action.startswith("action_"):
                pairs.append((step["intent"], action))
    return pairs


def domain_actions() -> set[str]:
    found: set[str] = set()
    for path in (BOT_DIR / "domain").glob("*.yml"):
        found.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("actions") or [])
    return found


def domain_intents() -> set[str]:
    found: set[str] = {"nlu_fallback"}  # the FallbackClassifier's intent (config.yml), never declared
    for path in (BOT_DIR / "domain").glob("*.yml"):
        found.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("intents") or [])
    return found


def table_names(table: dict) -> dict[str, str]:
    return {key: handler().name() for key, handler in table.items()}


def test_the_rules_and_the_table_map_the_same_intents_to_the_same_actions():
    ruled = {intent: action for path in RULE_FILES for intent, action in intent_then_action(path)}
    assert ruled, "no rule maps an intent to a custom action"
    assert table_names(HANDLERS) == ruled


@pytest.mark.parametrize("path", STORY_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_story_step_agrees_with_the_table(path):
    names = table_names(HANDLERS)
    assert [(i, a) for i, a in intent_then_action(path) if names.get(i) != a] == []


def test_every_table_entry_is_a_domain_intent_answered_by_a_domain_action():
    assert set(HANDLERS) <= domain_intents()
    assert set(table_names(HANDLERS).values()) | set(table_names(REPLY_HANDLERS).values()) <= domain_actions()


def test_the_dispatch_reads_the_tables():
    for intent, handler in HANDLERS.items():
        assert DISPATCH.handler_for(intent) is handler
        assert intent in DISPATCH.intents_of(handler)
    for awaiting, handler in REPLY_HANDLERS.items():
        assert DISPATCH.reply_handler_for(awaiting) is handler
    assert DISPATCH.handler_for(None) is None
    assert DISPATCH.handler_for("no_such_intent") is None
    assert DISPATCH.reply_handler_for(None) is None


class AnswerStub(LedgerAction):
    allowed_in_groups = True

    def name(self) -> str:
        return "action_answer_stub"

    async def handle(self, turn: Turn) -> None:
        turn.say_raw("answered by the stub")


async def test_a_feature_hands_the_turn_to_the_action_its_dispatch_names():
    """An unsigned hand-back is answered by whatever the dispatch maps nlu_fallback to: the
    feature finds the action through the dispatch it was given, not through an import."""
    latest = {"text": "/handback", "intent": {"name": "handback", "confidence": 1.0}, "entities": []}
    events = [{"event": "user", "text": "/handback", "parse_data": latest}]
    tracker = Tracker("conv-d", {"language": "en"}, latest, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    dispatch = Dispatch({"nlu_fallback": AnswerStub})
    action = ActionHandback(ledger=FakeLedger(), vault=ConversationVault(), dispatch=dispatch)
    await action.run(dispatcher, tracker, DOMAIN)
    assert [m.get("text") for m in dispatcher.messages] == ["answered by the stub"]
