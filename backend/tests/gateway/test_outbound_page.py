"""/insights/outbound: the supervisors' view of outbound reminders, behind the desk login for
supervisors and analysts. Today's plan counted by reason, channel and hold rule; the reminders
sent, delivered, answered (a chat opened from the link) and what followed within 7 days; a dry
run of an uploaded cadence file (a bad one is refused with start-up's message, nothing runs)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

import ledger
from huanxin_testkit.gw_fakes import FIXED_NOW
from huanxin_testkit.gw_helpers import desk_for
from ledger.cadence_file import load_cadence
from ledger.db import models as m
from ledger.db.session import create_engine, create_session_factory
from ledger.domain.reminder_refs import reminder_ref
from ledger.policy_file import load_policy
from ledger.services.channels import FileSink
from ledger.services.outbound import dispatch
from ledger.services.seeding import seed_demo

CADENCE_TEXT = (Path(ledger.__file__).parent / "default_cadence.yaml").read_text(encoding="utf-8")
SEEDED = date(2026, 11, 25)  # the gateway tests' clock: 2026-11-25 10:00 in Shanghai
PLAN = {"dpd_milestone": 6, "before_due": 2}  # the default cadence on the seeding day (docs/outbound.md)


@pytest.fixture
async def portfolio(database_url):
    engine = create_engine(database_url)
    ids = await seed_demo(create_session_factory(engine), salt="s", today=SEEDED)
    yield engine, ids
    await engine.dispose()


async def test_an_analyst_sees_todays_plan_and_what_followed(gateway_client, portfolio, tmp_path):
    engine, ids = portfolio
    policy = load_policy()
    await dispatch(
        engine, policy, load_cadence(None, policy), FIXED_NOW,
        {ch: FileSink(tmp_path / f"{ch}.jsonl") for ch in ("sms", "phone", "web")},
    )  # fmt: skip
    sessions = create_session_factory(engine)
    async with sessions() as s, s.begin():
        d5_loan = (await s.execute(select(m.Loan).where(m.Loan.borrower_id == ids["D5"]))).scalars().one()
        d5 = (await s.execute(select(m.ContactRecord).where(m.ContactRecord.loan_id == d5_loan.id))).scalars().one()
        s.add(
            m.Payment(
                loan_id=d5_loan.id, external_ref="pay-d5", amount=Decimal("100.00"), received_on=SEEDED,
                channel="app", created_at=FIXED_NOW,
            )
        )  # fmt: skip
        delivered = (
            await s.execute(
                select(func.count()).select_from(m.ContactRecord).where(m.ContactRecord.status == "delivered")
            )
        ).scalar_one()
    assert delivered == 8
    chat = await gateway_client.post("/api/chat/conversations", json={"reminder_ref": reminder_ref(d5.id)})
    assert chat.status == 201

    analyst = await desk_for(gateway_client, "ana", role="analyst")
    page = await analyst.client.get("/insights/outbound")
    assert page.status == 200 and "outbound.js" in await page.text()
    data = await (await analyst.client.get("/insights/api/outbound")).json()
    assert datetime.fromisoformat(data["at"]) == FIXED_NOW
    # planned again at the same clock: today's reminders are out already
    assert data["plan"]["contacts"] == 0
    total = data["outcomes"]["total"]
    assert (total["sent"], total["delivered"], total["answered"]) == (8, 8, 1)
    assert (total["followed_by_payment"], total["followed_by_promise"], total["followed_by_any"]) == (1, 0, 1)
    assert data["outcomes"]["by_reason"]["before_due"]["answered"] == 1


async def test_a_dry_run_plans_the_candidate_beside_the_live_cadence(gateway_client, portfolio):
    supervisor = await desk_for(gateway_client, "sue", role="supervisor")
    live = await (await supervisor.client.get("/insights/api/outbound")).json()
    assert live["plan"]["by_reason"] == PLAN and live["plan"]["held_by_rule"]["dispute_open"] >= 1
    candidate = CADENCE_TEXT.replace("  before_due:\n", "  before_due:\n    enabled: false\n", 1)
    assert candidate != CADENCE_TEXT
    r = await supervisor.post("/insights/api/outbound/dry-run", {"cadence": candidate})
    assert r.status == 200, await r.text()
    result = await r.json()
    assert result["live"]["by_reason"] == PLAN and result["candidate"]["by_reason"] == {"dpd_milestone": 6}
    async with create_session_factory(portfolio[0])() as s:  # nothing recorded
        assert (await s.execute(select(func.count()).select_from(m.ContactRecord))).scalar_one() == 0


@pytest.mark.parametrize(
    "text, key",
    [
        (CADENCE_TEXT.replace("channels: [sms, web]", "channels: [sms, pigeon]", 1), "channels[1]"),
        (CADENCE_TEXT.replace("stop_confirmation:", "stop_confirmations:"), "stop_confirmation"),
        ("reasons: [", "not valid YAML"),
    ],
)
async def test_a_bad_cadence_file_is_refused_naming_the_key(gateway_client, portfolio, text, key):
    supervisor = await desk_for(gateway_client, "sue", role="supervisor")
    r = await supervisor.post("/insights/api/outbound/dry-run", {"cadence": text})
    assert r.status == 400
    body = await r.json()
    assert body["code"] == "invalid_cadence" and key in body["detail"], body


async def test_agents_are_refused(gateway_client, portfolio):
    agent = await desk_for(gateway_client, "li.na")
    assert (await agent.client.get("/insights/outbound")).status == 403
    assert (await agent.client.get("/insights/api/outbound")).status == 403
    assert (await agent.post("/insights/api/outbound/dry-run", {"cadence": CADENCE_TEXT})).status == 403
