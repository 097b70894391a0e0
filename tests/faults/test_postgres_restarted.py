"""Restart PostgreSQL while borrowers chat and the ledger is read: every borrower message is
answered once, and once PostgreSQL is back every service works again without being restarted
(their pools drop the dead connections: pre-ping, reconnect), with figures that match the ledger.

Runs last: restarting PostgreSQL disturbs everything else using it on the machine."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor

from stack_helpers.e2e_stack import DEMO, http_json, status_figures
from stack_helpers.web_chat import assert_every_message_answered_once

BORROWERS = ("D3", "D5", "D6")
LOAD_BEFORE_S = 1.5  # load running before the restart
LOAD_AFTER_S = 4.0  # and after PostgreSQL is back


def pg_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]  # one cluster, as on the test machine
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        timeout=120,
        capture_output=True,
    )


def postgres_is_up() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0


class Probe:
    """A loop of GET requests, each recorded with when it started and what it got."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url, self.headers = url, headers or {}
        self.calls: list[tuple[float, int | str]] = []

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                status, _ = http_json("GET", self.url, headers=self.headers, timeout=10)
            except (urllib.error.URLError, OSError) as exc:
                status = type(exc).__name__
            self.calls.append((started, status))
            time.sleep(0.05)

    def failures_after(self, moment: float) -> list[int | str]:
        return [status for started, status in self.calls if started >= moment and status != 200]


def test_postgres_restarted_under_load_every_message_answered_and_services_recover_by_themselves(stack, web_chat):
    pids = {name: p.pid for name, p in stack.processes.items()}
    chats = {key: web_chat("zh") for key in BORROWERS}
    with ThreadPoolExecutor(len(chats)) as pool:
        verified = dict(
            zip(chats, pool.map(lambda key: chats[key].verify(DEMO[key], "我欠多少钱"), chats), strict=True)
        )
    for key, reply in verified.items():
        assert DEMO[key].name in reply, (key, reply)

    session = stack.ledger.verify(DEMO["D5"])
    probes = [
        Probe(
            f"{stack.ledger.url}/api/v1/loans/{DEMO['D5'].loan_number}/status",
            {
                "Authorization": f"Bearer {stack.ledger.token}",
                "X-Verification-Token": session.token,
                "X-Conversation-Id": session.conversation_id,
            },
        ),
        Probe(f"{stack.gateway_url}/healthz"),
    ]
    stop = threading.Event()

    def chat_load(key: str) -> None:
        while not stop.is_set():
            chats[key].say("我现在欠多少钱")
            time.sleep(0.2)  # a borrower's pace, under the gateway's per-conversation limits

    workers = [threading.Thread(target=p.run, args=(stop,)) for p in probes]
    workers += [threading.Thread(target=chat_load, args=(key,)) for key in chats]
    for w in workers:
        w.start()
    try:
        time.sleep(LOAD_BEFORE_S)
        pg_ctl("restart")
        back = time.monotonic()
        time.sleep(LOAD_AFTER_S)
    finally:
        stop.set()
        for w in workers:
            w.join(60)
        if not postgres_is_up():
            pg_ctl("start")

    for probe in probes:  # once PostgreSQL is back, no request fails (the pools pre-ping)
        assert probe.failures_after(back) == [], (probe.url, probe.failures_after(back))
    for key, chat in chats.items():
        assert_every_message_answered_once(chat)
        now = chat.say("我欠多少钱", wait_for_bot=True)
        expected = status_figures(stack.ledger.verify(DEMO[key]).status(DEMO[key].loan_number), "zh")
        assert all(figure in now for figure in expected), (key, expected, now)
    assert {name: p.pid for name, p in stack.processes.items()} == pids, "a service was restarted"
    for process in stack.processes.values():
        assert process.healthy(1), f"{process.name} does not answer at {process.health_url}"
