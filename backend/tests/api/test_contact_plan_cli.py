"""`ledger contact-plan` on the seeded demo portfolio at a fixed clock (SQLite and PostgreSQL):
who would be contacted, who is held back and why; it sends and writes nothing. The contact
history's writes are idempotent. Bad cadence files and clocks are refused naming the key."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

import ledger
from huanxin_testkit.ledger_cli import ledger_in_process, ledger_process
from ledger.cadence_file import DEFAULT_CADENCE_FILE, load_cadence
from ledger.db import contact_queries as q
from ledger.db import models as m
from ledger.db.session import create_engine, create_session_factory
from ledger.domain.errors import PolicyError
from ledger.policy_file import load_policy
from ledger.services.contact_plan import build_plan, record_plan
from ledger.services.seeding import seed_demo
from ledger.settings import Settings
from ledger.web.app import init_app

from .conftest import SALT, clean

DEFAULT_CADENCE = (Path(ledger.__file__).parent / DEFAULT_CADENCE_FILE).read_text(encoding="utf-8")
SEEDED = date(2026, 12, 1)
AT = "2026-12-01T09:30+08:00"


def _env(url: str, env: dict[str, str]) -> dict[str, str]:
    full = {**os.environ, "ID_HASH_SALT": SALT, "DATABASE_URL": url, **env}
    full.pop("LEDGER_CADENCE_FILE", None) if "LEDGER_CADENCE_FILE" not in env else None
    return full


def run(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`ledger contact-plan ARGS`: main() in this process."""
    return ledger_in_process(["contact-plan", *args], _env(url, env))


