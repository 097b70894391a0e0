"""No process of the stack writes what a borrower typed to prove who they are, nor a secret.

Runs after every other end-to-end and browser test (they verify all demo borrowers many times,
through Rasa and through the gateway), then reads every log the stack wrote.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from stack_helpers.e2e_stack import DEMO, setting

pytestmark = pytest.mark.reads_logs_last


def test_no_log_holds_an_identity_answer_or_a_secret():
    log_dir = os.environ.get("STACK_LOG_DIR")
    if not log_dir or not Path(log_dir).is_dir():
        pytest.skip("STACK_LOG_DIR is not set: the stack was not started by scripts/e2e.sh")
    logs = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in Path(log_dir).glob("*.log")}
    assert logs, f"no logs in {log_dir}"
    secrets = {
        name: setting(name)
        for name in (
            "LEDGER_API_TOKEN",
            "GATEWAY_SYSTEM_SECRET",
            "ACTION_SERVER_SECRET",
            "RASA_JWT_SECRET",
            "DESK_DEMO_PASSWORD",
        )
    }
    needles = {f"{d.key} phone": d.phone for d in DEMO.values()} | {f"{d.key} birth date": d.dob for d in DEMO.values()}
    needles |= {name: value for name, value in secrets.items() if value}
    found = [(what, log) for log, text in logs.items() for what, needle in needles.items() if needle in text]
    assert not found, f"found in the logs: {found}"
