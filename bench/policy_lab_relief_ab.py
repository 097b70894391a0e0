"""The relief engine alone, an older commit's against the working tree's, side by side in one
process: the part of the policy lab whose figure is too small to see through the noise of a
whole loan's CPU time on a shared machine.

    backend/.venv/bin/python bench/policy_lab_relief_ab.py [BASE_REF] [N]

Reads N loans (default 4,000) from BENCH_DB as bench/policy_lab_ab.py does, derives each
loan's lean status once (working tree), then times ``evaluate_relief`` under the shipped
policy and the benchmark's candidate with each commit's relief engine, alternating, RUNS times
(default 7), the schedule caches emptied before each run (as for loans never seen). Loans with
arrangements, an open dispute or nothing owed are left out. Prints the median and best µs of
CPU per loan (both policies) of each.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("BENCH_DB", "huanxin_lab_bench")

import policy_lab_ab as ab  # sets up benchlib; reads the loans and exports the base


def main() -> int:
    ref = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
    rows = asyncio.run(ab.read(n))
    with tempfile.TemporaryDirectory(prefix="lab-relief-ab-") as tmp:
        ab.export_base(ref, Path(tmp))
        sys.path.insert(0, tmp)
        import ledger_base.domain.relief as base_relief  # type: ignore[import-not-found]
        import ledger_base.domain.schedule as base_schedule  # type: ignore[import-not-found]

        import ledger.domain.relief as new_relief
        import ledger.domain.schedule as new_schedule
        from ledger.domain import lab_rows
        from ledger.domain.account import derive_status
        from ledger.domain.lab import assign_profile
        from ledger.policy_file import load_policy
        from ledger.scenario_file import load_scenarios

        policy = load_policy()
        candidate = ab.candidate(policy)
        day = date(2026, 12, 1)
        profiles = load_scenarios(None, policy)
        cases = []
        for row in rows:
            loan = lab_rows.loan_from_row(row)
            if loan.arrangements or loan.open_dispute:
                continue
            facts = loan.facts or assign_profile(loan.contract.loan_number, profiles).facts()
            status = derive_status(loan.contract, loan.payments, (), day, policy, lean=True, fen=loan.fen)
            if not status.closed and status.payoff_amount > 0:
                cases.append((loan.contract, status, facts))

        def run(relief, history) -> float:
            for module in (base_schedule, new_schedule):
                module._annuity_cached.cache_clear()
                module._schedule_cached.cache_clear()
            started = time.process_time()
            for contract, status, facts in cases:
                for p in (policy, candidate):
                    relief.evaluate_relief(contract, status, facts, history, day, p, comparisons=False)
            return time.process_time() - started

        times: dict[str, list[float]] = {ref: [], "working tree": []}
        for _ in range(int(os.environ.get("RUNS", "7"))):
            times[ref].append(run(base_relief, base_relief.ReliefHistory()))
            times["working tree"].append(run(new_relief, new_relief.ReliefHistory()))
    for name, runs in times.items():
        runs.sort()
        print(
            f"{name}: relief engine under both policies, median {runs[len(runs) // 2] / len(cases) * 1e6:.0f} µs, "
            f"best {runs[0] / len(cases) * 1e6:.0f} µs of CPU per loan over {len(cases):,} loans"
        )
    print("load average (1/5/15 min) after: " + "/".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
