"""The multi-instance stack of tests/multi: the ledger, the action server, TWO `rasa run`
processes sharing the SQL tracker store on PostgreSQL (RASA_TRACKER_DB_URL) and the Redis lock
store (RASA_LOCK_STORE_URL), and the gateway with RASA_URLS listing both and REDIS_URL.

Everything runs on ports 31xxx (MULTI_PORT_BASE, default 31000: below the ephemeral range 32768-60999,
so an outgoing connection can never hold one of them), with its own PostgreSQL
databases (MULTI_DB_PREFIX, default huanxin_multi: `<prefix>` for Rasa's tracker,
`<prefix>_ledger` for the ledger and the gateway; both dropped and recreated) and its own run
directory (STACK_RUN_DIR, default var/multi: PIDs, logs). Only the processes started here are
stopped, by their PIDs.

bench/replicas.py reuses this stack on its own ports and databases: it adds environment
variables to every process (``extra_env``, e.g. the gateway's rate limits) and starts a second
gateway listing one replica only (``start_gateway``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .e2e_stack import REPO, wait_http

PG = os.environ.get("MULTI_PG", "127.0.0.1:5432")
PG_USER = os.environ.get("MULTI_PG_USER", "postgres")
REDIS_LOCK_URL = os.environ.get("MULTI_REDIS_LOCK_URL", "redis://127.0.0.1:6379/1")
REDIS_GATEWAY_URL = os.environ.get("MULTI_REDIS_GATEWAY_URL", "redis://127.0.0.1:6379/2")
RASA_START_S = 300  # two models loading at once on a small machine


@dataclass
class MultiStack:
    run_dir: Path
    base_port: int
    db_prefix: str
    model: str
    extra_env: dict[str, str] = field(default_factory=dict)  # added to every process's environment
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def ledger_url(self) -> str:
        return f"http://127.0.0.1:{self.base_port + 80}"

    @property
    def action_port(self) -> int:
        return self.base_port + 55

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.base_port + 5}", f"http://127.0.0.1:{self.base_port + 6}"]

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.base_port + 90}"

    @property
    def redis_lock_url(self) -> str:
        return REDIS_LOCK_URL

    @property
    def tracker_db(self) -> str:
        return self.db_prefix

    @property
    def tracker_db_url(self) -> str:
        return f"postgresql://{PG_USER}@{PG}/{self.tracker_db}"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://{PG_USER}@{PG}/{self.db_prefix}_ledger"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("RASA_URL", "RASA_URLS", "RASA_TRACKER_DB", "RASA_MODEL"):
            env.pop(name, None)
        env.update(
            {
                "LEDGER_PORT": str(self.base_port + 80),
                "LEDGER_URL": self.ledger_url,
                "ACTION_SERVER_PORT": str(self.action_port),
                "ACTION_SERVER_URL": f"http://127.0.0.1:{self.action_port}/webhook",
                "GATEWAY_PORT": str(self.base_port + 90),
                "DATABASE_URL": self.database_url,
                "RASA_TRACKER_DB_URL": self.tracker_db_url,
                "RASA_LOCK_STORE_URL": REDIS_LOCK_URL,
                "RASA_URLS": ",".join(self.rasa_urls),
                "REDIS_URL": REDIS_GATEWAY_URL,
                "STACK_RUN_DIR": str(self.run_dir),
                "HUANXIN_EVENTS_DB": str(self.run_dir / "events.sqlite3"),
            }
        )
        env.update(self.extra_env)
        return env

    # ---- processes ------------------------------------------------------------------------
    def _run(self, name: str, shell: str, env: dict[str, str] | None = None) -> None:
        """`shell` runs after scripts/env.sh (secrets, RASA_HOME_DIR) in bash; output in <name>.log;
        ``env`` overrides some of the stack's variables for this process."""
        log = open(self.run_dir / f"{name}.log", "wb")
        proc = subprocess.Popen(
            ["bash", "-c", f". scripts/env.sh && {shell}"],
            cwd=REPO,
            env={**self.env(), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pids[name] = proc.pid
        (self.run_dir / f"{name}.pid").write_text(str(proc.pid))

    def _psql(self, sql: str) -> None:
        host, port = PG.split(":")
        subprocess.run(
            ["psql", "-h", host, "-p", port, "-U", PG_USER, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
            check=True,
            capture_output=True,
        )

    def _wait(self, name: str, url: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if wait_http(url, 2):
                return
            if not self._alive(name):
                raise RuntimeError(f"{name} exited during start-up:\n{self.log_tail(name)}")
        raise RuntimeError(f"{name} did not answer {url} within {seconds:.0f}s:\n{self.log_tail(name)}")

    def _alive(self, name: str) -> bool:
        try:
            os.kill(self.pids[name], 0)
            return True
        except OSError:
            return False

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.run_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for db in (self.tracker_db, f"{self.db_prefix}_ledger"):
            self._psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            self._psql(f'CREATE DATABASE "{db}"')
        # both Rasa first: they take longest; the tracker tables are created by whichever is first
        for index, url in enumerate(self.rasa_urls):
            port = url.rsplit(":", 1)[1]
            self._run(
                f"rasa{'AB'[index]}",
                f'cd bot && exec env HOME="$RASA_HOME_DIR" TMPDIR="$RASA_HOME_DIR/tmp" '
                f'.venv/bin/rasa run --enable-api --jwt-secret "$RASA_JWT_SECRET" --jwt-method HS256 '
                f'--model "{self.model}" --endpoints endpoints.yml '
                f"--credentials credentials.yml --interface 127.0.0.1 --port {port}",
            )
        subprocess.run(
            ["bash", "-c", ". scripts/env.sh && cd backend && .venv/bin/ledger migrate && .venv/bin/ledger seed-demo"],
            cwd=REPO,
            env=self.env(),
            check=True,
            capture_output=True,
        )
        self._run("backend", "cd backend && exec .venv/bin/ledger serve")
        self._run(
            "actions",
            'cd bot && exec env HOME="$RASA_HOME_DIR" TMPDIR="$RASA_HOME_DIR/tmp" '
            '.venv/bin/python -m actions.server --port "$ACTION_SERVER_PORT"',
        )
        self._run("gateway", "cd backend && exec .venv/bin/python -m gateway serve")
        self._wait("backend", f"{self.ledger_url}/healthz", 60)
        self._wait("actions", f"http://127.0.0.1:{self.action_port}/health", 120)
        self._wait("gateway", f"{self.gateway_url}/healthz", 60)
        for index, url in enumerate(self.rasa_urls):
            self._wait(f"rasa{'AB'[index]}", f"{url}/version", RASA_START_S)

    def start_gateway(self, name: str, port: int, rasa_urls: list[str]) -> str:
        """Another gateway process (after start()) on ``port`` that sends turns to ``rasa_urls`` only;
        it shares the stack's database and Redis. Returns its base URL once it answers."""
        self._run(
            name,
            "cd backend && exec .venv/bin/python -m gateway serve",
            {"GATEWAY_PORT": str(port), "RASA_URLS": ",".join(rasa_urls)},
        )
        url = f"http://127.0.0.1:{port}"
        self._wait(name, f"{url}/healthz", 60)
        return url

    def stop(self) -> None:
        for pid in list(self.pids.values()):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + 15
        for name, pid in list(self.pids.items()):
            while time.monotonic() < deadline and self._alive(name):
                time.sleep(0.2)
            if self._alive(name):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
            del self.pids[name]


def trained_model() -> str:
    model = os.environ.get("HUANXIN_MULTI_MODEL")
    if model:
        return model
    out = subprocess.run(["scripts/train.sh"], cwd=REPO, check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]
