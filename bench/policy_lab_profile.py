"""Where the policy lab's time goes: read 5 batches of 2,000 loans from the benchmark database
(as `ledger simulate` reads them), then profile one batch's evaluation under two policies.

    backend/.venv/bin/python bench/policy_lab_profile.py

Needs the database of bench/policy_lab.py (BENCH_DB, default huanxin_lab_bench). Prints the
wall time of the read, the CPU time of evaluating 2,000 loans, and the cProfile top functions.
"""

from __future__ import annotations

import asyncio
import cProfile
import dataclasses
import os
import pstats
import sys
import time
from datetime import date

os.environ.setdefault("BENCH_DB", "huanxin_lab_bench")

import benchlib  # after BENCH_DB is set: benchlib reads it on import
from ledger.db.lab_queries import portfolio_batches
from ledger.db.session import create_engine
from ledger.policy_file import load_policy
from ledger.scenario_file import load_scenarios
from ledger.services import lab_worker


async def read(batches: int) -> list:
    engine = create_engine(benchlib.database_url())
    first: list = []
    started = time.perf_counter()
    try:
        n = 0
        async for batch in portfolio_batches(engine, 2000):
            n += 1
            first = first or batch
            if n == batches:
                break
    finally:
        await engine.dispose()
    print(f"read {n} batches of 2,000 loans: {time.perf_counter() - started:.1f} s wall")
    return first


def main() -> int:
    print(benchlib.machine())
    batch = asyncio.run(read(5))
    policy = load_policy()
    fw = dataclasses.replace(policy.plans.fee_waiver, min_dpd=15)
    candidate = dataclasses.replace(policy, plans=dataclasses.replace(policy.plans, fee_waiver=fw))
    lab_worker.init(policy, candidate, date.today(), load_scenarios(None, policy))
    cpu = time.process_time()
    lab_worker.evaluate_batch(batch)
    cpu = time.process_time() - cpu
    print(f"evaluate 2,000 loans under two policies: {cpu:.2f} s CPU ({cpu / 2:.2f} ms per loan)")
    profiler = cProfile.Profile()
    profiler.runcall(lab_worker.evaluate_batch, batch)
    pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
        int(os.environ.get("TOP", "12"))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
