"""The ledger stopped: the bot answers politely and offers a person (never silence, never a
crash); once the ledger is back, the same conversation gets its figures.

Stops the ledger process by its PID ($STACK_RUN_DIR/backend.pid) and starts it again with the
command of scripts/stack.sh; marked `stops_backend`, so it runs after every other test.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from e2e_stack import DEMO, MONEY_PATTERN, REPO, status_figures, wait_http

pytestmark = pytest.mark.stops_backend


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Backend:
    """The stack's ledger process: stop it by its PID, start it again as scripts/stack.sh does."""

    def __init__(self, url: str, run_dir: Path) -> None:
        self.url = url
        self.pid_file = run_dir / "backend.pid"
        self.running = True

    def stop(self) -> None:
        pid = int(self.pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), f"the ledger (pid {pid}) did not stop"
        self.running = False

    def start(self) -> None:
        # the command of scripts/stack.sh (start_one backend), its PID where `stack.sh stop` finds it
        log_dir = Path(os.environ.get("STACK_LOG_DIR") or REPO / "var" / "log")
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "backend.log", "ab") as log:
            process = subprocess.Popen([str(REPO / "backend" / ".venv" / "bin" / "ledger"), "serve"],
                                       cwd=REPO / "backend", stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid_file.write_text(f"{process.pid}\n")
        assert wait_http(f"{self.url}/healthz", 30), "the ledger did not come back"
        self.running = True


@pytest.fixture
def backend(ledger):
    run_dir = os.environ.get("STACK_RUN_DIR")
    if not run_dir or not (Path(run_dir) / "backend.pid").exists():
        pytest.skip("STACK_RUN_DIR/backend.pid is missing: the ledger was not started by scripts/stack.sh")
    b = Backend(ledger.url, Path(run_dir))
    yield b
    if not b.running:
        b.start()


def test_ledger_down_gets_a_polite_answer_and_a_human_offer_then_figures_once_it_is_back(chat, ledger, backend):
    who = DEMO["D5"]
    zh = chat()
    assert "没有逾期" in zh.verify(who, "我欠多少钱")  # verified while the ledger is up
    en = chat()
    assert "mobile number" in en.say("how much do I owe?").text  # the form needs no ledger

    backend.stop()
    down = zh.say("我现在欠多少钱")
    assert "系统暂时无法查询" in down and "人工" in down, down
    assert "/request_human" in {b["payload"] for b in down.buttons}
    assert not MONEY_PATTERN.search(down.text)

    en.say(who.phone)
    en.say(who.dob)
    down_en = en.say(who.id_last4)  # the verification itself needs the ledger
    assert "can't be reached" in down_en.text and "person" in down_en.text, down_en
    assert "/request_human" in {b["payload"] for b in down_en.buttons}

    backend.start()
    back = zh.say("我欠多少钱")
    expected = status_figures(ledger.verify(who).status(who.loan_number), "zh")
    assert expected and all(figure in back for figure in expected), (expected, back)
