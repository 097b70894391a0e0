"""Several dispatcher workers on one PostgreSQL queue (docs/outbound.md "Several workers"): each
claims its batch with FOR UPDATE SKIP LOCKED and a lease. Two worker processes in parallel
deliver every contact once between them; a worker killed with SIGKILL mid-batch loses nothing:
its rows stay leased until the lease runs out, then another worker sends them with the same
idempotency keys and the sink delivers each key once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from huanxin_testkit.ledger_cli import ledger_in_process
from ledger.db import contact_queries as q
from ledger.db import models as m
from ledger.db.session import create_engine, create_session_factory
from ledger.services.contact_plan import build_plan, record_plan
from ledger.services.seeding import generate_portfolio

from .conftest import SALT, clean
from .test_outbound import CADENCE, POLICY

AT = "2026-12-01T09:30+08:00"
NOW = datetime.fromisoformat(AT)
WORKER = Path(__file__).with_name("outbound_worker.py")


async def planned_portfolio(url: str, n: int = 1500, at_least: int = 100) -> set[str]:
    """A generated portfolio of ``n`` loans, its plan at NOW recorded: the queue's keys."""
    await clean(url)
    engine = create_engine(url)
    try:
        await generate_portfolio(engine, n, salt=SALT, today=date(2026, 12, 1), seed=7)
        plan = await build_plan(engine, POLICY, CADENCE, NOW)
        async with engine.connect() as conn:
            loan_ids = await q.loan_ids_by_number(conn, [c.loan_number for c in plan.contacts])
        assert await record_plan(engine, plan, loan_ids, NOW) == len(plan.contacts) > at_least
        return {c.idempotency_key for c in plan.contacts}
    finally:
        await engine.dispose()


async def statuses(url: str) -> dict[str, tuple[str, str | None]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            h = m.ContactRecord
            return {k: (s, o) for k, s, o in await conn.execute(select(h.idempotency_key, h.status, h.lease_owner))}
    finally:
        await engine.dispose()


def sink_keys(where: Path) -> list[str]:
    keys: list[str] = []
    for f in sorted(where.glob("*.jsonl")):
        for line in f.read_text("utf-8").splitlines():
            keys.append(json.loads(line)["idempotency_key"])
    return keys


def worker(url: str, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), url, str(out), AT, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def report_of(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share a queue on PostgreSQL (SQLite: one worker)")
    return database_url


async def test_two_workers_in_parallel_deliver_every_contact_once_between_them(pg_url, tmp_path):
    keys = await planned_portfolio(pg_url)
    start = tmp_path / "go"
    # separate sinks: no de-duplication across them, so only the claiming keeps keys apart
    a = worker(pg_url, tmp_path / "a", "--batch", "10", "--lease", "60", "--delay", "0.05", "--start-file", str(start))
    b = worker(pg_url, tmp_path / "b", "--batch", "10", "--lease", "60", "--delay", "0.05", "--start-file", str(start))
    await asyncio.sleep(0.5)
    start.write_text("go")
    ra, rb = report_of(a), report_of(b)
    got_a, got_b = sink_keys(tmp_path / "a"), sink_keys(tmp_path / "b")
    assert ra["delivered"] > 0 and rb["delivered"] > 0, (ra, rb)  # both worked the queue
    assert ra["delivered"] + rb["delivered"] == len(keys)
    assert len(got_a) == len(set(got_a)) and len(got_b) == len(set(got_b))
    assert not set(got_a) & set(got_b)  # no contact sent by both
    assert set(got_a) | set(got_b) == keys  # none lost
    assert ra["duplicates"] == rb["duplicates"] == 0
    assert set((await statuses(pg_url)).values()) == {("delivered", None)}  # every lease released


async def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(pg_url, tmp_path):
    keys = await planned_portfolio(pg_url)
    out, ready = tmp_path / "sink", tmp_path / "ready"
    killed = worker(pg_url, out, "--batch", "20", "--lease", "30", "--die-after", "5", "--ready-file", str(ready))
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert killed.poll() is None, killed.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the worker never wrote its first messages"
        await asyncio.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert len(sink_keys(out)) == 5
    rows = await statuses(pg_url)
    leased = {k for k, (s, owner) in rows.items() if owner is not None}
    assert len(leased) == 20 and {rows[k][0] for k in leased} == {"attempted"}
    # another worker now: the killed worker's batch is still leased, so it is left alone
    second = report_of(worker(pg_url, out, "--batch", "50", "--lease", "30"))
    assert second["delivered"] == len(keys) - 20 and second["duplicates"] == 0
    rows = await statuses(pg_url)
    assert {k for k, (s, _) in rows.items() if s != "delivered"} == leased
    # after the lease (the lease clock 31 s on): its batch is sent again with the same keys
    third = report_of(worker(pg_url, out, "--batch", "50", "--lease", "30", "--clock-offset", "31"))
    assert third["delivered"] == 20 and third["duplicates"] == 5  # the 5 the killed worker wrote
    got = sink_keys(out)
    assert len(got) == len(set(got)) and set(got) == keys  # each exactly once: no loss, no duplicate
    assert set((await statuses(pg_url)).values()) == {("delivered", None)}


async def test_claims_are_disjoint_and_a_lapsed_lease_is_claimable_again(database_url):
    keys = await planned_portfolio(database_url, n=600, at_least=40)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    t0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    try:
        async with sessions() as s, s.begin():
            first = await q.claim_due(
                s, NOW, owner="w1", leased_at=t0, lease_until=t0 + timedelta(seconds=60), limit=30
            )
        async with sessions() as s, s.begin():
            second = await q.claim_due(s, NOW, owner="w2", leased_at=t0, lease_until=t0 + timedelta(seconds=60))
        assert len(first) == 30 and len(second) == len(keys) - 30
        assert not {r[1] for r in first} & {r[1] for r in second}
        later = t0 + timedelta(seconds=59)
        async with sessions() as s, s.begin():
            assert (
                await q.claim_due(s, NOW, owner="w3", leased_at=later, lease_until=later + timedelta(seconds=60)) == []
            )
        async with sessions() as s, s.begin():
            assert await q.release_leases(s, "w2") == len(second)
        lapsed = t0 + timedelta(seconds=60)
        async with sessions() as s, s.begin():
            again = await q.claim_due(s, NOW, owner="w4", leased_at=lapsed, lease_until=lapsed + timedelta(seconds=60))
        assert {r[1] for r in again} == keys  # w1's lapsed lease and w2's released rows
    finally:
        await engine.dispose()


def test_ledger_outbound_refuses_a_bad_lease_or_batch(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", "ID_HASH_SALT": SALT}
    limits = "--lease must be positive and --batch between 1 and 5000"
    for bad, said in (
        (["--lease", "0"], limits),
        (["--lease", "-5"], limits),
        (["--batch", "0"], limits),
        (["--batch", "5001"], limits),
        (["--lease", "abc"], "argument --lease: invalid float value: 'abc'"),
    ):
        result = ledger_in_process(["outbound", "--at", AT, *bad], env)  # the real processes: worker() above
        assert result.returncode == 2 and said in result.stderr, (bad, result.stderr)
