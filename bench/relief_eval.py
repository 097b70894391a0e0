"""Benchmark 3: relief-plan evaluation for one loan in the pure core (no I/O).

    backend/.venv/bin/python bench/relief_eval.py [RUNS]

For demo borrowers D1 (M1, 15 DPD) and D3 (M3+, 120 DPD), as of seeding day: derive the
loan's status once (replay of schedule and payments), then time RUNS (default 2,000) calls of
ledger.domain.relief.evaluate_relief with a hardship case whose disposable income makes
several plans eligible, and print p50/p99/max per call. Also times derive_status, which
every status read and every evaluation runs first. Target: evaluation < 2 ms per call.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from decimal import Decimal

import benchlib
from ledger.domain.account import derive_status
from ledger.domain.demo import demo_loans
from ledger.domain.relief import HardshipFacts, ReliefHistory, evaluate_relief
from ledger.policy_file import load_policy

TARGET_MS = 2.0
TODAY = date(2026, 11, 25)  # fixed, so runs on different days measure the same loans


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Per-call wall time and CPU time of this thread (the latter is what the call costs even
    when other processes take the core away), in ms, sorted."""
    for _ in range(min(50, runs)):  # warm-up
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter_ns(), time.thread_time_ns()
        fn()
        cpu.append((time.thread_time_ns() - c) / 1e6)
        wall.append((time.perf_counter_ns() - t) / 1e6)
    return sorted(wall), sorted(cpu)


def line(what: str, samples: tuple[list[float], list[float]]) -> str:
    p = benchlib.percentile
    wall, cpu = samples
    return (
        f"{what}: wall p50 {p(wall, 50):.3f} ms, p99 {p(wall, 99):.3f} ms, max {wall[-1]:.3f} ms; "
        f"CPU p50 {p(cpu, 50):.3f} ms, p99 {p(cpu, 99):.3f} ms ({len(wall):,} runs)"
    )


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print("== bench/relief_eval.py: evaluate_relief in the pure core")
    print(benchlib.machine())
    policy = load_policy(None)
    loans = demo_loans(TODAY)
    facts = HardshipFacts("job_loss", "temporary", Decimal("9000.00"), Decimal("4500.00"), Decimal("500.00"))
    history = ReliefHistory()
    worst_wall = worst_cpu = 0.0
    for key in ("D1", "D3"):
        contract, payments, arrangements = loans[key]
        status = derive_status(contract, payments, arrangements, TODAY, policy)
        evaluation = evaluate_relief(contract, status, facts, history, TODAY, policy)
        eligible = [p.plan_type for p in evaluation.plans if p.eligible]
        print(
            f"{key}: {contract.loan_number}, {status.bucket} {status.days_past_due} DPD, overdue "
            f"{status.overdue.total} CNY; eligible plans: {', '.join(eligible) or 'none'}"
        )
        ev = timed(
            lambda: evaluate_relief(contract, status, facts, history, TODAY, policy),  # noqa: B023 - called within the iteration
            runs,
        )
        st = timed(
            lambda: derive_status(contract, payments, arrangements, TODAY, policy),  # noqa: B023 - called within the iteration
            runs,
        )
        print("  " + line("evaluate_relief", ev))
        print("  " + line("derive_status  ", st))
        worst_wall = max(worst_wall, benchlib.percentile(ev[0], 99))
        worst_cpu = max(worst_cpu, benchlib.percentile(ev[1], 99))
    print(
        f"target < {TARGET_MS} ms per evaluation: CPU p99 {worst_cpu:.3f} ms "
        f"({'met' if worst_cpu < TARGET_MS else 'NOT met'}), wall p99 {worst_wall:.3f} ms "
        f"({'met' if worst_wall < TARGET_MS else 'NOT met'}; wall time includes time the core was given to "
        f"other processes, see the load average above)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
