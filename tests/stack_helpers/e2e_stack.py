"""Helpers of the end-to-end conversations: a chat over Rasa's REST webhook, the ledger API
with verifications of the test's own, the demo borrowers, and display formats of figures.

The stack is the real one (ledger, action server, Rasa, gateway), started by scripts/e2e.sh;
URLs come from the environment that script exports (RASA_URL, LEDGER_URL, GATEWAY_PORT,
STACK_RUN_DIR, DATABASE_URL) and the API token from LEDGER_API_TOKEN or .env.local.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TURN_TIMEOUT_S = 30


def env_file_value(name: str) -> str | None:
    path = REPO / ".env.local"
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        if line.startswith(name + "="):
            return line.split("=", 1)[1].strip()
    return None


def setting(name: str) -> str | None:
    return os.environ.get(name) or env_file_value(name)


@dataclass(frozen=True)
class Demo:
    key: str
    name: str
    language: str
    phone: str
    dob: str
    id_last4: str
    several_loans: tuple[str, ...] = ()  # the loan numbers of a borrower with more than one (D8)

    @property
    def loan_number(self) -> str:
        assert not self.several_loans, f"{self.key} has several loans: use .loans"
        return "HX" + self.key[1:].rjust(10, "0")

    @property
    def loans(self) -> tuple[str, ...]:
        return self.several_loans or (self.loan_number,)


# the demo portfolio (backend/src/ledger/domain/demo.py; docs/contracts.md for the loan numbers)
DEMO = {
    d.key: d
    for d in (
        Demo("D1", "王芳", "zh", "13800000001", "1990-03-15", "4321"),
        Demo("D2", "李强", "zh", "13800000002", "1985-07-02", "5678"),
        Demo("D3", "张伟", "zh", "13800000003", "1978-11-30", "9012"),
        Demo("D4", "Emily Chen", "en", "13800000004", "1992-06-21", "3456"),
        Demo("D5", "陈静", "zh", "13800000005", "1995-01-09", "7890"),
        Demo("D6", "刘洋", "zh", "13800000006", "1988-09-18", "2468"),
        Demo("D7", "Michael Brown", "en", "13800000007", "1980-12-05", "1357"),
        Demo("D8", "赵敏", "zh", "13800000008", "1993-04-12", "6802", ("HX0000000008", "HX0000000009")),
    )
}


def http_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = TURN_TIMEOUT_S
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw) if raw else None
        except ValueError:
            return exc.code, raw.decode(errors="replace")


# ---- display formats of the bot (bot/actions/texts.py): checked independently here
def money_text(amount: str, lang: str) -> str:
    text = f"{Decimal(amount):,.2f}"
    return f"{text} 元" if lang == "zh" else f"CNY {text}"


def date_text(iso: str, lang: str) -> str:
    d = date.fromisoformat(iso[:10])
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else f"{d.day} {d.strftime('%b')} {d.year}"


def status_figures(status: dict, lang: str) -> list[str]:
    """What an answer to "how much do I owe" must show for this LoanStatus, as displayed."""
    figures = []
    if status["days_past_due"] and Decimal(status["overdue"]["total"]) > 0:
        figures += [
            money_text(status["overdue"][k], lang)
            for k in ("total", "principal", "interest", "penalty_interest", "late_fees")
        ]
        figures += [money_text(status["amount_to_bring_current"], lang), str(status["days_past_due"]), status["bucket"]]
    if status.get("next_due"):
        figures += [money_text(status["next_due"]["amount"], lang), date_text(status["next_due"]["due_date"], lang)]
    return figures


MONEY_PATTERN = re.compile(r"\d[\d,]*\.\d{2}")


@dataclass
class Reply:
    messages: list[dict]

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def buttons(self) -> list[dict]:
        return [b for m in self.messages for b in m.get("buttons") or []]

    def button(self, title_part: str) -> dict:
        for b in self.buttons:
            if title_part in b.get("title", ""):
                return b
        raise AssertionError(f"no button containing {title_part!r} in {self.buttons!r}")

    def __contains__(self, needle: str) -> bool:
        return needle in self.text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        buttons = [b.get("title") for b in self.buttons]
        return f"Reply({self.text!r}, buttons={buttons!r})"


@dataclass
class Chat:
    """One conversation over POST {RASA_URL}/webhooks/rest/webhook with its own sender id."""

    rasa_url: str
    flow: str
    sender: str = ""
    transcript: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.sender:
            self.sender = f"e2e-{self.flow}-{uuid.uuid4().hex[:12]}"

    def say(self, message: str) -> Reply:
        status, body = http_json(
            "POST", f"{self.rasa_url}/webhooks/rest/webhook", {"sender": self.sender, "message": message}
        )
        assert status == 200, f"Rasa answered {status}: {body!r}"
        reply = Reply(body or [])
        self.transcript.append(("user", message))
        self.transcript.append(("bot", reply.text))
        return reply

    def verify(self, who: Demo, first_message: str | None = None) -> Reply:
        """Answers the verification form (started by `first_message` when given) and returns
        the reply to the last answer (verified, and the original question's answer)."""
        if first_message is not None:
            asked = self.say(first_message)
            assert asked.text, f"no answer to {first_message!r}"
        self.say(who.phone)
        self.say(who.dob)
        return self.say(who.id_last4)

    def dump(self) -> str:
        return "\n".join(f"{who:>4}: {text}" for who, text in self.transcript)


class Ledger:
    """The ledger API as the test itself sees it: verifications of its own (its own
    conversation id), borrower-scoped reads with that token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return http_json(
            method, f"{self.url}/api/v1{path}", body, {"Authorization": f"Bearer {self.token}", **(headers or {})}
        )

    def verify(self, who: Demo) -> Session:
        conversation = f"e2e-check-{uuid.uuid4().hex[:12]}"
        status, body = self.call(
            "POST",
            "/verifications",
            {"conversation_id": conversation, "phone": who.phone, "date_of_birth": who.dob, "id_last4": who.id_last4},
        )
        assert status == 201, f"verification of {who.key} through the API answered {status}: {body!r}"
        return Session(self, body["token"], conversation, body["borrower"]["borrower_id"])

    def try_verify(self, who: Demo) -> tuple[int, Any]:
        return self.call(
            "POST",
            "/verifications",
            {
                "conversation_id": f"e2e-check-{uuid.uuid4().hex[:12]}",
                "phone": who.phone,
                "date_of_birth": who.dob,
                "id_last4": who.id_last4,
            },
        )


@dataclass
class Session:
    ledger: Ledger
    token: str
    conversation_id: str
    borrower_id: str

    def get(self, path: str) -> Any:
        status, body = self.ledger.call(
            "GET", path, headers={"X-Verification-Token": self.token, "X-Conversation-Id": self.conversation_id}
        )
        assert status == 200, f"GET {path} answered {status}: {body!r}"
        return body

    def status(self, loan_number: str) -> dict:
        return self.get(f"/loans/{loan_number}/status")


def ledger_rows(database_url: str, sql: str, **params: Any) -> list[dict]:
    """Rows of the ledger's own database (the ledger API has no read endpoint for
    escalations): through the backend's engine, so SQLite and PostgreSQL both work."""
    from sqlalchemy import text

    from ledger.db.session import create_engine

    async def run() -> list[dict]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(text(sql), params)
                return [dict(row._mapping) for row in result]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def create_desk_account(database_url: str, role: str, display_name: str) -> tuple[str, str]:
    """A new desk account of ``role`` on the stack's database (the gateway's create-agent
    command): its username and password."""
    username, password = f"e2e.{role}.{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    env = {**os.environ, "GATEWAY_AGENT_PASSWORD": password, "DATABASE_URL": database_url}
    command = ["-m", "gateway", "create-agent", username, "--role", role, "--display-name", display_name]
    subprocess.run([str(REPO / "backend" / ".venv" / "bin" / "python"), *command],
                   cwd=REPO / "backend", env=env, check=True, capture_output=True)  # fmt: skip
    return username, password


