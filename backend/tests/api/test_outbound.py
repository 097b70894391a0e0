"""The dispatcher on the seeded demo portfolio at a fixed clock (SQLite and PostgreSQL), with
the file sinks: who gets what (D7 nothing: dispute; D5 a before-due reminder; opted-out
channels untouched), each contact delivered once however often it runs or wherever a worker
stops, the rules re-checked at send time, failed sends retried with backoff, every attempt and
result in the contact history and the audit log."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from huanxin_testkit.ledger_cli import ledger_in_process, ledger_process
from ledger.cadence_file import load_cadence
from ledger.db import contact_queries as q
from ledger.db import models as m
from ledger.db.session import create_engine, create_session_factory
from ledger.policy_file import load_policy
from ledger.services.channels import FileSink, OutboundMessage, SendResult
from ledger.services.contact_plan import build_plan, record_plan
from ledger.services.outbound import dispatch

from .conftest import SALT
from .test_contact_plan_cli import AT, seeded

NOW = datetime.fromisoformat(AT)
POLICY = load_policy()
CADENCE = load_cadence(None, POLICY)
EXPECTED = {  # loan -> (reason, channel) of the default cadence on the seeding day (docs/outbound.md)
    "HX0000000001": ("dpd_milestone", "sms"),
    "HX0000000004": ("dpd_milestone", "web"),  # D4 opted out of SMS
    "HX0000000005": ("before_due", "sms"),
    "HX0000000006": ("dpd_milestone", "sms"),
    "HX0000000008": ("dpd_milestone", "sms"),
    "HX0000000009": ("before_due", "sms"),
}


def sinks(where: Path) -> dict[str, FileSink]:
    return {ch: FileSink(where / f"{ch}.jsonl") for ch in ("sms", "phone", "web")}


def lines(where: Path) -> list[dict]:
    out: list[dict] = []
    for ch in ("sms", "phone", "web"):
        f = where / f"{ch}.jsonl"
        if f.exists():
            out.extend(json.loads(line) for line in f.read_text("utf-8").splitlines())
    return out


def sent(where: Path) -> dict[str, tuple[str, str]]:
    got: dict[str, tuple[str, str]] = {}
    for line in lines(where):
        loan = line["idempotency_key"].split("/")[0]
        assert loan not in got, f"{loan} got two messages"
        got[loan] = (line["reason"], line["channel"])
    return got


async def history(url: str) -> dict[str, tuple[str, int, str | None]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(
                    m.ContactRecord.idempotency_key,
                    m.ContactRecord.status,
                    m.ContactRecord.attempts,
                    m.ContactRecord.failure,
                )
            )
            return {k: (s, a, f) for k, s, a, f in rows}
    finally:
        await engine.dispose()


async def audit_mark(url: str) -> int:
    """The last audit entry's id (the audit log is never emptied between tests)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.max(m.AuditEntry.id)))).scalar_one() or 0)
    finally:
        await engine.dispose()


async def audit_actions(url: str, after_id: int) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(m.AuditEntry.action, m.AuditEntry.detail)
                .where(m.AuditEntry.actor == "outbound", m.AuditEntry.id > after_id)
                .order_by(m.AuditEntry.id)
            )
            return [(a, d["idempotency_key"]) for a, d in rows]
    finally:
        await engine.dispose()


async def run_dispatch(url: str, now: datetime, adapters, **kw):
    engine = create_engine(url)
    try:
        return await dispatch(engine, POLICY, CADENCE, now, adapters, **kw)
    finally:
        await engine.dispose()


async def test_the_demo_portfolio_gets_exactly_its_reminders_once(database_url, tmp_path):
    ids = await seeded(database_url)
    mark = await audit_mark(database_url)
    report = await run_dispatch(database_url, NOW, sinks(tmp_path))
    assert (report.planned, report.delivered, report.failed) == (6, 6, 0)
    got = sent(tmp_path)
    assert got == EXPECTED
    assert "HX0000000007" not in got  # D7: open dispute
    assert "HX0000000002" not in got  # D2 opted out of SMS and web
    assert "HX0000000003" not in got  # D3 had today's reminder already
    d5 = next(line for line in lines(tmp_path) if line["idempotency_key"].startswith("HX0000000005/"))
    assert d5["to"] == f"borrower:{ids['D5']}" and "回复 TD 退订" in d5["text"] and d5["channel"] == "sms"
    # the sink names borrowers by id: no phone number of the demo borrowers appears
    engine = create_engine(database_url)
    async with engine.connect() as conn:
        phones = list((await conn.execute(select(m.Borrower.phone))).scalars())
    await engine.dispose()
    raw = "".join((tmp_path / f).read_text("utf-8") for f in ("sms.jsonl", "web.jsonl"))
    assert phones and not any(p in raw for p in phones)
    rows = await history(database_url)
    assert {k: (s, a) for k, (s, a, _) in rows.items() if not k.endswith("/earlier")} == {
        line["idempotency_key"]: ("delivered", 1) for line in lines(tmp_path)
    }
    actions = await audit_actions(database_url, mark)
    for line in lines(tmp_path):
        assert [a for a, k in actions if k == line["idempotency_key"]] == ["contact_attempted", "contact_delivered"]
    # a second run at the same clock (and one a minute later) sends nothing more
    again = await run_dispatch(database_url, NOW, sinks(tmp_path))
    later = await run_dispatch(database_url, NOW + timedelta(minutes=1), sinks(tmp_path))
    assert (again.planned, again.delivered, later.planned, later.delivered) == (0, 0, 0, 0)
    assert sent(tmp_path) == EXPECTED


