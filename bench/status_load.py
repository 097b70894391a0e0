"""Benchmark 2: overdue-status reads (GET /api/v1/loans/{n}/status) under concurrent HTTP load
against the 100,000-borrower portfolio of bench/load_portfolio.py.

    backend/.venv/bin/python bench/status_load.py [--connections 50] [--seconds 20] [--sample 2000]

What it does:
1. Uses the database BENCH_DB (default huanxin_bench); loads the portfolio first (as
   load_portfolio.py does) when it holds fewer than --portfolio synthetic loans.
2. Starts `ledger serve` as a subprocess on a free port with a fresh API token (stopped by its
   PID at the end; LEDGER_WORKERS is passed through when set).
3. Verifies --sample synthetic borrowers spread over the whole portfolio through
   POST /api/v1/verifications (their phone, date of birth and ID last 4 are derived exactly as
   the generator derives them), one conversation each, and checks one status answer.
4. Drives the status endpoint with wrk (a C load generator: on 2 cores a Python client would
   take the CPU the server needs), `--connections` connections on 2 threads for `--seconds`
   seconds after a 3 s warm-up; a Lua script rotates over the (loan, token, conversation)
   triples so every request reads a different borrower's loan. Every request is a full
   disclosure: token check, the loan's records, derivation, and an audit row written.
Prints requests/s, latency p50/p95/p99/max and any non-2xx answers or socket errors.
Targets on this 2-core machine: >= 1,000 requests/s and p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import benchlib

LUA = r"""
local triples = {}
local n = 0
local idx = 0
local api_token = ""

function init(args)
  api_token = args[1]
  for line in io.lines(args[2]) do
    local loan, token, conv = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
    n = n + 1
    triples[n] = {"/api/v1/loans/" .. loan .. "/status", token, conv}
  end
  idx = math.random(n)
end

function request()
  idx = idx % n + 1
  local t = triples[idx]
  return wrk.format("GET", t[1], {["Authorization"] = "Bearer " .. api_token,
                                  ["X-Verification-Token"] = t[2], ["X-Conversation-Id"] = t[3]})
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p95_us\": %d, \"p99_us\": %d, " ..
    "\"max_us\": %d, \"mean_us\": %.1f, \"connect\": %d, \"read\": %d, \"write\": %d, " ..
    "\"status\": %d, \"timeout\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


async def verify_sample(base: str, api_token: str, indices: list[int]) -> list[tuple[str, str, str]]:
    import aiohttp

    headers = {"Authorization": f"Bearer {api_token}"}
    sem = asyncio.Semaphore(16)
    triples: list[tuple[str, str, str]] = []

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        ident = benchlib.synthetic_identity(i)
        conv = f"bench-status-{i}"
        body = {
            "conversation_id": conv,
            "phone": ident["phone"],
            "date_of_birth": ident["date_of_birth"],
            "id_last4": ident["id_last4"],
        }
        async with sem, session.post(f"{base}/api/v1/verifications", json=body, headers=headers) as r:
            payload = await r.json()
            if r.status != 201:
                raise SystemExit(f"verification of synthetic borrower {i} failed: {r.status} {payload}")
            triples.append((ident["loan_number"], payload["token"], conv))

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session, i) for i in indices))
        loan, token, conv = triples[0]
        async with session.get(
            f"{base}/api/v1/loans/{loan}/status",
            headers={**headers, "X-Verification-Token": token, "X-Conversation-Id": conv},
        ) as r:
            payload = await r.json()
            if r.status != 200 or payload.get("loan_number") != loan:
                raise SystemExit(f"status check failed: {r.status} {payload}")
            print(
                f"check: {loan} -> bucket {payload['bucket']}, {payload['days_past_due']} DPD, "
                f"overdue {payload['overdue']['total']} CNY, {len(payload['instalments'])} instalments"
            )
    return triples


