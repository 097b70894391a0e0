"""Benchmark 1: generate N synthetic borrowers (default 100,000; one loan each, a mix of buckets)
and load them into PostgreSQL with the project's own generator, `ledger generate N`.

    backend/.venv/bin/python bench/load_portfolio.py [N]

Drops and recreates the database BENCH_DB (default huanxin_bench) at 127.0.0.1:5432, applies
the migrations, then times the `ledger generate N` command as a whole (process start, rows
built in Python, COPY into PostgreSQL, commit). Target: 100,000 borrowers in under 60 s.
The loaded database is left in place for bench/status_load.py.
"""

from __future__ import annotations

import subprocess
import sys
import time

import benchlib

TARGET_SECONDS = 60.0


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print("== bench/load_portfolio.py: synthetic portfolio into PostgreSQL")
    print(benchlib.machine())
    print(f"database: {benchlib.database_url()} (dropped, recreated, `ledger migrate`)")
    benchlib.recreate_database()
    started = time.perf_counter()
    result = subprocess.run(
        [str(benchlib.LEDGER_BIN), "generate", str(n)],
        env=benchlib.ledger_env(),
        cwd=benchlib.BACKEND,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
        return 1
    print(f"command: ledger generate {n}")
    print(result.stdout.strip())
    if n < 100_000:
        verdict = "n/a (N < 100,000)"
    else:
        verdict = "met" if wall < TARGET_SECONDS else "NOT met"
    print(
        f"wall time: {wall:.1f} s for {n:,} borrowers ({n / wall:,.0f} borrowers/s); "
        f"target < {TARGET_SECONDS:.0f} s for 100,000: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
