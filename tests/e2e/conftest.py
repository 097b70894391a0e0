"""End-to-end conversations against the real stack started by scripts/e2e.sh (ledger, action
server, Rasa, gateway on test ports, fresh SQLite ledger seeded with the demo portfolio).

Run everything:   scripts/e2e.sh      (or `make test-e2e`)
Against a stack you started yourself, export what scripts/e2e.sh exports (RASA_URL,
LEDGER_URL, DATABASE_URL, STACK_RUN_DIR, ...) and run
    backend/.venv/bin/python -m pytest tests/e2e -q

Tests marked `stops_backend` stop the ledger process and start it again; they run after
every other test of the session (tests/browser included).
"""

from __future__ import annotations

import os

import pytest
from stack_helpers.e2e_stack import Chat, Ledger, setting, wait_http


def pytest_configure(config):
    config.addinivalue_line("markers", "stops_backend: stops and restarts the ledger process; runs last")
    config.addinivalue_line("markers", "reads_logs_last: reads the stack's logs after every other test")
    config.addinivalue_line(
        "markers", "reseeds_demo: re-seeds the demo portfolio (ledger seed-demo) before and after itself; runs first"
    )


def pytest_collection_modifyitems(session, config, items):
    def rank(item) -> int:
        if item.get_closest_marker("reseeds_demo"):
            return -1
        return 2 if item.get_closest_marker("reads_logs_last") else 1 if item.get_closest_marker("stops_backend") else 0

    items.sort(key=rank)  # stable: the order within each group stays


@pytest.fixture(scope="session")
def rasa_url() -> str:
    url = os.environ.get("RASA_URL")
    if not url:
        pytest.skip("RASA_URL is not set: run the end-to-end suite with scripts/e2e.sh (it starts the stack)")
    url = url.rstrip("/")
    assert wait_http(f"{url}/version", 5), f"Rasa does not answer at {url}/version"
    return url


@pytest.fixture(scope="session")
def ledger(rasa_url) -> Ledger:
    url = os.environ.get("LEDGER_URL") or "http://127.0.0.1:8080"
    token = setting("LEDGER_API_TOKEN")
    assert token, "LEDGER_API_TOKEN is neither in the environment nor in .env.local"
    assert wait_http(f"{url}/healthz", 5), f"the ledger does not answer at {url}/healthz"
    return Ledger(url, token)


@pytest.fixture(scope="session")
def database_url(rasa_url) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.skip("DATABASE_URL is not set (scripts/e2e.sh exports the ledger's)")
    return url


@pytest.fixture(scope="session")
def gateway_url(rasa_url) -> str:
    port = os.environ.get("GATEWAY_PORT")
    if not port:
        pytest.skip("GATEWAY_PORT is not set (scripts/e2e.sh exports the stack's)")
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def chat(rasa_url, request):
    """A factory of conversations, each with its own sender id; prints the transcripts of a
    failed test."""
    chats: list[Chat] = []

    def new(flow: str | None = None) -> Chat:
        c = Chat(rasa_url, flow or request.node.name[:40])
        chats.append(c)
        return c

    yield new
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for c in chats:
            print(f"\n--- transcript of {c.sender}\n{c.dump()}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
