"""Rasa-side additions (loaded by Rasa through endpoints.yml, which names addons.tracker_store):
the redacting, caching tracker store (addons/tracker_store.py), a cached validator of the
action server's answers (addons/action_validation.py), cached event-type resolution
(addons/event_types.py), dialogue states and applied events kept between predictions
(addons/past_states.py, addons/applied_events.py), RulePolicy's prediction from the latest
states (addons/rule_window.py), a tracker copied without replaying it
(addons/tracker_copy.py), the tracker sent to actions encoded by ujson
(addons/action_payload.py) and without the events no action reads (addons/action_events.py),
and a frozen heap once the model is loaded (addons/gc_freeze.py).
HUANXIN_ADDONS_OFF turns some off for measurement (addons/switches.py)."""

from addons import switches
from addons.action_validation import install as _install_action_validation

_install_action_validation()
if switches.enabled("event_type_cache"):
    from addons.event_types import install as _install_event_types

    _install_event_types()
if switches.enabled("past_states_cache"):
    from addons.past_states import install as _install_past_states

    _install_past_states()
if switches.enabled("rule_window"):
    from addons.rule_window import install as _install_rule_window

    _install_rule_window()
if switches.enabled("applied_events_cache"):
    from addons.applied_events import install as _install_applied_events

    _install_applied_events()
if switches.enabled("tracker_copy"):
    from addons.tracker_copy import install as _install_tracker_copy

    _install_tracker_copy()
if switches.enabled("fast_action_json"):
    from addons.action_payload import install as _install_action_payload

    _install_action_payload()
if switches.enabled("action_events_trim"):
    from addons.action_events import install as _install_action_events

    _install_action_events()
if switches.enabled("gc_freeze"):
    from addons.gc_freeze import install as _install_gc_freeze

    _install_gc_freeze()
