"""Headless Chromium (Debian's /usr/bin/chromium driven by Playwright; no browser download)
against an in-process stack: the real ledger (SQLite, migrated and seeded with the demo
portfolio), a scripted bot that uses the ledger API like the action server, and the gateway.

Run from the backend environment:  cd backend && .venv/bin/python -m pytest ../tests/browser -q
Screenshots land in test-artifacts/browser/ at the repository root.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from stack_helpers.browser_stack import AGENT_PASSWORD, LEDGER_TOKEN
from stack_helpers.chromium_pages import launched_chromium

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """Runs ledger, scripted bot and gateway on one asyncio loop in a background thread."""

    def __init__(self, tmp: Path, desk=None, events=None, agents=()) -> None:
        self.tmp = tmp
        self.desk = desk  # the gateway's DeskSettings (None: the defaults)
        self.events = events  # the gateway's analytics StreamSettings (None: off)
        self.agents = tuple(agents)  # (username, role, display name) besides li.na and boss
        self.loop = asyncio.new_event_loop()
        self.runners = []
        self.ports = {name: free_port() for name in ("ledger", "bot", "gateway")}
        self.database_url = f"sqlite+aiosqlite:///{tmp / 'stack.sqlite3'}"
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def run(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _serve(self, app, port: int, **options) -> None:
        from aiohttp import web

        runner = web.AppRunner(app, **options)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self.runners.append(runner)

    async def _start(self) -> None:
        from stack_helpers.scripted_bot import make_scripted_bot

        from gateway.agents import DeskAuth
        from gateway.settings import GatewaySettings
        from gateway.web import init_app as gateway_app
        from gateway.web import server_options
        from ledger.db.session import create_engine, create_session_factory
        from ledger.services.seeding import seed_demo
        from ledger.settings import Settings
        from ledger.web.app import init_app as ledger_app

        engine = create_engine(self.database_url)
        sessions = create_session_factory(engine)
        await seed_demo(sessions, salt="browser-salt", today=datetime.now(ZoneInfo("Asia/Shanghai")).date())
        auth = DeskAuth(sessions, 3600)
        await auth.create_agent("li.na", AGENT_PASSWORD, "agent", "李娜 Li Na")
        await auth.create_agent("boss", AGENT_PASSWORD, "supervisor", "Supervisor")
        for username, role, display_name in self.agents:
            await auth.create_agent(username, AGENT_PASSWORD, role, display_name)
        await engine.dispose()
        ledger_settings = Settings(
            database_url=self.database_url,
            port=self.ports["ledger"],
            api_token=LEDGER_TOKEN,
            id_hash_salt="browser-salt",
        )
        await self._serve(ledger_app(ledger_settings), self.ports["ledger"])
        await self._serve(
            make_scripted_bot(f"http://127.0.0.1:{self.ports['ledger']}", LEDGER_TOKEN), self.ports["bot"]
        )
        settings = GatewaySettings(
            database_url=self.database_url,
            port=self.ports["gateway"],
            rasa_urls=(f"http://127.0.0.1:{self.ports['bot']}",),
            **({"desk": self.desk} if self.desk is not None else {}),
            **({"events": self.events} if self.events is not None else {}),
        )
        await self._serve(gateway_app(settings), self.ports["gateway"], **server_options(settings))

    def start(self) -> None:
        from ledger.cli import migrate

        migrate(self.database_url)
        self.thread.start()
        self.run(self._start())

    def start_aside(self) -> None:
        """start() from another thread: the sync Playwright of other tests may run a loop here."""
        starter = threading.Thread(target=self.start)
        starter.start()
        starter.join(120)

    def stop(self) -> None:
        async def cleanup():
            for runner in reversed(self.runners):
                await runner.cleanup()

        self.run(cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("stack"))
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    yield from launched_chromium()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