def run_wrk(
    wrk: str,
    base: str,
    lua: Path,
    args: list[str],
    connections: int,
    seconds: int,
    threads: int,
    server_pid: int | None = None,
) -> dict:
    """Run wrk; with server_pid, also measure the CPU seconds the server's process tree, the
    PostgreSQL backends of its pool and wrk itself spent during the run."""
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(lua),
        base,
        "--",
        *args,
    ]
    cpu_before: dict[int, float] = {}
    if server_pid is not None:
        pg = asyncio.run(benchlib.backend_pids())
        server = benchlib.tree_pids(server_pid)
        cpu_before = {pid: benchlib.process_cpu_seconds(pid) for pid in server + pg}
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        sessions_before = asyncio.run(benchlib.sessions_opened())
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    if server_pid is not None:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        # Backends opened during the run count whole; those closed during it are lost (see sessions).
        result["pg_sessions_opened"] = asyncio.run(benchlib.sessions_opened()) - sessions_before - 1
        pg_after = asyncio.run(benchlib.backend_pids())
        result["cpu_server_s"] = sum(
            benchlib.process_cpu_seconds(p) - cpu_before.get(p, 0.0) for p in benchlib.tree_pids(server_pid)
        )
        result["cpu_pg_s"] = sum(benchlib.process_cpu_seconds(p) - cpu_before.get(p, 0.0) for p in pg_after)
        result["cpu_wrk_s"] = (children.ru_utime + children.ru_stime) - (
            children_before.ru_utime + children_before.ru_stime
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--sample", type=int, default=2000, help="borrowers verified and rotated over")
    parser.add_argument("--portfolio", type=int, default=100_000)
    opts = parser.parse_args()

    print("== bench/status_load.py: overdue-status reads under concurrent HTTP load")
    print(benchlib.machine())
    wrk = benchlib.require("wrk", "install it with `apt-get install -y wrk`")
    count = asyncio.run(benchlib.synthetic_count())
    if count < opts.portfolio:
        print(f"database {benchlib.BENCH_DB} holds {count} synthetic loans; loading {opts.portfolio:,} first")
        benchlib.recreate_database()
        print(benchlib.run_ledger("generate", str(opts.portfolio)).stdout.strip())
        count = opts.portfolio
    print(f"portfolio: {count:,} synthetic borrowers in {benchlib.BENCH_DB}")
    step = max(1, count // opts.sample)
    indices = list(range(0, count, step))[: opts.sample]

    api_token = benchlib.new_token()
    port = benchlib.free_port()
    workers = os.environ.get("LEDGER_WORKERS")
    with benchlib.LedgerServer(port, api_token) as server:
        print(
            f"server: ledger serve on {server.base} (pid {server.proc.pid}"
            + (f", LEDGER_WORKERS={workers}" if workers else "")
            + ")"
        )
        triples = asyncio.run(verify_sample(server.base, api_token, indices))
        print(f"verified {len(triples):,} borrowers (one token and conversation each)")
        with tempfile.TemporaryDirectory(prefix="huanxin-bench-") as tmp:
            lua, data = Path(tmp) / "status.lua", Path(tmp) / "triples.tsv"
            lua.write_text(LUA)
            data.write_text("".join(f"{a}\t{b}\t{c}\n" for a, b, c in triples))
            run_wrk(wrk, server.base, lua, [api_token, str(data)], opts.connections, 3, opts.threads)  # warm-up
            r = run_wrk(
                wrk,
                server.base,
                lua,
                [api_token, str(data)],
                opts.connections,
                opts.seconds,
                opts.threads,
                server_pid=server.proc.pid,
            )
    rps = r["requests"] / (r["duration_us"] / 1e6)
    p99_ms = r["p99_us"] / 1000
    errors = {k: r[k] for k in ("connect", "read", "write", "status", "timeout") if r[k]}
    print(
        f"command: wrk -t{opts.threads} -c{opts.connections} -d{opts.seconds}s (GET /api/v1/loans/{{n}}/status, "
        f"{len(triples):,} borrowers rotated)"
    )
    print(f"requests: {r['requests']:,} in {r['duration_us'] / 1e6:.1f} s = {rps:,.0f} requests/s")
    print(
        f"latency: p50 {r['p50_us'] / 1000:.1f} ms, p95 {r['p95_us'] / 1000:.1f} ms, p99 {p99_ms:.1f} ms, "
        f"max {r['max_us'] / 1000:.1f} ms, mean {r['mean_us'] / 1000:.1f} ms"
    )
    per = {k: r[f"cpu_{k}_s"] / max(1, r["requests"]) * 1000 for k in ("server", "pg", "wrk")}
    total = sum(per.values())
    print(
        f"CPU per request: server {per['server']:.2f} ms + PostgreSQL {per['pg']:.2f} ms + wrk {per['wrk']:.2f} ms "
        f"= {total:.2f} ms; {os.cpu_count()} cores fully given to these would serve at most "
        f"~{os.cpu_count() * 1000 / total:,.0f} requests/s"
    )
    print(f"PostgreSQL connections opened during the run: {r['pg_sessions_opened']}")
    print(f"errors: {errors or 'none (every answer 2xx)'}")
    print(
        f"target >= 1,000 requests/s: {'met' if rps >= 1000 else 'NOT met'}; "
        f"target p99 < 20 ms: {'met' if p99_ms < 20 else 'NOT met'}"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
