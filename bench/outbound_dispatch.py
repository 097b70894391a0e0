"""Benchmark 9: the outbound dispatcher with the file sink, messages per second for one worker.

    backend/.venv/bin/python bench/outbound_dispatch.py [N]

Uses the database BENCH_DB (default here huanxin_outbound_bench) at 127.0.0.1:5432: when it
does not hold N synthetic loans it is dropped, recreated and filled with `ledger generate N`
(one loan per borrower over the buckets M0 to M3+). The contact history is emptied, then in
this process, one worker:

1. plans the day at today 09:30 in Shanghai and records the plan (the queue);
2. works the queue (services.outbound.dispatch with plan_first=False): per batch of 500, the
   batch's loans planned again on fresh data, every contact decided, marked attempted, written
   to the file sink (one JSON line each, fsynced per batch), marked delivered, with its audit
   entries. This phase is the figure: delivered messages / wall seconds, with the CPU seconds
   of the worker and of PostgreSQL's backends (the figure that holds on a loaded machine).

Prints the figures with the machine size and load. Target: >= 1,000 messages/s per worker.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("BENCH_DB", "huanxin_outbound_bench")

import benchlib  # after BENCH_DB is set: benchlib reads it on import

TARGET_PER_SECOND = 1000.0


async def run(at: datetime, out: Path) -> tuple[float, int, float, dict]:
    sys.path.insert(0, str(benchlib.BACKEND / "src"))
    from sqlalchemy import text

    from ledger.cadence_file import load_cadence
    from ledger.db import contact_queries
    from ledger.db.session import create_engine
    from ledger.policy_file import load_policy
    from ledger.services.channels import default_adapters
    from ledger.services.contact_plan import build_plan, record_plan
    from ledger.services.outbound import dispatch

    policy = load_policy()
    cadence = load_cadence(None, policy)
    engine = create_engine(benchlib.database_url())
    try:
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE contact_history"))
        adapters = default_adapters(out)
        started = time.perf_counter()
        plan = await build_plan(engine, policy, cadence, at)
        async with engine.connect() as conn:
            loan_ids = await contact_queries.loan_ids_by_number(conn, (c.loan_number for c in plan.contacts))
        planned = await record_plan(engine, plan, loan_ids, at)
        plan_seconds = time.perf_counter() - started
        backends = await benchlib.backend_pids()  # the pool's connections (opened by the plan)
        backend_cpu = sum(benchlib.process_cpu_seconds(pid) for pid in backends)
        started, cpu = time.perf_counter(), time.process_time()
        report = await dispatch(engine, policy, cadence, at, adapters, plan_first=False)
        send_seconds, worker_cpu = time.perf_counter() - started, time.process_time() - cpu
        backend_cpu = sum(benchlib.process_cpu_seconds(pid) for pid in backends) - backend_cpu
        return plan_seconds, planned, send_seconds, report.as_dict() | {"cpu": (worker_cpu, backend_cpu)}
    finally:
        await engine.dispose()


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    print("== bench/outbound_dispatch.py: the outbound dispatcher with the file sink, one worker, PostgreSQL")
    print(benchlib.machine())
    benchlib.ensure_synthetic_portfolio(n)
    shanghai = ZoneInfo("Asia/Shanghai")
    at = datetime.now(shanghai).replace(hour=9, minute=30, second=0, microsecond=0)
    if at.date() != datetime.now(shanghai).date():
        at += timedelta(days=1)
    print(benchlib.machine().replace("before the run", "just before the dispatch"))
    with tempfile.TemporaryDirectory() as tmp:
        plan_seconds, planned, send_seconds, report = asyncio.run(run(at, Path(tmp)))
        lines = sum(1 for f in (Path(tmp) / "outbound").glob("*.jsonl") for _ in f.open(encoding="utf-8"))
    worker_cpu, backend_cpu = report.pop("cpu")
    delivered = report["delivered"]
    rate = delivered / send_seconds if send_seconds else 0.0
    print(f"clock: {at.isoformat(timespec='minutes')}; plan and record: {planned:,} contacts in {plan_seconds:.1f} s")
    print(f"dispatch: {report}")
    print(f"file sink lines: {lines:,} (one per delivered contact: {lines == delivered})")
    print(
        f"CPU seconds of the dispatch: worker {worker_cpu:.2f} s ({delivered / worker_cpu:,.0f} messages per worker "
        f"CPU second), PostgreSQL backends {backend_cpu:.2f} s; wall {send_seconds:.2f} s"
    )
    print(benchlib.machine().replace("before the run", "after the dispatch"))
    verdict = "met" if rate >= TARGET_PER_SECOND else "NOT met"
    print(
        f"one worker: {delivered:,} messages delivered in {send_seconds:.2f} s = {rate:,.0f} messages/s; "
        f"target >= {TARGET_PER_SECOND:,.0f}/s: {verdict}"
    )
    return 0 if lines == delivered else 1


if __name__ == "__main__":
    sys.exit(main())
