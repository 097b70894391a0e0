"""The tracker store keeps the conversation but none of the identity answers."""

import json
import sqlite3
from collections.abc import Iterable

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons.tracker_store import MASK, RedactingSQLTrackerStore, mask_identity_numbers
from harness import domain_path

SECRETS = ("13800000001", "1990-03-15", "1990年3月15日", "4321", "tok-secret-1")


def user(text, intent="inform"):
    return UserUttered(
        text,
        {"name": intent, "confidence": 0.9},
        parse_data={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
    )


def searchable(bodies: Iterable[str]) -> str:
    """Streamed events as one text to search for identity answers, without the random
    ``huanxin_event_id`` each carries (32 hex digits can hold "4321" by chance)."""
    return "\n".join(
        json.dumps({k: v for k, v in json.loads(b).items() if k != "huanxin_event_id"}, ensure_ascii=False)
        for b in bodies
    )


def verification_turns():
    """The events of a verification, with fixed timestamps (a clock's digits can hold a secret)."""
    first, second = _verification_turns()
    for n, event in enumerate(first + second):
        event.timestamp = 1_700_000_000.0 + n
    return first, second


def _verification_turns():
    return [
        ActionExecuted("action_listen"),
        user("我欠多少钱", "ask_overdue_status"),
        ActionExecuted("action_show_overdue_status"),
        SlotSet("pending_intent", "ask_overdue_status"),
        ActionExecuted("verification_form"),
        ActiveLoop("verification_form"),
        SlotSet("requested_slot", "identity_phone"),
        ActionExecuted("action_listen"),
        user("13800000001"),
        SlotSet("identity_phone", "13800000001"),  # what action_extract_slots writes (from_text)
        ActionExecuted("verification_form"),
        SlotSet("identity_phone", MASK),
        SlotSet("requested_slot", "identity_dob"),
        ActionExecuted("action_listen"),
    ], [
        user("1990年3月15日"),
        SlotSet("identity_dob", "1990年3月15日"),
        ActionExecuted("verification_form"),
        SlotSet("identity_dob", MASK),
        SlotSet("requested_slot", "identity_id_last4"),
        ActionExecuted("action_listen"),
        user("4321"),
        SlotSet("identity_id_last4", "4321"),
        ActionExecuted("verification_form"),
        SlotSet("identity_id_last4", MASK),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        ActionExecuted("action_submit_verification"),
        SlotSet("verification_token", "tok-secret-1"),
        SlotSet("verified", True),
        BotUttered("谢谢王芳，身份已核实。"),
        ActionExecuted("action_listen"),
        user("我的手机号 13800000001 换了，账单发哪里", "ask_overdue_status"),
    ]


async def test_stored_conversation_holds_no_identity_answers(tmp_path):
    db = tmp_path / "tracker.db"
    domain = Domain.load(str(domain_path()))
    store = RedactingSQLTrackerStore(domain=domain, db=str(db))
    first, second = verification_turns()
    tracker = DialogueStateTracker.from_events("conv-r", first, slots=domain.slots)
    await store.save(tracker)  # saved mid-form, as Rasa does after each message
    tracker.update_with_events(second, domain)
    await store.save(tracker)

    rows = sqlite3.connect(db).execute("select data from events").fetchall()
    stored = "\n".join(row[0] for row in rows)
    assert len(rows) == len(tracker.events)
    for secret in SECRETS:
        assert secret not in stored, secret

    restored = await store.retrieve("conv-r")
    user_events = [e for e in restored.events if isinstance(e, UserUttered)]
    assert [e.intent_name for e in user_events] == [
        "ask_overdue_status",
        "inform",
        "inform",
        "inform",
        "ask_overdue_status",
    ]
    assert [e.text for e in user_events[1:4]] == [MASK, MASK, MASK]
    assert user_events[0].text == "我欠多少钱"
    assert user_events[-1].text == f"我的手机号 {MASK} 换了，账单发哪里"
    assert restored.get_slot("verified") is True
    assert restored.get_slot("identity_id_last4") == MASK
    assert restored.get_slot("pending_intent") == "ask_overdue_status"


async def test_live_tracker_is_not_changed_by_saving(tmp_path):
    domain = Domain.load(str(domain_path()))
    store = RedactingSQLTrackerStore(domain=domain, db=str(tmp_path / "t.db"))
    first, _ = verification_turns()
    tracker = DialogueStateTracker.from_events("conv-live", first, slots=domain.slots)
    await store.save(tracker)
    assert any(isinstance(e, UserUttered) and e.text == "13800000001" for e in tracker.events)


def test_identity_numbers_are_masked_in_free_text():
    assert mask_identity_numbers("call 138 0000 0001 please") == f"call {MASK} please"
    assert mask_identity_numbers("身份证 11010519900315432X") == f"身份证 {MASK}"
    assert mask_identity_numbers("我下周五还500") == "我下周五还500"
    assert mask_identity_numbers("生日 1990-03-15") == f"生日 {MASK}"
    assert mask_identity_numbers("1990年3月15日出生") == f"{MASK}出生"
    assert mask_identity_numbers("我 2026-12-01 还") == "我 2026-12-01 还"


def test_lock_store_is_in_memory_unless_redis_is_configured():
    from rasa.core.lock_store import InMemoryLockStore, RedisLockStore

    from addons.lock_store import lock_store_from_env

    assert isinstance(lock_store_from_env({}), InMemoryLockStore)
    redis_store = lock_store_from_env({"RASA_LOCK_STORE_URL": "redis://127.0.0.1:6379/3"})
    assert isinstance(redis_store, RedisLockStore)
