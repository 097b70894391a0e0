"""The desk's account panel, derived in-process by the ledger's own code from the demo portfolio."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gateway.ledger_bridge import LedgerAccounts
from huanxin_testkit.gw_helpers import record_verification
from ledger.db import models as m
from ledger.db.session import create_engine, create_session_factory
from ledger.desk_door import DeskDoor
from ledger.domain.demo import DEMO_LOANS, demo_contract
from ledger.domain.schedule import add_months
from ledger.policy_file import load_policy
from ledger.services.seeding import seed_demo

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def test_account_panel_shows_the_verified_borrowers_status(database_url):
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    ids = await seed_demo(sessions, salt="test-salt", today=today)
    await record_verification(sessions, ids["D1"], "conv-d1")
    await record_verification(sessions, ids["D7"], "conv-d7")
    reader = LedgerAccounts(sessions, DeskDoor(sessions, policy=load_policy()))

    d1 = await reader.account("conv-d1")
    assert d1["borrower_name"] == "王芳" and d1["bucket"] == "M1"
    (loan,) = d1["loans"]
    assert loan["loan_number"] == "HX0000000001"
    assert loan["days_past_due"] == 15 and loan["bucket"] == "M1"
    assert set(loan["overdue"]) == {"principal", "interest", "penalty_interest", "late_fees", "total"}
    assert d1["contact_preferences"] == {"stop_all": False, "opted_out_channels": []}
    assert loan["payment_traces"] == []  # a payment the borrower says was made shows here once traced

    d7 = await reader.account("conv-d7")
    assert d7["loans"][0]["open_dispute"] is not None
    assert [d["status"] for d in d7["loans"][0]["disputes"]] == ["open"]

    assert await reader.account("conv-unverified") is None
    await engine.dispose()


async def test_account_panel_follows_a_renewed_rasa_sender(database_url):
    """After an idle gap a WeChat conversation talks to Rasa as a new sender; the ledger links the
    new verification to that sender id, and the desk still finds the borrower."""
    from gateway.db import Conversation

    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    ids = await seed_demo(sessions, salt="test-salt", today=today)
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        s.add(
            Conversation(
                id="conv-wx",
                channel="wechat",
                external_user_id="openid-1",
                rasa_sender_id="sender-2",
                language="zh",
                state="bot",
                last_seq=0,
                created_at=now,
                updated_at=now,
            )
        )
    await record_verification(sessions, ids["D2"], "sender-2")
    reader = LedgerAccounts(sessions, DeskDoor(sessions, policy=load_policy()))
    assert (await reader.account("conv-wx"))["borrower_name"] == "李强"
    await engine.dispose()


async def test_the_door_takes_the_ledgers_names_of_a_conversation_in_order(database_url):
    """The door knows nothing of the gateway: it is given the names the ledger may know a conversation
    by, the current Rasa sender first, and the first one the ledger linked to a borrower wins."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    ids = await seed_demo(sessions, salt="test-salt", today=today)
    await record_verification(sessions, ids["D1"], "sender-old")
    await record_verification(sessions, ids["D2"], "sender-new")
    door = DeskDoor(sessions, policy=load_policy())
    assert (await door.queue_summary(["sender-new", "sender-old"]))["borrower_name"] == "李强"
    assert (await door.queue_summary(["sender-unlinked", "sender-old"]))["borrower_name"] == "王芳"
    assert await door.account_panel([]) is None
    await engine.dispose()


# ---- the panel as the desk's tables show it (issue 13) ------------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
ID_KEYS = {"id", "replaces", "borrower_id", "arrangement_id", "offer_id", "evaluation_id", "trace_id", "promise_id"}