def wait_http(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed process may wait unreaped under PID 1)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@dataclass
class StackProcess:
    """One process of scripts/stack.sh (backend, actions, rasa, gateway): stopped by its PID
    ($STACK_RUN_DIR/<name>.pid), started again by scripts/stack.sh itself (STACK_ONLY=<name>),
    so with the command and environment of the stack, and waited for until healthy."""

    name: str
    health_url: str
    run_dir: Path

    @property
    def pid(self) -> int:
        return int((self.run_dir / f"{self.name}.pid").read_text().strip())

    def healthy(self, seconds: float = 2) -> bool:
        return wait_http(self.health_url, seconds)

    def stop(self, sig: int = signal.SIGTERM, seconds: float = 15) -> None:
        pid = self.pid
        os.kill(pid, sig)
        deadline = time.monotonic() + seconds
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(pid), f"{self.name} (pid {pid}) did not stop on signal {sig}"

    def start(self) -> None:
        result = subprocess.run(
            [str(REPO / "scripts" / "stack.sh"), "start"],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "STACK_ONLY": self.name},
            timeout=300,
        )
        assert result.returncode == 0, f"{self.name} did not start again:\n{result.stdout}\n{result.stderr}"
        assert self.healthy(), f"{self.name} started but {self.health_url} does not answer"


def stack_processes() -> dict[str, StackProcess]:
    """The processes scripts/stack.sh started, by name, from the environment scripts/e2e.sh exports."""
    run_dir = Path(os.environ.get("STACK_RUN_DIR") or REPO / "var" / "run")
    return {
        "backend": StackProcess("backend", f"{os.environ.get('LEDGER_URL', 'http://127.0.0.1:8080')}/healthz", run_dir),
        "actions": StackProcess(
            "actions", f"http://127.0.0.1:{os.environ.get('ACTION_SERVER_PORT', '5055')}/health", run_dir
        ),
        "rasa": StackProcess(
            "rasa", f"{os.environ.get('RASA_URL', 'http://127.0.0.1:5005')}/version", run_dir
        ),  # /status needs a JWT
        "gateway": StackProcess(
            "gateway", f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8090')}/healthz", run_dir
        ),
    }


def conversation_facts(database_url: str, sender: str, ready: Any = None, seconds: float = 20.0) -> dict | None:
    """The analytics facts row of a conversation (the stack's consumer writes it within about a
    second of Rasa's events), once `ready(row)` holds; the last row seen (or None) on time-out."""
    deadline = time.monotonic() + seconds
    row = None
    while True:
        rows = ledger_rows(database_url, "SELECT * FROM conversation_facts WHERE conversation_id = :c", c=sender)
        row = rows[0] if rows else None
        if row is not None and (ready is None or ready(row)):
            return row
        if time.monotonic() > deadline:
            return row
        time.sleep(0.3)
