"""The kept dialogue states (bot/addons/past_states.py) are exactly the states Rasa computes.

Each check builds a conversation the way Rasa serves one, event by event, and compares the
add-on's answer with Rasa's own ``Domain.states_for_tracker_history`` at each step: for every
test story and rule of the bot, for long sessions chained from them with reverted turns,
restarts and new sessions mixed in, with the tracker rebuilt from other event objects between
turns (as a tracker store does), and with the rule-only options RulePolicy uses.
"""

import copy
import random
from pathlib import Path

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, RULE_ONLY_LOOPS, RULE_ONLY_SLOTS
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from addons import past_states
from harness import domain_path

BOT = Path(__file__).resolve().parents[2] / "bot"
OPTIONS = [
    {},
    {"omit_unset_slots": True},
    {
        "ignore_rule_only_turns": True,
        "rule_only_data": {RULE_ONLY_SLOTS: ["requested_slot"], RULE_ONLY_LOOPS: ["verification_form"]},
    },
]


@pytest.fixture(scope="module")
def domain():
    past_states.install()
    return Domain.load(str(domain_path()))


@pytest.fixture(scope="module")
def dialogues(domain):
    """The events of every test story, story and rule, each user message after an action_listen."""
    files = sorted((BOT / "tests").glob("*.yml")) + sorted((BOT / "data").glob("*/*.yml"))
    found = []
    for path in files:
        for step in YAMLStoryReader(domain).read_from_file(str(path)):
            events = []
            for event in step.events:
                if isinstance(event, UserUttered) and not (
                    events and isinstance(events[-1], ActionExecuted) and events[-1].action_name == ACTION_LISTEN_NAME
                ):
                    events.append(ActionExecuted(ACTION_LISTEN_NAME))
                events.append(event)
            if events:
                found.append(events)
    assert len(found) > 40, "the bot's stories and rules were not read"
    return found


def rasa_states(domain, tracker, options):
    return past_states._original(domain, tracker, **options)


def kept_states(domain, tracker, options):
    return domain.states_for_tracker_history(tracker, **options)


def play(domain, events, options, sender, rebuild_every_turn=False, check_every=1):
    """Feeds `events` to a tracker one at a time, comparing both answers; with
    `rebuild_every_turn`, the tracker is rebuilt from copies of its events at each action_listen
    (new objects: what a tracker store hands back) before the next message is added."""
    tracker = DialogueStateTracker.from_events(sender, [], domain.slots)
    compared = 0
    for n, event in enumerate(events):
        tracker.update(copy.deepcopy(event))
        if rebuild_every_turn and isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            older = [copy.deepcopy(e) for e in tracker.events]
            tracker = DialogueStateTracker.from_events(sender, older, domain.slots)
        if n % check_every == 0 or n == len(events) - 1:
            expected = rasa_states(domain, tracker, options)
            assert kept_states(domain, tracker, options) == expected, f"{sender}: differs after event {n} ({event})"
            assert kept_states(domain, tracker, options) == expected, f"{sender}: a second call differs"
            compared += 1
    return compared


@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "omit_unset", "rule_only"])
def test_every_story_and_rule_gives_rasas_states_at_every_step(domain, dialogues, options):
    compared = sum(
        play(domain, events, options, f"story-{i}", rebuild_every_turn=bool(i % 2))
        for i, events in enumerate(dialogues)
    )
    assert compared == sum(len(events) for events in dialogues)


def long_session(dialogues, seed, turns=120):
    """Stories chained into one long session, with turns reverted, restarts and new sessions."""
    rng = random.Random(seed)
    events = []
    while sum(isinstance(e, UserUttered) for e in events) < turns:
        events.extend(rng.choice(dialogues))
        roll = rng.random()
        if roll < 0.08:
            events.append(UserUtteranceReverted())
        elif roll < 0.12:
            events.append(ActionReverted())
        elif roll < 0.14:
            events.extend([Restarted(), ActionExecuted(ACTION_LISTEN_NAME)])
        elif roll < 0.16:
            events.extend(
                [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]
            )
    return events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_long_sessions_with_reverts_and_restarts_give_rasas_states(domain, dialogues, seed):
    events = long_session(dialogues, seed)
    for options in OPTIONS:
        play(domain, events, options, f"long-{seed}", rebuild_every_turn=True, check_every=5)


