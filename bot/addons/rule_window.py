"""RulePolicy predicts from the recent states of a conversation, not from all of them.

Rasa 3.6's RulePolicy turns the whole session into dialogue states at every prediction (twice:
the latest message as text, then as an intent) and walks all of them: it matches every rule
against every state back to the first (``_get_possible_keys``), formats them all for a debug
log (with a deep copy) and, when no rule applies, makes its fallback key of all of them. At
turn 250 of a session that was most of what made a turn cost twice turn 25 (issue 11).

The decisions depend on the last states only. ``_get_possible_keys`` keeps a rule at history
position ``i`` (counting back from the latest state) without looking at the state once ``i``
reaches the rule's length (``_is_rule_applicable``: "the rule must be applicable because we got
further in the conversation history than the rule's length"), so states further back than the
longest rule (of the rules and of the loops' unhappy paths) filter nothing. The one other use of
the states is the key returned when no rule applies, whose only effect on a live prediction is
``hide_rule_turn`` (is the key one of the rules not in stories?): a key equal to a rule's key
would have matched that rule, so neither the whole key nor the recent one is ever one of them,
and both give False. The states themselves are the tail of those Rasa computes (the featurizer
edits each state on its own), so the window is ``longest rule + MARGIN`` states.

Only live conversations' trackers (``DialogueStateTracker`` itself, with a sender id) are
windowed; training and ``rasa test`` trackers of other types go through Rasa's code unchanged.
With the kept states (addons/past_states.py) installed, only the window's states are copied
for the caller. tests/bot/test_rule_window.py compares RulePolicy's predictions both ways on
every step of the bot's stories and of long generated sessions.
"""

from __future__ import annotations

import json
from typing import Any

from addons import past_states

MARGIN = 2
WINDOW = "_huanxin_rule_window"
_original: Any = None


def window(policy: Any) -> int:
    """How many of the latest states RulePolicy's decisions can depend on (see module docstring)."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH

    lookup = policy.lookup
    kept = policy.__dict__.get(WINDOW)
    if kept is not None and kept[0] is lookup:
        return kept[1]
    keys = [*lookup.get(RULES, {}), *lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
    size = max((len(json.loads(key)) for key in keys), default=0) + MARGIN
    policy.__dict__[WINDOW] = (lookup, size)
    return size


def _prediction_states(
    self: Any,
    tracker: Any,
    domain: Any,
    use_text_for_last_user_input: bool = False,
    rule_only_data: Any = None,
) -> list[Any]:
    from rasa.shared.core.trackers import DialogueStateTracker

    if type(tracker) is not DialogueStateTracker or not tracker.sender_id:
        return _original(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    size = window(self)
    with past_states.only_latest(size):
        states = _original(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    return states[-size:]


def install() -> None:
    global _original
    from rasa.core.policies.rule_policy import RulePolicy

    if _original is None:
        _original = RulePolicy._prediction_states
        RulePolicy._prediction_states = _prediction_states
