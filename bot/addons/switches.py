"""Which of the Rasa add-ons are off: HUANXIN_ADDONS_OFF, a comma-separated list of names
(event_type_cache, past_states_cache, snapshot_slot_sharing, rule_window, applied_events_cache,
tracker_copy, fast_action_json, action_events_trim, gc_freeze, tracker_cache, sqlite_wal). Empty in
production: the switch exists so that bench/turn_cost.py can measure each add-on against Rasa
without it in one run (``--variant plain:HUANXIN_ADDONS_OFF=tracker_cache``), and tests can compare both."""

from __future__ import annotations

import os
from collections.abc import Mapping

VARIABLE = "HUANXIN_ADDONS_OFF"
NAMES = (
    "event_type_cache",
    "past_states_cache",
    "snapshot_slot_sharing",
    "rule_window",
    "applied_events_cache",
    "tracker_copy",
    "fast_action_json",
    "action_events_trim",
    "gc_freeze",
    "tracker_cache",
    "sqlite_wal",
)


def enabled(name: str, env: Mapping[str, str] | None = None) -> bool:
    if name not in NAMES:
        raise ValueError(f"unknown add-on {name!r}")
    env = os.environ if env is None else env
    off = {part.strip() for part in (env.get(VARIABLE) or "").split(",")}
    return name not in off and "all" not in off
