"""kill -9 the ledger in the middle of a borrower's acceptance of a repayment plan: the borrower
is told something (and no terms), the ledger holds nothing of the acceptance (no arrangement, no
instalments, no audit entry); once the ledger is started again the figures match it.

To kill it inside the acceptance's transaction (not before, not after), the test holds the
loan's row lock (SELECT ... FOR UPDATE, as the ledger's own lock_loan does) until PostgreSQL
shows the ledger waiting for it, then kills the ledger and lets go."""

from __future__ import annotations

import asyncio
import time

import asyncpg
from stack_helpers.e2e_stack import DEMO, MONEY_PATTERN, ledger_rows, status_figures
from stack_helpers.web_chat import assert_every_message_answered_once


class LoanRowLock:
    """The loan's row lock, held by a connection of the test's own."""

    def __init__(self, database_url: str, loan_number: str) -> None:
        self.dsn = database_url.replace("+asyncpg", "")
        self.loan_number = loan_number
        self.loop = asyncio.new_event_loop()

    def _run(self, coro):
        return self.loop.run_until_complete(coro)

    def __enter__(self) -> LoanRowLock:
        self.conn = self._run(asyncpg.connect(self.dsn))
        self._run(self.conn.execute("BEGIN"))
        locked = self._run(
            self.conn.fetchval("SELECT id FROM loans WHERE loan_number = $1 FOR UPDATE", self.loan_number)
        )
        assert locked, self.loan_number
        return self

    def someone_waits(self) -> bool:
        return bool(
            self._run(
                self.conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
        )

    def __exit__(self, *exc) -> None:
        self._run(self.conn.execute("ROLLBACK"))
        self._run(self.conn.close())
        self.loop.close()


def arrangements_of(database_url: str, loan_number: str) -> list[str]:
    return [
        row["id"]
        for row in ledger_rows(
            database_url,
            """
        SELECT a.id FROM arrangements a JOIN loans l ON l.id = a.loan_id WHERE l.loan_number = :loan""",
            loan=loan_number,
        )
    ]


def accepted_audit_entries(database_url: str, loan_number: str) -> list[str]:
    return [
        row["arrangement_id"]
        for row in ledger_rows(
            database_url,
            """
        SELECT e.detail ->> 'arrangement_id' AS arrangement_id FROM audit_log e JOIN loans l ON l.id = e.loan_id
        WHERE e.action = 'offer_accepted' AND l.loan_number = :loan""",
            loan=loan_number,
        )
    ]


def test_ledger_killed_inside_a_plan_acceptance_leaves_nothing_of_it_and_the_borrower_is_told(stack, web_chat):
    who = DEMO["D1"]
    assert arrangements_of(stack.database_url, who.loan_number) == []
    chat = web_chat("zh")
    assert who.name in chat.verify(who, "我欠多少钱？"), chat.dump()
    chat.say("我最近失业了，暂时还不上")
    chat.say("暂时的")
    chat.say("每月八千左右")
    chat.say("3千")
    plans = chat.say("没有")
    extension = next(b for b in plans.buttons if "延长" in b["title"])
    summary = chat.say(f"选第{extension['title'].split('.')[0]}个")
    assert "确认" in summary, summary

    with LoanRowLock(stack.database_url, who.loan_number) as lock:
        accepting = chat.send("确认")
        deadline = time.monotonic() + 10
        while not lock.someone_waits():
            assert time.monotonic() < deadline, "the acceptance never reached the ledger's loan lock"
            time.sleep(0.02)
        stack.kill("backend")  # inside its transaction, waiting for the loan
    told = accepting.result()
    assert told.messages, "the borrower was told nothing about the acceptance"

    stack.start("backend")
    # killed inside the acceptance's transaction: none of it (arrangement, and so no instalments, audit entry)
    assert arrangements_of(stack.database_url, who.loan_number) == []
    assert accepted_audit_entries(stack.database_url, who.loan_number) == []
    assert not MONEY_PATTERN.search(told.text), told  # no terms announced for a plan that does not exist

    back = chat.say("我现在欠多少钱", wait_for_bot=True)
    status = stack.ledger.verify(who).status(who.loan_number)
    expected = status_figures(status, "zh")
    assert expected and all(figure in back for figure in expected), (expected, back)
    assert_every_message_answered_once(chat)
