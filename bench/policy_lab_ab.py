"""The policy lab's evaluation, an older commit's code against the working tree's, side by side
in one process on the same loans (the whole benchmark's CPU time varies by about 10% from run
to run on a shared machine, more than most changes).

    backend/.venv/bin/python bench/policy_lab_ab.py [BASE_REF] [N]

Reads N loans (default 4,000) from BENCH_DB (default huanxin_lab_bench; fill it with
bench/policy_lab.py) as `ledger simulate` reads them, exports BASE_REF's (default HEAD)
`backend/src/ledger` with `git archive` into a temporary directory as the package
`ledger_base`, then evaluates the loans under the shipped policy and the benchmark's candidate
(fee waiver from 15 DPD, affordability ratio 0.4) with each package's lab worker, alternating,
RUNS times each (default 3). Prints the best and the median CPU time per loan of each, the machine and the load, and
whether both found the same changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("BENCH_DB", "huanxin_lab_bench")

import benchlib  # after BENCH_DB is set: benchlib reads it on import


def export_base(ref: str, into: Path) -> None:
    data = subprocess.run(
        ["git", "archive", ref, "backend/src/ledger"], cwd=benchlib.REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    (into / "backend" / "src" / "ledger").rename(into / "ledger_base")


async def read(n: int) -> list:
    from ledger.db.lab_queries import portfolio_batches
    from ledger.db.session import create_engine

    engine = create_engine(benchlib.database_url())
    rows: list = []
    try:
        async for batch in portfolio_batches(engine, 2000):
            rows += batch
            if len(rows) >= n:
                break
    finally:
        await engine.dispose()
    return rows[:n]


def candidate(policy):
    fw = dataclasses.replace(policy.plans.fee_waiver, min_dpd=15)
    relief = dataclasses.replace(policy.relief, affordability_ratio=Decimal("0.4"))
    return dataclasses.replace(policy, plans=dataclasses.replace(policy.plans, fee_waiver=fw), relief=relief)


def main() -> int:
    ref = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
    print(benchlib.machine())
    rows = asyncio.run(read(n))
    day = date(2026, 12, 1)
    with tempfile.TemporaryDirectory(prefix="lab-ab-") as tmp:
        export_base(ref, Path(tmp))
        sys.path.insert(0, tmp)
        from ledger_base.policy_file import load_policy as base_policy  # type: ignore[import-not-found]
        from ledger_base.scenario_file import load_scenarios as base_scenarios  # type: ignore[import-not-found]
        from ledger_base.services import lab_worker as base  # type: ignore[import-not-found]

        from ledger.policy_file import load_policy
        from ledger.scenario_file import load_scenarios
        from ledger.services import lab_worker as new

        p, bp = load_policy(), base_policy()
        new.init(p, candidate(p), day, load_scenarios(None, p))
        base.init(bp, candidate(bp), day, base_scenarios(None, bp))
        times: dict[str, list[float]] = {ref: [], "working tree": []}
        found: dict[str, int] = {}
        for _ in range(int(os.environ.get("RUNS", "3"))):
            for name, mod in ((ref, base), ("working tree", new)):
                started = time.process_time()
                _, changes = mod.evaluate_batch(rows)
                times[name].append(time.process_time() - started)
                found[name] = len(changes)
    for name, runs in times.items():
        print(
            f"{name}: best {min(runs) / len(rows) * 1000:.3f} ms of CPU per loan over {len(rows):,} loans, "
            f"median {sorted(runs)[len(runs) // 2] / len(rows) * 1000:.3f} "
            f"(runs {', '.join(f'{t:.2f}' for t in runs)} s); {found[name]:,} plan changes"
        )
    print(f"same changes found: {len(set(found.values())) == 1}")
    print("load average (1/5/15 min) after: " + "/".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
