"""Rasa-side additions (loaded by Rasa through endpoints.yml): the redacting tracker store,
and a cached validator of the action server's answers (addons/action_validation.py)."""

from addons.action_validation import install as _install_action_validation

_install_action_validation()
