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