def run_process(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`ledger contact-plan ARGS` as a real child process (this file runs one)."""
    return ledger_process(["contact-plan", *args], _env(url, env))


async def seeded(url: str) -> dict[str, str]:
    """The demo portfolio as of SEEDED; D4 opted out of SMS, D2 of SMS and web; D3 had a
    reminder delivered at 08:05 today."""
    await clean(url)
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        ids = await seed_demo(sessions, salt=SALT, today=SEEDED)
        now = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
        async with sessions() as s, s.begin():
            for key, channels in (("D4", ["sms"]), ("D2", ["sms", "web"])):
                await s.execute(
                    update(m.ContactPreference)
                    .where(m.ContactPreference.borrower_id == ids[key])
                    .values(opted_out_channels=channels)
                )
            d3_loan = (await s.execute(select(m.Loan.id).where(m.Loan.borrower_id == ids["D3"]))).scalar_one()
            await q.record_planned(
                s,
                [
                    dict(
                        idempotency_key="HX0000000003/dpd_milestone/2026-12-01/earlier",
                        borrower_id=ids["D3"],
                        loan_id=d3_loan,
                        reason="dpd_milestone",
                        channel="sms",
                        template="dpd_milestone",
                        language="zh",
                        subject={},
                        status="planned",
                        send_after=now,
                        send_before=now + timedelta(hours=12),
                        attempts=0,
                        created_at=now,
                        updated_at=now,
                    )
                ],
            )
            assert await q.mark_delivered(s, "HX0000000003/dpd_milestone/2026-12-01/earlier", now)
    finally:
        await engine.dispose()
    return ids


async def history_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(m.ContactRecord))).scalar_one())
    finally:
        await engine.dispose()


async def test_the_plan_of_the_demo_portfolio_at_a_fixed_clock(database_url):
    ids = await seeded(database_url)
    # This file's one real `ledger` process (on SQLite); main() in this process on PostgreSQL.
    result = (run_process if database_url.startswith("sqlite") else run)(database_url, "--at", AT)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    contacts = {c["loan_number"]: c for c in plan["contacts"]}
    held = {}
    for h in plan["held"]:
        held.setdefault(h["loan_number"], []).append(h)
    # D7: open dispute, nothing planned, everything held by that rule
    assert "HX0000000007" not in contacts and {h["rule"] for h in held["HX0000000007"]} == {"dispute_open"}
    # D5: the before-due reminder (instalment 3, due in 10 days), by SMS, in the window of today
    d5 = contacts["HX0000000005"]
    assert (d5["reason"], d5["channel"], d5["language"]) == ("before_due", "sms", "zh")
    assert (d5["send_after"], d5["send_before"]) == ("2026-12-01T09:30:00+08:00", "2026-12-01T21:00:00+08:00")
    assert d5["subject"] == {"instalment": "3", "due_date": "2026-12-11"} and "回复 TD 退订" in d5["text"]
    # opted-out channels untouched: D4 by web instead of SMS, D2 not at all
    assert contacts["HX0000000004"]["channel"] == "web"
    assert contacts["HX0000000004"]["skipped_channels"] == [{"channel": "sms", "rule": "opted_out"}]
    assert "reply STOP" in contacts["HX0000000004"]["text"]  # D4 reads English
    assert "HX0000000002" not in contacts and [h["rule"] for h in held["HX0000000002"]] == ["opted_out"]
    # D3 already had today's reminder
    assert "HX0000000003" not in contacts and [h["rule"] for h in held["HX0000000003"]] == ["daily_cap"]
    # the others get their milestone or before-due reminder
    assert {n: c["reason"] for n, c in contacts.items() if n not in ("HX0000000004", "HX0000000005")} == {
        "HX0000000001": "dpd_milestone",
        "HX0000000006": "dpd_milestone",
        "HX0000000008": "dpd_milestone",
        "HX0000000009": "before_due",
    }
    for c in plan["contacts"]:
        assert c["borrower_id"] in ids.values() and datetime.fromisoformat(c["send_after"]).utcoffset() is not None
    # a dry run: nothing sent, nothing written (only the row seeded above)
    assert await history_rows(database_url) == 1


async def test_the_history_is_idempotent_and_feeds_the_next_plan(database_url):
    await seeded(database_url)
    policy = load_policy()
    cadence = load_cadence(None, policy)
    now = datetime.fromisoformat(AT)
    engine = create_engine(database_url)
    try:
        plan = await build_plan(engine, policy, cadence, now)
        async with engine.connect() as conn:
            loan_ids = {n: i for i, n in (await conn.execute(select(m.Loan.id, m.Loan.loan_number))).all()}
        assert await record_plan(engine, plan, loan_ids, now) == len(plan.contacts) == 6
        assert await record_plan(engine, plan, loan_ids, now) == 0  # planned twice: one row each
        d5 = next(c for c in plan.contacts if c.loan_number == "HX0000000005")
        async with create_session_factory(engine)() as s, s.begin():
            assert await q.mark_attempted(s, d5.idempotency_key, now)
            assert await q.mark_delivered(s, d5.idempotency_key, now + timedelta(seconds=2))
            assert not await q.mark_delivered(s, d5.idempotency_key, now + timedelta(seconds=3))  # once
            assert not await q.mark_failed(s, d5.idempotency_key, now, "late report")  # stays delivered
            [row] = await q.contacts_by_key(s, [d5.idempotency_key])
            assert (row.status, row.attempts) == ("delivered", 1)
        later = await build_plan(engine, policy, cadence, now + timedelta(hours=2))
        # D5's delivered reminder is not planned again; the pending ones are planned with the same keys
        assert "HX0000000005" not in {c.loan_number for c in later.contacts}
        assert {c.idempotency_key for c in later.contacts} == {c.idempotency_key for c in plan.contacts} - {
            d5.idempotency_key
        }
    finally:
        await engine.dispose()


async def test_bad_cadence_files_and_clocks_are_refused_naming_the_key(database_url, tmp_path):
    bad = tmp_path / "cadence.yaml"
    bad.write_text(DEFAULT_CADENCE.replace("channels: [sms, web]", "channels: [sms, pigeon]", 1), "utf-8")
    result = run(database_url, "--at", AT, "--cadence", str(bad))
    assert result.returncode == 2 and "reasons.before_due.channels[1]" in result.stderr and result.stdout == ""
    result = run(database_url, "--at", AT, LEDGER_CADENCE_FILE=str(bad))
    assert result.returncode == 2 and "reasons.before_due.channels[1]" in result.stderr
    for clock in ("2026-12-01T09:30", "tomorrow"):
        result = run(database_url, "--at", clock)
        assert result.returncode == 2 and "--at" in result.stderr, clock


def test_a_bad_cadence_file_stops_the_app_factory(tmp_path):
    bad = tmp_path / "cadence.yaml"
    bad.write_text(DEFAULT_CADENCE.replace("    hours: 24", "    hourz: 24", 1), "utf-8")
    with pytest.raises(PolicyError) as exc:
        init_app(Settings(api_token="t", id_hash_salt="s", cadence_file=bad))
    assert exc.value.key == "reasons.offer_expiring.hours"
    assert Settings.from_env({"LEDGER_CADENCE_FILE": str(bad)}).cadence_file == bad


async def test_skipping_loans_that_cannot_have_a_reminder_changes_nothing(database_url):
    """build_plan reads only the loans with an instalment due on a trigger date (or an
    arrangement, promise or offer): the plan is the same as reading every loan."""
    from ledger.services.seeding import generate_portfolio

    await seeded(database_url)
    policy = load_policy()
    cadence = load_cadence(None, policy)
    engine = create_engine(database_url)
    try:
        await generate_portfolio(engine, 400, salt=SALT, today=SEEDED, seed=7)
        for at in (AT, "2026-12-04T20:00+08:00", "2026-12-09T08:00+08:00"):
            now = datetime.fromisoformat(at)
            screened = await build_plan(engine, policy, cadence, now)
            full = await build_plan(engine, policy, cadence, now, screen=False)
            assert screened.contacts, at
            assert sorted(screened.contacts, key=lambda c: c.idempotency_key) == sorted(
                full.contacts, key=lambda c: c.idempotency_key
            )
            assert sorted(screened.held, key=lambda h: h.idempotency_key) == sorted(
                full.held, key=lambda h: h.idempotency_key
            )
    finally:
        await engine.dispose()


async def test_the_borrower_may_always_start_a_conversation(client, demo, settings):
    """Cease-contact and every channel opted out: the planner holds D5's reminder, and D5 can
    still verify and read the loan's status in a conversation they start."""
    from ledger.web.keys import LEDGER

    from .helpers import as_borrower, loan_number

    ledger_ = client.app[LEDGER]
    async with ledger_.sessions() as s, s.begin():
        await s.execute(
            update(m.ContactPreference)
            .where(m.ContactPreference.borrower_id == demo["D5"])
            .values(stop_all=True, opted_out_channels=["sms", "phone", "wechat", "email", "app", "web"])
        )
    policy = load_policy()
    engine = create_engine(settings.database_url)
    try:
        now = datetime.combine(ledger_.today(), datetime.min.time(), tzinfo=ZoneInfo("Asia/Shanghai")).replace(hour=10)
        plan = await build_plan(engine, policy, load_cadence(None, policy), now)
    finally:
        await engine.dispose()
    assert "HX0000000005" not in {c.loan_number for c in plan.contacts}
    assert [h.rule for h in plan.held if h.loan_number == "HX0000000005"] == ["cease_contact"]
    headers = await as_borrower(client, "D5")
    resp = await client.get(f"/api/v1/loans/{loan_number('D5')}/status", headers=headers)
    assert resp.status == 200 and (await resp.json())["loan_number"] == "HX0000000005"
