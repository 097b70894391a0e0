"""Fault tests against the real stack started by scripts/faults.sh (scripts/e2e.sh's stack on
ports of its own, ledger and gateway on PostgreSQL): processes are killed with SIGKILL in the
middle of conversations and PostgreSQL is restarted under load.

Run everything:   scripts/faults.sh      (or `make test-faults`)

Each test leaves the whole stack running: what it killed is started again by scripts/stack.sh
(STACK_ONLY=<name>), and the fixture `stack` restarts anything a failed test left down.
The slow faults run last (Rasa takes ~35 s to load its model; restarting PostgreSQL disturbs
everything else on the machine).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

import pytest
from stack_helpers.e2e_stack import Ledger, StackProcess, setting, stack_processes
from stack_helpers.web_chat import WebChat

ORDER = (
    "test_action_server_killed",
    "test_ledger_killed",
    "test_postgres_drops_connections",
    "test_rasa_killed",
    "test_postgres_restarted",
)


def pytest_collection_modifyitems(session, config, items):
    def rank(item) -> int:
        name = item.module.__name__.rsplit(".", 1)[-1]
        return ORDER.index(name) if name in ORDER else -1

    items.sort(key=rank)


@dataclass
class Stack:
    processes: dict[str, StackProcess]
    ledger: Ledger
    gateway_url: str
    database_url: str

    def kill(self, name: str) -> None:
        """kill -9, and wait until the process is gone."""
        self.processes[name].stop(signal.SIGKILL)

    def start(self, name: str) -> None:
        self.processes[name].start()

    def heal(self) -> None:
        for process in self.processes.values():
            if not process.healthy(1):
                process.start()


@pytest.fixture(scope="session")
def stack_session() -> Stack:
    database_url = os.environ.get("DATABASE_URL", "")
    if not os.environ.get("STACK_RUN_DIR") or not database_url.startswith("postgresql"):
        pytest.skip("the fault tests need the stack of scripts/faults.sh (STACK_RUN_DIR, DATABASE_URL on PostgreSQL)")
    processes = stack_processes()
    for process in processes.values():
        assert process.healthy(10), f"{process.name} does not answer at {process.health_url}"
    token = setting("LEDGER_API_TOKEN")
    assert token, "LEDGER_API_TOKEN is neither in the environment nor in .env.local"
    return Stack(
        processes,
        Ledger(os.environ["LEDGER_URL"], token),
        f"http://127.0.0.1:{os.environ['GATEWAY_PORT']}",
        database_url,
    )


@pytest.fixture
def stack(stack_session):
    """The running stack; after the test, whatever it left down is started again."""
    yield stack_session
    stack_session.heal()


@pytest.fixture
def web_chat(stack, request):
    """A factory of borrowers in the web chat; prints their transcripts when the test fails."""
    chats: list[WebChat] = []

    def new(language: str = "zh") -> WebChat:
        chat = WebChat(stack.gateway_url, language)
        chats.append(chat)
        return chat

    yield new
    report = getattr(request.node, "rep_call", None)
    for chat in chats:
        if report is not None and report.failed:
            print(f"\n--- transcript of {chat.conversation_id} ({chat.reconnects} reconnects)\n{chat.dump()}")
        chat.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
