"""Shared helpers of the backend benchmarks: machine size, the benchmark database, the
synthetic borrowers' identity answers, and a `ledger serve` subprocess.

Benchmarks print figures; they are not tests and assert nothing about speed.
Run them with the backend environment's Python (backend/.venv/bin/python).
"""

from __future__ import annotations

import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BACKEND = REPO / "backend"
LEDGER_BIN = BACKEND / ".venv" / "bin" / "ledger"

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
BENCH_DB = os.environ.get("BENCH_DB", "huanxin_bench")
SALT = "huanxin-bench-salt"  # synthetic data only; never a real deployment's ID_HASH_SALT


def database_url(db: str = BENCH_DB) -> str:
    """The server's DATABASE_URL: TCP to 127.0.0.1:5432 by default; BENCH_PG_HOST=/var/run/postgresql
    (a directory) makes it the Unix-domain socket instead."""
    if PG_HOST.startswith("/"):
        return f"postgresql+asyncpg://{PG_USER}@/{db}?host={PG_HOST}&port={PG_PORT}"
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{db}"


def machine() -> str:
    """One line naming the machine: cores, memory, CPU model, load, Python."""
    cores = os.cpu_count()
    mem_gib, cpu = "?", platform.processor() or platform.machine()
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gib = f"{int(line.split()[1]) / 1024 / 1024:.1f}"
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: nproc={cores}, memory={mem_gib} GiB, cpu={cpu}, load average (1/5/15 min) before the run={load}, "
        f"Python {platform.python_version()}, {platform.machine()}"
    )


def ledger_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url(), ID_HASH_SALT=SALT)
    env.update(extra)
    return env


def run_ledger(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LEDGER_BIN), *args], env=env or ledger_env(), cwd=BACKEND, check=True, capture_output=True, text=True
    )


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def empty_database(name: str) -> None:
    """Drop and create the PostgreSQL database ``name`` (empty, not migrated)."""
    import asyncio

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))


def recreate_database() -> None:
    """Drop and create BENCH_DB, then apply the migrations (`ledger migrate`)."""
    empty_database(BENCH_DB)
    run_ledger("migrate")


async def synthetic_count() -> int:
    """How many synthetic loans the benchmark database holds (0 when it does not exist)."""
    import asyncpg

    try:
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=BENCH_DB)
    except asyncpg.InvalidCatalogNameError:
        return 0
    try:
        return await conn.fetchval("SELECT count(*) FROM loans WHERE loan_number LIKE 'SY%'")
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await conn.close()


def ensure_synthetic_portfolio(n: int) -> None:
    """The benchmark database with exactly ``n`` synthetic loans: kept when it holds them, else
    recreated with `ledger generate n`; a kept one is migrated to the current schema."""
    import asyncio

    have = asyncio.run(synthetic_count())
    if have != n:
        print(f"database {BENCH_DB}: {have} synthetic loans, (re)creating with `ledger generate {n}`")
        recreate_database()
        run_ledger("generate", str(n))
    else:
        run_ledger("migrate")  # a database kept from an older checkout gets the newer migrations
        print(f"database {BENCH_DB}: {n} synthetic loans already loaded (migrations applied)")


def synthetic_identity(i: int) -> dict[str, str]:
    """The identity answers of synthetic borrower i, derived exactly as
    ledger.services.seeding.generate_portfolio derives them (phone, date of birth, ID last 4)."""
    dob = date(1960 + i % 45, 1 + i % 12, 1 + i % 28)
    return {
        "phone": f"139{i:08d}",
        "date_of_birth": dob.isoformat(),
        "id_last4": f"{i % 10000:04d}",
        "loan_number": f"SY{i:010d}",
    }


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list: the value at rank ceil(p/100 * n)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(p / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LedgerServer:
    """`ledger serve` as a subprocess (its own process group), stopped by its PID."""

    def __init__(self, port: int, api_token: str, extra_env: dict[str, str] | None = None):
        self.port = port
        self.api_token = api_token
        self.env = ledger_env(
            LEDGER_HOST="127.0.0.1", LEDGER_PORT=str(port), LEDGER_API_TOKEN=api_token, **(extra_env or {})
        )
        self.proc: subprocess.Popen | None = None
        self.log = open(REPO / "var" / "bench-ledger-serve.log", "w") if (REPO / "var").is_dir() else subprocess.DEVNULL

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LedgerServer:
        self.proc = subprocess.Popen(
            [str(LEDGER_BIN), "serve"],
            env=self.env,
            cwd=BACKEND,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"ledger serve exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise SystemExit("ledger serve did not become healthy within 30 s")

    def __exit__(self, *exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # The server may run several worker processes; they share its process group.
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of one process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_pids(root: int) -> list[int]:
    """root and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


async def sessions_opened(db: str = BENCH_DB) -> int:
    """PostgreSQL's count of sessions ever opened to db (pg_stat_database.sessions, PostgreSQL 14+)."""
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        return int(await conn.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = $1", db) or 0)
    except asyncpg.UndefinedColumnError:
        return 0
    finally:
        await conn.close()


async def backend_pids(db: str = BENCH_DB) -> list[int]:
    """PIDs of the PostgreSQL backends serving connections to db (the server's pool)."""
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", db)
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        print(f"{tool} not found: {hint}", file=sys.stderr)
        raise SystemExit(2)
    return path