class StoppingSink(FileSink):
    """Writes the first ``k`` messages of a batch, then the worker dies (not an adapter error)."""

    def __init__(self, path: Path, k: int):
        super().__init__(path)
        self.k = k

    async def send(self, messages: Sequence[OutboundMessage], at: datetime) -> list[SendResult]:
        await super().send(messages[: self.k], at)
        raise SystemExit("worker killed")


async def test_a_worker_killed_mid_batch_then_rerun_loses_nothing_and_duplicates_nothing(database_url, tmp_path):
    await seeded(database_url)
    adapters = {**sinks(tmp_path), "sms": StoppingSink(tmp_path / "sms.jsonl", 2)}
    try:
        await run_dispatch(database_url, NOW, adapters)
        raise AssertionError("the worker should have died")
    except SystemExit:
        pass
    assert len([line for line in lines(tmp_path) if line["channel"] == "sms"]) == 2
    assert {s for s, _, _ in (await history(database_url)).values()} >= {"attempted"}
    report = await run_dispatch(database_url, NOW + timedelta(seconds=30), sinks(tmp_path))
    assert sent(tmp_path) == EXPECTED  # each once: no loss, no duplicate
    assert report.duplicates == 2 and report.failed == 0
    assert {s for s, _, _ in (await history(database_url)).values()} == {"delivered"}


