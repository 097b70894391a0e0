"""The minimal bot's tracker store: Rasa's SQLTrackerStore unchanged; importing this module also
installs the project's cached validation of action answers (bot/addons/action_validation.py)."""

from __future__ import annotations

from rasa.core.tracker_store import SQLTrackerStore

from addons.action_validation import install

install()


class MinimalSQLTrackerStore(SQLTrackerStore):
    """`tracker_store: {type: minimal_store.MinimalSQLTrackerStore}` in endpoints.yml."""
