"""The cached event-type resolution and the frozen heap after the model loads (bot/addons)."""

import gc

import pytest
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from addons import event_types, gc_freeze, switches


def test_every_event_type_resolves_to_the_class_rasa_finds():
    event_types.install()
    assert Event.resolve_by_type is not event_types._original
    for cls in all_subclasses(Event):
        expected = event_types._original(cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is expected
        assert Event.resolve_by_type(cls.type_name) is expected  # the remembered answer
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.from_parameters({"event": "slot", "name": "x", "value": 1}) == SlotSet("x", 1)


def test_unknown_event_types_behave_as_before():
    event_types.install()
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", ActionExecuted) is ActionExecuted
    assert Event.resolve_by_type("topic") is None
    assert "no_such_event" not in event_types._classes


def test_the_heap_is_frozen_once_the_model_is_loaded(monkeypatch):
    loaded = []
    monkeypatch.setattr(gc_freeze, "_original", lambda self, path: loaded.append(path) or "agent")
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        assert gc_freeze.load_model(object(), "model.tar.gz") == "agent"
        assert loaded == ["model.tar.gz"]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_switches_name_the_add_ons_that_are_off():
    assert switches.enabled("tracker_cache", {})
    assert not switches.enabled("tracker_cache", {"HUANXIN_ADDONS_OFF": "gc_freeze, tracker_cache"})
    assert switches.enabled("gc_freeze", {"HUANXIN_ADDONS_OFF": "tracker_cache"})
    assert not switches.enabled("sqlite_wal", {"HUANXIN_ADDONS_OFF": "all"})
    with pytest.raises(ValueError):
        switches.enabled("no_such_addon", {})


async def test_the_tracker_sent_to_actions_decodes_to_what_rasa_would_send():
    """addons/action_payload.py: the action server receives the same JSON value, ujson-encoded;
    what ujson cannot encode goes through Rasa's own encoding."""
    import json
    import math

    from aiohttp import web
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
    from rasa.utils.endpoints import EndpointConfig

    from addons import action_payload
    from harness import domain_path
    from test_redaction import verification_turns

    action_payload.install()
    received = []

    async def webhook(request):
        received.append(json.loads(await request.read()))
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    domain = Domain.load(str(domain_path()))
    first, second = verification_turns()
    tracker = DialogueStateTracker.from_events("payload", [*first, *second], domain.slots)
    payload = {
        "next_action": "action_check_status",
        "sender_id": "payload",
        "tracker": tracker.current_state(EventVerbosity.ALL),
        "domain": domain.as_dict(),
        "figures": ["1,234.56 元", "/ and \\ and \u2028", 0.1 + 0.2, 10**18],
    }
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
    try:
        assert await endpoint.request(json=payload, method="post") == {"events": [], "responses": []}
        assert received[-1] == json.loads(json.dumps(payload))
        await endpoint.request(json={"odd": math.inf}, method="post")  # ujson refuses: json.dumps sends it
        assert received[-1] == {"odd": math.inf}
    finally:
        await runner.cleanup()