def walk(value, path=""):
    """Every (path, key, value) of a nested panel."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path, k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from walk(v, f"{path}[{n}]")


def assert_no_ids(panel, *known_ids):
    for path, key, value in walk(panel):
        assert not key.endswith("_id") and key not in ID_KEYS, f"{path}.{key}"
        if isinstance(value, str):
            assert not UUID.search(value), f"{path}.{key} = {value}"
            assert value not in known_ids, f"{path}.{key}"


def timestamps(panel):
    return [(f"{p}.{k}", v) for p, k, v in walk(panel) if k.endswith("_at") and v is not None]


async def _seeded(database_url):
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    ids = await seed_demo(sessions, salt="test-salt", today=TODAY)
    return engine, sessions, ids


async def test_the_panel_has_each_loans_schedule_with_due_paid_and_outstanding(database_url):
    engine, sessions, ids = await _seeded(database_url)
    await record_verification(sessions, ids["D1"], "conv-d1")
    panel = await DeskDoor(sessions, policy=load_policy()).account_panel(["conv-d1"])
    contract = demo_contract(DEMO_LOANS["D1"], TODAY)  # 12 instalments, 3 paid on their due dates
    (loan,) = panel["loans"]
    assert (loan["loan_number"], loan["product"], loan["currency"]) == ("HX0000000001", "fenfu", "CNY")
    rows = loan["schedule"]
    assert [r["number"] for r in rows] == list(range(1, 13))
    assert [r["due_date"] for r in rows] == [s.due_date.isoformat() for s in contract.schedule]  # dates stay dates
    assert [r["amount_due"] for r in rows] == [f"{s.amount:.2f}" for s in contract.schedule]
    for r in rows[:3]:
        assert (r["state"], r["paid"], r["outstanding"], r["days_past_due"]) == ("paid", r["amount_due"], "0.00", 0)
    fourth = rows[3]
    assert (fourth["state"], fourth["paid"], fourth["days_past_due"]) == ("overdue", "0.00", 15)
    charges = Decimal(fourth["penalty_interest"]) + Decimal(fourth["late_fee"])
    assert charges > 0 and Decimal(fourth["outstanding"]) == Decimal(fourth["amount_due"]) + charges
    assert loan["overdue"]["total"] == fourth["outstanding"] == loan["amount_to_bring_current"]
    for r in rows[4:]:
        assert (r["paid"], r["outstanding"]) == ("0.00", r["amount_due"]) and r["state"] in ("due", "upcoming")
        assert "penalty_interest" not in r and "late_fee" not in r  # charges only where there are some
    # the payments, as the ledger has them
    assert [(p["received_on"], p["amount"], p["channel"]) for p in loan["payments"]] == [
        (s.due_date.isoformat(), f"{s.amount:.2f}", "bank_transfer") for s in reversed(contract.schedule[:3])
    ]  # newest first
    assert loan["arrangements"] == [] and loan["promises"] == [] and loan["disputes"] == []
    await engine.dispose()


async def test_the_two_loan_borrower_gets_both_schedules_and_payments(database_url):
    engine, sessions, ids = await _seeded(database_url)
    await record_verification(sessions, ids["D8"], "conv-d8")
    door = DeskDoor(sessions, policy=load_policy())
    promise = await door.record_promise(["conv-d8"], "li.na", "HX0000000008", Decimal("300.00"), TODAY)
    assert promise is not None
    panel = await door.account_panel(["conv-d8"])
    assert panel["borrower_name"] == "赵敏"
    a, b = panel["loans"]
    assert (a["loan_number"], len(a["schedule"]), len(a["payments"])) == ("HX0000000008", 6, 2)
    assert (b["loan_number"], len(b["schedule"]), len(b["payments"])) == ("HX0000000009", 12, 5)
    assert a["days_past_due"] == 10 and b["days_past_due"] == 0
    assert [r["state"] for r in a["schedule"][:3]] == ["paid", "paid", "overdue"]
    assert sum(Decimal(p["amount"]) for p in b["payments"]) == sum(Decimal(r["paid"]) for r in b["schedule"])
    (p,) = a["promises"]
    assert (p["amount"], p["promised_date"], p["made_on"], p["state"], p["paid_toward"]) == (
        "300.00",
        TODAY.isoformat(),
        TODAY.isoformat(),
        "open",
        "0.00",
    )
    assert b["promises"] == []
    assert_no_ids(panel, ids["D8"])
    await engine.dispose()


async def test_every_arrangement_shows_with_its_state_and_schedule_summary(database_url):
    engine, sessions, ids = await _seeded(database_url)
    await record_verification(sessions, ids["D6"], "conv-d6")
    panel = await DeskDoor(sessions, policy=load_policy()).account_panel(["conv-d6"])
    (loan,) = panel["loans"]
    (plan,) = loan["arrangements"]  # D6's deferral, broken and void: shown all the same
    assert (plan["plan_type"], plan["state"], plan["accepted_on"]) == (
        "deferral",
        "broken",
        add_months(TODAY, -4).isoformat(),
    )
    assert plan["replaces_instalments"] == "3-12" and plan["waived_total"] == "0.00"
    summary = plan["schedule"]
    assert summary["instalments"] == 9 and summary["first_due"] < summary["last_due"]
    assert Decimal(plan["total_to_repay"]) > 0 and loan["active_arrangement"] is None
    assert loan["days_past_due"] == 35 and all(not r["plan"] for r in loan["schedule"])
    await engine.dispose()


async def test_no_ids_and_timestamps_in_the_borrowers_time_zone(database_url):
    """An accepted plan (with its offer and evaluation), a hardship case, offers, a promise: no
    internal id crosses, and every timestamp carries the borrower's own UTC offset."""
    engine, sessions, ids = await _seeded(database_url)
    async with sessions() as s, s.begin():
        borrower = await s.get(m.Borrower, ids["D1"])
        borrower.timezone = "America/Sao_Paulo"  # UTC-03:00, no daylight saving since 2019
        loan = (await s.execute(select(m.Loan).where(m.Loan.loan_number == "HX0000000001"))).scalar_one()
        s.add(
            m.HardshipCase(
                loan_id=loan.id,
                borrower_id=ids["D1"],
                reason="job_loss",
                duration="temporary",
                monthly_income=Decimal("8000.00"),
                essential_expenses=Decimal("3000.00"),
                other_debt_payments=Decimal("500.00"),
                created_at=datetime.now(UTC),
            )
        )
    await record_verification(sessions, ids["D1"], "conv-d1")
    door = DeskDoor(sessions, policy=load_policy())
    evaluated = await door.evaluate_plans(["conv-d1"], "li.na", "HX0000000001")
    offered = [p["plan_type"] for p in evaluated["plans"] if p["offer"]]
    assert offered, evaluated
    before = await door.account_panel(["conv-d1"])
    assert before["timezone"] == "America/Sao_Paulo"
    assert {o["plan_type"] for o in before["loans"][0]["offers"]} == set(offered)
    card = await door.plan_offer(["conv-d1"], "HX0000000001", offered[0])
    await door.accept_plan(["conv-d1"], card["offer_id"])

    panel = await door.account_panel(["conv-d1"])
    assert_no_ids(panel, ids["D1"], card["offer_id"])
    assert_no_ids(before, ids["D1"], card["offer_id"])
    (loan,) = panel["loans"]
    (plan,) = loan["arrangements"]
    assert (plan["plan_type"], plan["state"], plan["accepted_on"]) == (offered[0], "active", TODAY.isoformat())
    assert loan["active_arrangement"]["plan_type"] == offered[0]
    assert any(r["plan"] for r in loan["schedule"])  # the plan's own instalments are in the schedule
    stamps = timestamps(panel) + timestamps(before)
    kinds = {path.rsplit(".", 1)[1] for path, _ in stamps}
    assert {"accepted_at", "recorded_at", "created_at", "expires_at"} <= kinds, kinds
    for path, value in stamps:
        assert datetime.fromisoformat(value).utcoffset() == timedelta(hours=-3), (path, value)
    # a borrower without a usable time zone of their own: the ledger's
    for unusable in ("", "Mars/Olympus_Mons"):
        async with sessions() as s, s.begin():
            (await s.get(m.Borrower, ids["D1"])).timezone = unusable
        fallback = await door.account_panel(["conv-d1"])
        assert fallback["timezone"] == "Asia/Shanghai"
        for path, value in timestamps(fallback):
            assert datetime.fromisoformat(value).utcoffset() == timedelta(hours=8), (path, value)
    await engine.dispose()
