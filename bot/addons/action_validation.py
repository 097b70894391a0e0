"""Faster validation of the action server's answers inside Rasa (same schema, same errors).

Rasa 3.6 checks every custom action's answer with ``jsonschema.validate(result, schema)``
(``RemoteAction._validate_action_result``). That call first validates the constant schema
itself against the JSON Schema meta-schema, every time: about 18 ms of the 20 ms of each
call on this machine, and a turn runs 2 to 4 custom actions (slot validation, the intent's
action, forms). Measured with cProfile under bench/conversation_bench.py it was the largest
single cost of a turn. Here the schema is checked once and its validator reused; an invalid
answer raises the same ``ValidationError`` with the same message as before.

Even reused, the validator walked every event through the 23 branches of the events schema's
``oneOf``: 6% of Rasa's CPU a turn in bench/turn_cost.py (issue 11). The answers the actions
give are made of a few plain kinds of event (slot, followup, active_loop...), whose branch of
the schema asks nothing but the event's name (and, for a slot, a string ``name`` and a
``value``). ``plainly_valid`` accepts an answer made only of those, checking exactly what the
schema asks of them; anything else (a user or action event, a value of another JSON type, an
invalid answer) goes to the validator, which accepts or rejects it as before.
tests/bot/test_action_validation.py compares both on generated answers.
"""

from __future__ import annotations

from typing import Any

_validator: Any = None

# Event names whose branch of Rasa 3.6's EVENTS_SCHEMA ``oneOf`` has only ``{"event": {"const": name}}``
# (rasa/shared/utils/schemas/events.py): an event with one of these names matches that branch and
# no other (each branch fixes another name).
NAME_ONLY_EVENTS = frozenset(
    {
        "user_featurization",
        "cancel_reminder",
        "reminder",
        "action_execution_rejected",
        "form_validation",
        "loop_interrupted",
        "form",
        "active_loop",
        "reset_slots",
        "resume",
        "pause",
        "followup",
        "export",
        "restart",
        "undo",
        "rewind",
        "bot",
        "session_started",
        "agent",
    }
)


def _is_number_or_null(value: Any) -> bool:
    return value is None or (type(value) in (int, float))  # a bool is no JSON Schema number


def _plain_event(event: Any) -> bool:
    """The event matches the schema's common properties and exactly one ``oneOf`` branch, and
    only for the reasons checked here (otherwise False: the validator decides)."""
    if type(event) is not dict:
        return False
    name = event.get("event")
    if type(name) is not str:
        return False
    if "timestamp" in event and not _is_number_or_null(event["timestamp"]):
        return False
    if "metadata" in event and event["metadata"] is not None and type(event["metadata"]) is not dict:
        return False
    if name in NAME_ONLY_EVENTS:
        return True
    if name == "slot":  # SLOT_SET: a string name and a value (any JSON value)
        return type(event.get("name")) is str and "value" in event
    return False


def plainly_valid(result: Any) -> bool:
    """True only for an answer the schema accepts (see the module docstring); False says nothing."""
    if type(result) is not dict:
        return False
    events = result.get("events", [])
    responses = result.get("responses", [])
    if type(events) is not list or type(responses) is not list:
        return False
    return all(type(r) is dict for r in responses) and all(_plain_event(e) for e in events)


def _cached_validator() -> Any:
    global _validator
    if _validator is None:
        from jsonschema.validators import validator_for
        from rasa.core.actions.action import RemoteAction

        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    return _validator


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    if plainly_valid(result):
        return True
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_cached_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = validate_action_result
