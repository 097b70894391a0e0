"""kill -9 the action server while a verified borrower asks for their status: the borrower is
answered (a bot or system message, never silence, never figures it cannot have); once the action
server is started again the same conversation (verified again: the token was in the killed
process's memory) gets the ledger's figures."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, MONEY_PATTERN, status_figures
from stack_helpers.web_chat import assert_every_message_answered_once


def test_action_server_killed_mid_conversation_borrower_is_answered_then_gets_the_ledgers_figures(stack, web_chat):
    who = DEMO["D2"]
    chat = web_chat("zh")
    assert who.name in chat.verify(who, "我欠多少钱"), chat.dump()

    stack.kill("actions")
    down = chat.say("我现在到底欠多少钱")
    assert not MONEY_PATTERN.search(down.text), down  # no figure without the ledger behind it

    stack.start("actions")
    back = chat.say("我欠多少钱", wait_for_bot=True)
    # The verification token lives in the action server's memory (bot/actions/vault.py): a
    # restarted action server asks again, then answers the question that was asked.
    assert "核实" in back, back
    chat.say(who.phone)
    chat.say(who.dob)
    back = chat.say(who.id_last4)
    expected = status_figures(stack.ledger.verify(who).status(who.loan_number), "zh")
    assert expected and all(figure in back for figure in expected), (expected, back)
    assert_every_message_answered_once(chat)  # the message sent while it was down included
