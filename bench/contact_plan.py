"""Benchmark 8: the contact planner, `ledger contact-plan`, planning the day for 100,000 loans.

    backend/.venv/bin/python bench/contact_plan.py [N]

Uses the database BENCH_DB (default here huanxin_plan_bench) at 127.0.0.1:5432: when it does
not hold N synthetic loans it is dropped, recreated and filled with `ledger generate N` (the
portfolio generator of the load tests: one loan per borrower over the buckets M0 to M3+).
Then:

1. times `ledger contact-plan --at <today 09:30 in Shanghai>` as a whole (process start, the
   set-based read of the portfolio, each loan's state, the plan, the JSON on stdout), with
   its CPU time and peak resident memory;
2. in this process, times the two halves of the same plan: the read (ledger.db.contact_queries
   through services.contact_plan.build_plan's statements) and the pure planner
   (derived state and rules, ledger.domain.contact_plan).

Prints the figures with the machine size and load. Target: < 10 s for 100,000 loans.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

os.environ.setdefault("BENCH_DB", "huanxin_plan_bench")

import benchlib  # after BENCH_DB is set: benchlib reads it on import

TARGET_SECONDS = 10.0
WRAPPER = (
    "import json, resource, subprocess, sys\n"
    "out = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "sys.stdout.write(out.stdout)\n"
    "sys.stderr.write(out.stderr)\n"
    "print(json.dumps({'maxrss_kib': u.ru_maxrss, 'cpu_s': u.ru_utime + u.ru_stime}), file=sys.stderr)\n"
    "sys.exit(out.returncode)\n"
)


async def halves(at: datetime) -> tuple[float, float, int]:
    """(read seconds, plan seconds, loans) of one plan, in this process."""
    sys.path.insert(0, str(benchlib.BACKEND / "src"))
    from ledger.cadence_file import load_cadence
    from ledger.db.session import create_engine
    from ledger.domain import contact_plan as domain
    from ledger.policy_file import load_policy
    from ledger.services import contact_plan as service

    policy = load_policy()
    cadence = load_cadence(None, policy)
    engine = create_engine(benchlib.database_url())
    captured: dict[str, float] = {}
    real_plan = domain.plan_contacts
    real_due_state = service.due_state
    started = time.perf_counter()

    def first_state(*args, **kwargs):  # the read ends where the first loan's state is derived
        captured.setdefault("read_done", time.perf_counter())
        return real_due_state(*args, **kwargs)

    def plan(*args, **kwargs):
        loans = list(args[0])
        captured["loans"] = len(loans)
        return real_plan(loans, *args[1:], **kwargs)

    service.due_state = first_state
    service.plan_contacts = plan
    try:
        await service.build_plan(engine, policy, cadence, at)
    finally:
        service.due_state = real_due_state
        service.plan_contacts = real_plan
        await engine.dispose()
    done = time.perf_counter()
    read = captured.get("read_done", done) - started
    return read, done - started - read, int(captured.get("loans", 0))


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print("== bench/contact_plan.py: ledger contact-plan over a synthetic portfolio in PostgreSQL")
    print(benchlib.machine())
    benchlib.ensure_synthetic_portfolio(n)
    shanghai = ZoneInfo("Asia/Shanghai")
    at = datetime.now(shanghai).replace(hour=9, minute=30, second=0, microsecond=0)
    if at.date() != datetime.now(shanghai).date():  # the generator dates loans from today in Shanghai
        at += timedelta(days=1)
    args = ["contact-plan", "--at", at.isoformat(timespec="minutes")]
    print(benchlib.machine().replace("before the run", "just before contact-plan"))
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(benchlib.LEDGER_BIN), *args],
        env=benchlib.ledger_env(),
        cwd=benchlib.BACKEND,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-2000:], result.stderr[-4000:], sep="\n", file=sys.stderr)
        return 1
    usage = json.loads(result.stderr.strip().splitlines()[-1])
    plan = json.loads(result.stdout)
    reasons: dict[str, int] = {}
    for c in plan["contacts"]:
        reasons[c["reason"]] = reasons.get(c["reason"], 0) + 1
    rules: dict[str, int] = {}
    for h in plan["held"]:
        rules[h["rule"]] = rules.get(h["rule"], 0) + 1
    print("command: ledger " + " ".join(args))
    print(f"contacts: {len(plan['contacts']):,} {dict(sorted(reasons.items()))}")
    print(f"held: {len(plan['held']):,} {dict(sorted(rules.items()))}")
    verdict = "met" if wall < TARGET_SECONDS else "NOT met"
    if n < 100_000:
        verdict = "n/a (N < 100,000)"
    print(f"wall time of the command: {wall:.1f} s for {n:,} loans; target < {TARGET_SECONDS:.0f} s: {verdict}")
    peak = usage["maxrss_kib"] / 1024
    print(f"CPU time of the command: {usage['cpu_s']:.1f} s; peak resident memory: {peak:.0f} MiB")
    read, planned, loans = asyncio.run(halves(at))
    print(f"in one process: read {read:.1f} s, derived state + rules {planned:.1f} s, for {loans:,} loans")
    return 0


if __name__ == "__main__":
    sys.exit(main())
