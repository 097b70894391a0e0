"""RulePolicy decides the same from the latest states (bot/addons/rule_window.py) as from all.

A RulePolicy is trained on the bot's rules and stories (as `rasa train` does, with its checks
for contradictions, which make the rules-not-in-stories list that ``hide_rule_turn`` reads), then
asked for its prediction at every step of every story and of long generated sessions, once with
the window and once through Rasa's own ``_prediction_states``: the probabilities, the events, and
every flag of the prediction must be the same.
"""

import json
import tempfile
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RULES, RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from addons import past_states, rule_window
from test_past_states import dialogues, domain, long_session  # noqa: F401  (fixtures)

BOT = Path(__file__).resolve().parents[2] / "bot"


@pytest.fixture(scope="module")
def policy(domain):  # noqa: F811
    rule_window.install()
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(BOT / "domain"), training_data_paths=[str(BOT / "data")]
    )
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    config = {
        **RulePolicy.get_default_config(),
        "core_fallback_threshold": 0.3,
        "core_fallback_action_name": "action_default_fallback",
        "enable_fallback_prediction": True,
    }
    storage = LocalModelStorage(Path(tempfile.mkdtemp()))
    trained = RulePolicy.create(config, storage, Resource("rule_policy"), ExecutionContext(GraphSchema({}), "test"))
    trained.train(trackers, domain)
    assert len(trained.lookup[RULES]) > 20, "the bot's rules were not learned"
    return trained


def both_ways(policy, domain, tracker, monkeypatch):  # noqa: F811
    windowed = policy.predict_action_probabilities(tracker, domain)
    with monkeypatch.context() as m:
        m.setattr(RulePolicy, "_prediction_states", rule_window._original)
        whole = policy.predict_action_probabilities(tracker, domain)
    return windowed, whole


def same(a, b):
    return (
        a.probabilities == b.probabilities
        and a.events == b.events
        and a.hide_rule_turn == b.hide_rule_turn
        and a.is_end_to_end_prediction == b.is_end_to_end_prediction
        and a.is_no_user_prediction == b.is_no_user_prediction
        and a.action_metadata == b.action_metadata
    )


def play(policy, domain, events, sender, monkeypatch, check_every=1):  # noqa: F811
    """Predicts after every user message and action of ``events``, both ways; the number of
    predictions compared, and how many of them were a rule's (not the fallback)."""
    tracker = DialogueStateTracker.from_events(sender, [], domain.slots)
    compared = ruled = 0
    for i, event in enumerate(events):
        tracker.update(event)
        if not isinstance(event, (UserUttered, ActionExecuted)) or i % check_every:
            continue
        windowed, whole = both_ways(policy, domain, tracker, monkeypatch)
        assert same(windowed, whole), f"{sender}: event {i} ({event}) predicts differently"
        compared += 1
        ruled += max(whole.probabilities) > policy.config["core_fallback_threshold"]
    return compared, ruled


def test_the_window_spans_the_longest_rule(policy):
    longest = max(len(json.loads(key)) for key in policy.lookup[RULES])
    assert rule_window.window(policy) == longest + rule_window.MARGIN


def test_every_story_and_rule_predicts_the_same_at_every_step(policy, domain, dialogues, monkeypatch):  # noqa: F811
    compared = ruled = 0
    for i, events in enumerate(dialogues):
        c, r = play(policy, domain, events, f"story-{i}", monkeypatch)
        compared, ruled = compared + c, ruled + r
    assert compared > 300 and ruled > compared // 2, (compared, ruled)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_long_sessions_predict_the_same(policy, domain, dialogues, seed, monkeypatch):  # noqa: F811
    events = long_session(dialogues, seed, turns=150)
    compared, ruled = play(policy, domain, events, f"long-{seed}", monkeypatch, check_every=3)
    assert compared > 100 and ruled > 0, (compared, ruled)
    states = policy._prediction_states(DialogueStateTracker.from_events("n", events, domain.slots), domain)
    assert len(states) == rule_window.window(policy)


def test_states_before_the_window_filter_no_rule_and_a_shorter_window_would(policy, domain, dialogues):  # noqa: F811
    """The argument of the module docstring, checked on the rules' matching itself: the rules
    that apply to all the states are those that apply to the window's. The bot's rules are
    short (two states), so a longer one is added whose first state never occurs, made of the
    last two states of a step: the window grows with it, and one state fewer would keep it."""
    rules = dict(policy.lookup[RULES])
    events = long_session(dialogues, 21, turns=80)
    tracker = DialogueStateTracker.from_events("keys", events[:40], domain.slots)
    tail = rule_window._original(policy, tracker, domain)[-2:]
    never = {"prev_action": {"action_name": "action_that_never_ran"}}
    rules[json.dumps([never, *tail], sort_keys=True)] = "action_listen"
    longest = max(len(json.loads(key)) for key in rules)
    assert longest == 3
    size = longest + rule_window.MARGIN
    tracker = DialogueStateTracker.from_events("keys", [], domain.slots)
    compared = differs = 0
    for event in events:
        tracker.update(event)
        if not isinstance(event, (UserUttered, ActionExecuted)):
            continue
        states = rule_window._original(policy, tracker, domain)
        keys = policy._get_possible_keys(rules, states)
        assert keys == policy._get_possible_keys(rules, states[-size:])
        differs += keys != policy._get_possible_keys(rules, states[-(longest - 1) :])
        compared += 1
    assert compared > 200 and differs > 0, (compared, differs)


def test_the_kept_states_copy_only_the_window(policy, domain, dialogues):  # noqa: F811
    events = long_session(dialogues, 5, turns=60)
    tracker = DialogueStateTracker.from_events("copies", events, domain.slots)
    whole = domain.states_for_tracker_history(tracker)
    with past_states.only_latest(3):
        latest = domain.states_for_tracker_history(tracker)
    assert 3 <= len(latest) < len(whole) and latest == whole[-len(latest) :]


def test_other_trackers_use_rasas_own_code(policy, domain, dialogues):  # noqa: F811
    """Training and `rasa test` trackers are of DialogueStateTracker's subclasses: all their states."""

    class Other(DialogueStateTracker):
        pass

    events = long_session(dialogues, 9, turns=20)
    other = Other.from_events("t", events, domain.slots)
    live = DialogueStateTracker.from_events("t", events, domain.slots)
    states = policy._prediction_states(other, domain)
    assert states == rule_window._original(policy, live, domain)
    assert len(states) > rule_window.window(policy) == len(policy._prediction_states(live, domain))
