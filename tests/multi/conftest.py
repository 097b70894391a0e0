"""Two Rasa instances behind the gateway (issue 5): opt-in, since it starts a whole stack with
two Rasa processes (~1.1 GiB RSS each, ~1-2 min to load their models on two cores).

    HUANXIN_MULTI_RASA=1 backend/.venv/bin/python -m pytest tests/multi -q

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth; MULTI_PG, MULTI_PG_USER) and
Redis at 127.0.0.1:6379. The stack lives on ports 31xxx (MULTI_PORT_BASE) with its own
databases (MULTI_DB_PREFIX, default huanxin_multi) and run directory (STACK_RUN_DIR, default
var/multi); it is stopped by PID at the end of the session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from stack_helpers.e2e_stack import REPO, Ledger, setting
from stack_helpers.multi_stack import MultiStack, trained_model


@pytest.fixture(scope="session")
def stack():
    if os.environ.get("HUANXIN_MULTI_RASA") != "1":
        pytest.skip(
            "opt-in: set HUANXIN_MULTI_RASA=1 to start two Rasa instances (PostgreSQL tracker store, "
            "Redis lock store) behind the gateway; needs ~2.5 GiB of memory and PostgreSQL + Redis"
        )
    run_dir = Path(os.environ.get("STACK_RUN_DIR") or REPO / "var" / "multi")
    s = MultiStack(
        run_dir=run_dir,
        base_port=int(os.environ.get("MULTI_PORT_BASE", "31000")),
        db_prefix=os.environ.get("MULTI_DB_PREFIX", "huanxin_multi"),
        model=trained_model(),
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def ledger(stack) -> Ledger:
    token = setting("LEDGER_API_TOKEN")
    assert token, "LEDGER_API_TOKEN is neither in the environment nor in .env.local"
    return Ledger(stack.ledger_url, token)
