"""addons/action_validation.py: Rasa's check of the action server's answers, with the schema
checked once instead of on every call; the same answers pass and fail, with the same message."""

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import addons  # noqa: F401 - installs the cached validator, as Rasa's import of the tracker store does
from addons.action_validation import validate_action_result

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "language", "value": "zh", "timestamp": None},
            {"event": "followup", "name": "verification_form", "timestamp": None},
        ],
        "responses": [
            {"text": "您好", "buttons": [{"title": "转人工", "payload": "/request_human"}]},
            {"custom": {"handoff": {"reason": "request_human"}}},
        ],
    },
]
INVALID = [
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
]


def rasa_original(result):
    """What Rasa 3.6 does (rasa/core/actions/action.py, RemoteAction._validate_action_result)."""
    jsonschema.validate(result, RemoteAction.action_response_format_spec())
    return True


def test_importing_addons_installs_the_cached_validator():
    assert RemoteAction._validate_action_result is validate_action_result


@pytest.mark.parametrize("result", VALID)
def test_valid_answers_pass_as_they_do_in_rasa(result):
    assert rasa_original(result) is True
    assert validate_action_result(None, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_answers_fail_with_rasas_error_and_message(result):
    with pytest.raises(jsonschema.ValidationError) as original:
        rasa_original(result)
    with pytest.raises(jsonschema.ValidationError) as cached:
        validate_action_result(None, result)
    assert cached.value.message.startswith(original.value.message)
    assert "Failed to validate Action server response" in cached.value.message


# ---- the plain answers accepted without the validator (issue 11)


def test_the_name_only_events_are_those_whose_schema_branch_asks_only_the_name():
    """plainly_valid relies on the shape of Rasa's events schema: if an upgrade changes it,
    this fails."""
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA, SLOT_SET

    from addons.action_validation import NAME_ONLY_EVENTS

    name_only = {
        branch["properties"]["event"]["const"]
        for branch in EVENT_SCHEMA["oneOf"]
        if set(branch) == {"properties"} and set(branch["properties"]) == {"event"}
    }
    assert name_only == NAME_ONLY_EVENTS
    assert SLOT_SET == {
        "properties": {"event": {"const": "slot"}, "name": {"type": "string"}, "value": {}},
        "required": ["name", "value"],
    }
    assert EVENT_SCHEMA["required"] == ["event"]
    assert EVENT_SCHEMA["properties"] == {
        "event": {"type": "string"},
        "timestamp": {"type": ["number", "null"]},
        "metadata": {"type": ["object", "null"]},
    }
    assert RemoteAction.action_response_format_spec()["properties"]["responses"] == {
        "type": "array",
        "items": {"type": "object"},
    }


def _schema_accepts(result):
    """Rasa's schema, by a validator built once (jsonschema.validate checks the schema itself
    at every call: too slow for a few thousand answers)."""
    from jsonschema.validators import validator_for

    global _RASA_VALIDATOR
    if _RASA_VALIDATOR is None:
        schema = RemoteAction.action_response_format_spec()
        _RASA_VALIDATOR = validator_for(schema)(schema)
    return _RASA_VALIDATOR.is_valid(result)


_RASA_VALIDATOR = None


def _generated_answers():
    """Answers built from parts the fast path must judge right: every event name of the schema
    and some unknown, the properties with values of every JSON type."""
    import itertools
    import random

    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    names = [branch["properties"]["event"]["const"] for branch in EVENT_SCHEMA["oneOf"]] + ["nope", "", None, 3]
    values = [None, True, False, 0, 1, 1.5, "x", "", [], [1], {}, {"a": 1}]
    rng = random.Random(11)
    events = []
    for name in names:
        events.append({"event": name})
        events.append({"name": name})
        for key, value in itertools.product(("timestamp", "metadata", "name", "value"), values):
            events.append({"event": name, key: value})
        for _ in range(12):
            event = {"event": name}
            for key in ("timestamp", "metadata", "name", "value", "text", "entities"):
                if rng.random() < 0.5:
                    event[key] = rng.choice(values)
            events.append(event)
    answers = [{"events": [event], "responses": []} for event in events]
    answers += [{"events": [e for e in events[i : i + 3]]} for i in range(0, len(events), 3)]
    answers += [{"responses": [v]} for v in values] + [{"events": v} for v in values] + values
    answers += [
        {},
        {"events": [], "responses": [{}], "other": 1},
        {"events": [{"event": "slot", "name": "a", "value": 1}]},
    ]
    return answers


def test_the_fast_path_accepts_only_what_the_schema_accepts():
    from addons.action_validation import plainly_valid

    fast = 0
    for answer in _generated_answers():
        if plainly_valid(answer):
            fast += 1
            assert _schema_accepts(answer), answer
    assert fast > 200  # the generated answers do exercise the fast path


def test_every_generated_answer_is_judged_as_rasa_judges_it():
    for answer in _generated_answers():
        if _schema_accepts(answer):
            assert validate_action_result(None, answer) is True
        else:
            with pytest.raises(jsonschema.ValidationError):
                validate_action_result(None, answer)


def test_the_answers_of_the_bots_actions_take_the_fast_path():
    from addons.action_validation import plainly_valid

    for answer in VALID:
        assert plainly_valid(answer)
