"""Faster validation of the action server's answers inside Rasa (same schema, same errors).

Rasa 3.6 checks every custom action's answer with ``jsonschema.validate(result, schema)``
(``RemoteAction._validate_action_result``). That call first validates the constant schema
itself against the JSON Schema meta-schema, every time: about 18 ms of the 20 ms of each
call on this machine, and a turn runs 2 to 4 custom actions (slot validation, the intent's
action, forms). Measured with cProfile under bench/conversation_bench.py it was the largest
single cost of a turn. Here the schema is checked once and its validator reused; an invalid
answer raises the same ``ValidationError`` with the same message as before.

Installed by importing ``addons`` (Rasa imports it for the tracker store of endpoints.yml).
"""

from __future__ import annotations

from typing import Any

_validator: Any = None


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