async def test_the_rules_are_checked_again_at_send_time(database_url, tmp_path):
    """Planned and recorded at 09:30; before the send, D5's loan gets a dispute, D1 opts out of
    SMS, D8's cash loan gets a reminder delivered by another route, and D6 asks to stop all
    contact: none of them is sent, each is held with its rule; the others go out."""
    ids = await seeded(database_url)
    mark = await audit_mark(database_url)
    engine = create_engine(database_url)
    try:
        plan = await build_plan(engine, POLICY, CADENCE, NOW)
        async with engine.connect() as conn:
            loan_ids = await q.loan_ids_by_number(conn, [c.loan_number for c in plan.contacts])
        assert await record_plan(engine, plan, loan_ids, NOW) == 6
        async with create_session_factory(engine)() as s, s.begin():
            s.add(
                m.Dispute(
                    case_number="DSP-T-1",
                    loan_id=loan_ids["HX0000000005"],
                    borrower_id=ids["D5"],
                    reason="amount",
                    opened_on=date(2026, 12, 1),
                    reply_due_by=date(2026, 12, 15),
                    status="open",
                    created_at=NOW,
                )
            )
            for key, change in (("D1", {"opted_out_channels": ["sms"]}), ("D6", {"stop_all": True})):
                pref = await s.get(m.ContactPreference, ids[key])
                for attr, value in change.items():
                    setattr(pref, attr, value)
            other = "HX0000000009/manual/2026-12-01/x"
            d8 = next(c for c in plan.contacts if c.loan_number == "HX0000000009")
            await q.record_planned(
                s,
                [
                    dict(
                        idempotency_key=other,
                        borrower_id=d8.borrower_id,
                        loan_id=loan_ids["HX0000000009"],
                        reason="due_today",
                        channel="sms",
                        template="due_today",
                        language="zh",
                        subject={},
                        status="planned",
                        send_after=NOW - timedelta(hours=1),
                        send_before=NOW + timedelta(hours=1),
                        attempts=0,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                ],
            )
            await q.mark_delivered(s, other, NOW)
    finally:
        await engine.dispose()
    report = await run_dispatch(database_url, NOW + timedelta(minutes=1), sinks(tmp_path), plan_first=False)
    assert report.held == {"cease_contact": 1, "daily_cap": 1, "dispute_open": 1, "opted_out": 1}
    assert sent(tmp_path) == {k: v for k, v in EXPECTED.items() if k in ("HX0000000004", "HX0000000008")}
    rows = await history(database_url)
    assert rows["HX0000000005/before_due/2026-12-01/i3"] == ("failed", 0, "held: dispute_open")
    # held contacts count against nothing, and are not recorded again while the rule holds
    again = await run_dispatch(database_url, NOW + timedelta(minutes=2), sinks(tmp_path), plan_first=False)
    assert again.delivered == 0 and sum(again.held.values()) == 4
    held_entries = [a for a, k in await audit_actions(database_url, mark) if a == "contact_held"]
    assert len(held_entries) == 4


class FlakySink(FileSink):
    """Fails every message while ``down`` is set."""

    down = True

    async def send(self, messages: Sequence[OutboundMessage], at: datetime) -> list[SendResult]:
        if self.down:
            return [SendResult(msg.idempotency_key, False, "503 from provider") for msg in messages]
        return await super().send(messages, at)


async def test_a_failed_send_is_retried_with_backoff_and_counted_only_when_delivered(database_url, tmp_path):
    await seeded(database_url)
    mark = await audit_mark(database_url)
    flaky = FlakySink(tmp_path / "sms.jsonl")
    adapters = {**sinks(tmp_path), "sms": flaky}
    first = await run_dispatch(database_url, NOW, adapters)
    assert (first.delivered, first.failed) == (1, 5)  # D4's web notice went; the SMS provider is down
    rows = await history(database_url)
    d5 = "HX0000000005/before_due/2026-12-01/i3"
    assert rows[d5] == ("failed", 1, "503 from provider")
    # a failed contact does not count against the caps: a plan now still plans it
    engine = create_engine(database_url)
    try:
        replan = await build_plan(engine, POLICY, CADENCE, NOW + timedelta(seconds=10))
    finally:
        await engine.dispose()
    assert d5 in {c.idempotency_key for c in replan.contacts}
    flaky.down = False
    early = await run_dispatch(database_url, NOW + timedelta(seconds=30), adapters)
    assert (early.waiting, early.delivered) == (5, 0)  # inside the first backoff (1 minute)
    late = await run_dispatch(database_url, NOW + timedelta(minutes=1), adapters)
    assert (late.delivered, late.failed) == (5, 0)
    assert sent(tmp_path) == EXPECTED
    assert (await history(database_url))[d5] == ("delivered", 2, None)
    actions = [a for a, k in await audit_actions(database_url, mark) if k == d5]
    assert actions == ["contact_attempted", "contact_failed", "contact_attempted", "contact_delivered"]


def test_ledger_outbound_twice_at_the_same_clock_delivers_once(database_url, tmp_path):
    import asyncio

    asyncio.run(seeded(database_url))
    env = {**os.environ, "ID_HASH_SALT": SALT, "DATABASE_URL": database_url}
    env.pop("LEDGER_CADENCE_FILE", None)
    reports = []
    # This file's one real `ledger` process (on SQLite), then main() in this process.
    for first in (True, False):
        args = ["outbound", "--at", AT, "--out", str(tmp_path)]
        real = first and database_url.startswith("sqlite")
        result = ledger_process(args, env) if real else ledger_in_process(args, env)
        assert result.returncode == 0, result.stderr
        reports.append(json.loads(result.stdout))
    assert (reports[0]["delivered"], reports[1]["delivered"]) == (6, 0)
    assert sent(tmp_path / "outbound") == EXPECTED
    bad = ledger_in_process(["outbound", "--at", "2026-12-01T09:30"], env)
    assert bad.returncode == 2 and "--at" in bad.stderr


async def test_recording_a_plan_larger_than_one_statement_can_carry(database_url):
    """PostgreSQL takes at most 32,767 parameters a statement (14 a row: 2,340 rows): a day's
    plan of a large portfolio is recorded in chunks."""
    ids = await seeded(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            loan_id = (await q.loan_ids_by_number(conn, ["HX0000000005"]))["HX0000000005"]
        rows = [
            dict(idempotency_key=f"HX0000000005/bulk/2026-12-01/{i}", borrower_id=ids["D5"], loan_id=loan_id,
                 reason="before_due", channel="sms", template="before_due", language="zh", subject={},
                 status="planned", send_after=NOW, send_before=NOW + timedelta(hours=1), attempts=0,
                 created_at=NOW, updated_at=NOW)
            for i in range(2500)
        ]  # fmt: skip
        async with create_session_factory(engine)() as s, s.begin():
            assert await q.record_planned(s, rows) == 2500
        async with create_session_factory(engine)() as s, s.begin():
            assert await q.record_planned(s, rows) == 0
    finally:
        await engine.dispose()


async def test_a_stop_reply_holds_the_pending_reminder_on_that_channel(client, clock, settings, tmp_path):
    """D5's before-due SMS is planned and recorded; D5 replies "TD" by SMS before it is sent:
    the opt-out is recorded at once and the dispatcher leaves D5's SMS alone (not switched to
    the web either); the other reminders go out."""
    from ledger.domain.demo import DEMO_BORROWERS
    from ledger.services.seeding import seed_demo
    from ledger.web.keys import LEDGER

    from .conftest import AUTH

    clock.now = NOW.astimezone(UTC)
    await seed_demo(client.app[LEDGER].sessions, salt=SALT, today=date(2026, 12, 1))
    engine = create_engine(settings.database_url)
    try:
        plan = await build_plan(engine, POLICY, CADENCE, NOW)
        async with engine.connect() as conn:
            loan_ids = await q.loan_ids_by_number(conn, [c.loan_number for c in plan.contacts])
        await record_plan(engine, plan, loan_ids, NOW)
    finally:
        await engine.dispose()
    assert "HX0000000005" in {c.loan_number for c in plan.contacts}
    resp = await client.post(
        "/api/v1/stop-replies", headers=AUTH, json={"channel": "sms", "text": "TD", "phone": DEMO_BORROWERS["D5"].phone}
    )
    assert (await resp.json())["stop"] is True
    report = await run_dispatch(settings.database_url, NOW + timedelta(minutes=1), sinks(tmp_path), plan_first=False)
    got = sent(tmp_path)
    assert "HX0000000005" not in got and report.held.get("opted_out") == 1
    assert got == {
        n: v for n, v in {c.loan_number: (c.reason, c.channel) for c in plan.contacts}.items() if n != "HX0000000005"
    }


async def test_the_sms_adapter_hands_the_phone_to_the_provider_only_and_reports_each_result():
    from ledger.services.channels import HttpSmsAdapter, SendError

    class Provider:
        def __init__(self) -> None:
            self.calls: list[tuple[str, str, str]] = []

        async def submit(self, phone: str, text: str, idempotency_key: str) -> str:
            self.calls.append((phone, text, idempotency_key))
            if idempotency_key.endswith("/bad"):
                raise SendError("HTTP 503")
            return "msg-1"

    phones = {"b1": "13800000001", "b2": None}

    async def phone_of(borrower_id: str) -> str | None:
        return phones.get(borrower_id)

    provider = Provider()
    adapter = HttpSmsAdapter(provider, phone_of)
    msgs = [
        OutboundMessage("L1/x/ok", "b1", "L1", "sms", "before_due", "zh", "hello"),
        OutboundMessage("L1/x/bad", "b1", "L1", "sms", "before_due", "zh", "hello"),
        OutboundMessage("L2/x/ok", "b2", "L2", "sms", "before_due", "zh", "hello"),
    ]
    results = await adapter.send(msgs, NOW)
    assert [(r.delivered, r.error) for r in results] == [
        (True, None),
        (False, "provider: HTTP 503"),
        (False, "no phone number on file"),
    ]
    assert provider.calls == [("13800000001", "hello", "L1/x/ok"), ("13800000001", "hello", "L1/x/bad")]
    assert not any("13800000001" in (r.error or "") for r in results)


async def test_the_verified_borrower_reads_the_reminders_delivered_to_them(client, clock, settings, tmp_path):
    """After the dispatch, D4 (verified) reads one reminder: its milestone SMS, with its loan and
    subject; D5 reads its before-due reminder; D4's token does not read D5's."""
    from ledger.services.seeding import seed_demo
    from ledger.web.keys import LEDGER

    from .helpers import as_borrower

    clock.now = NOW.astimezone(UTC)
    ids = await seed_demo(client.app[LEDGER].sessions, salt=SALT, today=date(2026, 12, 1))
    headers = await as_borrower(client, "D4", "conv-d4")
    resp = await client.get(f"/api/v1/borrowers/{ids['D4']}/reminders", headers=headers)
    assert resp.status == 200 and await resp.json() == {"reminders": []}
    await run_dispatch(settings.database_url, NOW, sinks(tmp_path))
    resp = await client.get(f"/api/v1/borrowers/{ids['D4']}/reminders", headers=headers)
    [reminder] = (await resp.json())["reminders"]
    assert (reminder["loan_number"], reminder["reason"], reminder["channel"]) == (
        "HX0000000004",
        "dpd_milestone",
        "sms",
    )
    assert reminder["subject"]["days_past_due"] and reminder["delivered_at"].startswith("2026-12-01T01:30")
    d5 = await as_borrower(client, "D5", "conv-d5")
    resp = await client.get(f"/api/v1/borrowers/{ids['D5']}/reminders", headers=d5)
    assert [(r["reason"], r["subject"]) for r in (await resp.json())["reminders"]] == [
        ("before_due", {"instalment": "3", "due_date": "2026-12-11"})
    ]
    resp = await client.get(f"/api/v1/borrowers/{ids['D5']}/reminders", headers=headers)
    assert resp.status in (403, 404)
    resp = await client.get(
        f"/api/v1/borrowers/{ids['D4']}/reminders", headers={"Authorization": headers["Authorization"]}
    )
    assert resp.status == 401