def test_what_a_caller_does_to_the_answer_changes_no_later_answer(domain, dialogues):
    events = long_session(dialogues, 7, turns=20)
    tracker = DialogueStateTracker.from_events("edited", events, domain.slots)
    first = kept_states(domain, tracker, {})
    for state in first:  # as Rasa's featurizer does: it deletes parts of states in place
        for part in state.values():
            part.clear()
    assert kept_states(domain, tracker, {}) == rasa_states(domain, tracker, {})


def test_training_trackers_and_other_domains_use_rasas_own_code(domain, dialogues):
    from rasa.shared.core.generator import TrackerWithCachedStates

    past_states.forget()
    events = dialogues[0]
    training = TrackerWithCachedStates.from_events("t", events, domain.slots, domain=domain)
    assert kept_states(domain, training, {}) == rasa_states(domain, training, {})
    assert not past_states._kept
    live = DialogueStateTracker.from_events("live", events, domain.slots)
    kept_states(domain, live, {})
    assert len(past_states._kept) == 1
    other = Domain.load(str(domain_path()))  # a model loaded again: nothing kept is reused
    assert other.states_for_tracker_history(live) == rasa_states(other, live, {})
    assert next(iter(past_states._kept.values())).domain is other


def test_a_long_session_replays_only_what_is_new(domain, dialogues, monkeypatch):
    events = long_session(dialogues, 11, turns=60)
    events = [
        e for e in events if not isinstance(e, (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted))
    ]
    tracker = DialogueStateTracker.from_events("cost", events, domain.slots)
    kept_states(domain, tracker, {})
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
    applied = []
    original_update = DialogueStateTracker.update
    monkeypatch.setattr(
        DialogueStateTracker, "update", lambda self, e, *a: applied.append(e) or original_update(self, e, *a)
    )
    states = kept_states(domain, tracker, {})
    assert len(applied) < 5, f"replayed {len(applied)} events of {len(tracker.events)}"
    monkeypatch.undo()
    assert states == rasa_states(domain, tracker, {})


def test_snapshots_share_the_slots_no_event_changed(domain, dialogues):
    """What a full garbage collection walks: a kept conversation's snapshots hold a slot object
    per slot an event changed, not a copy of every slot each (issue 11), and give Rasa's states."""
    past_states.forget()
    events = long_session(dialogues, 5, turns=40)
    events = [e for e in events if not isinstance(e, (Restarted, SessionStarted))]
    tracker = DialogueStateTracker.from_events("shared", events, domain.slots)
    assert kept_states(domain, tracker, {}) == rasa_states(domain, tracker, {})
    (kept,) = past_states._kept.values()
    assert len(kept.snapshots) == past_states.KEPT_SNAPSHOTS
    distinct = {id(slot) for snapshot in kept.snapshots for slot in snapshot.tracker.slots.values()}
    assert len(distinct) < len(kept.snapshots) * len(domain.slots) / 4
    tracker.update(UserUtteranceReverted())  # resumes from an earlier snapshot, whose slots are shared
    assert kept_states(domain, tracker, {}) == rasa_states(domain, tracker, {})


def test_the_switch_turns_the_sharing_off(domain, dialogues, monkeypatch):
    """HUANXIN_ADDONS_OFF=snapshot_slot_sharing: a copy of every slot per snapshot, as before
    (what bench/turn_cost.py --variant compares)."""
    monkeypatch.setenv("HUANXIN_ADDONS_OFF", "snapshot_slot_sharing")
    past_states.install()
    try:
        past_states.forget()
        events = [e for e in long_session(dialogues, 5, turns=40) if not isinstance(e, (Restarted, SessionStarted))]
        tracker = DialogueStateTracker.from_events("unshared", events, domain.slots)
        assert kept_states(domain, tracker, {}) == rasa_states(domain, tracker, {})
        (kept,) = past_states._kept.values()
        distinct = {id(slot) for snapshot in kept.snapshots for slot in snapshot.tracker.slots.values()}
        assert len(distinct) == len(kept.snapshots) * len(domain.slots)
    finally:
        monkeypatch.delenv("HUANXIN_ADDONS_OFF")
        past_states.install()
    assert past_states._share_slots
