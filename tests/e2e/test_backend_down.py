"""The ledger stopped: the bot answers politely and offers a person (never silence, never a
crash); once the ledger is back, the same conversation gets its figures.

Stops the ledger process by its PID ($STACK_RUN_DIR/backend.pid) and starts it again with
scripts/stack.sh (e2e_stack.StackProcess); marked `stops_backend`, so it runs after every other test.
"""

from __future__ import annotations

import os

import pytest
from stack_helpers.e2e_stack import DEMO, MONEY_PATTERN, stack_processes, status_figures

pytestmark = pytest.mark.stops_backend


@pytest.fixture
def backend(ledger):
    process = stack_processes()["backend"]
    if not os.environ.get("STACK_RUN_DIR") or not (process.run_dir / "backend.pid").exists():
        pytest.skip("STACK_RUN_DIR/backend.pid is missing: the ledger was not started by scripts/stack.sh")
    yield process
    if not process.healthy():
        process.start()


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
