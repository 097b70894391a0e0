"""The desk's account panel, derived in-process by the ledger's own code from the demo portfolio."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from gateway.ledger_bridge import LedgerAccounts
from huanxin_testkit.gw_helpers import record_verification
from ledger.db.session import create_engine, create_session_factory
from ledger.desk_door import DeskDoor
from ledger.policy_file import load_policy
from ledger.services.seeding import seed_demo


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
