"""kill -9 Rasa while a turn is in flight: the borrower is told the assistant cannot answer (for
that message and for the next, sent while Rasa is down); once Rasa is started again answers
resume with the ledger's figures, and the transcript keeps every borrower message in order."""

from __future__ import annotations

import time

from stack_helpers.e2e_stack import DEMO, status_figures
from stack_helpers.web_chat import assert_every_message_answered_once


def test_rasa_killed_mid_turn_borrower_is_told_then_answers_resume_and_nothing_is_lost(stack, web_chat):
    who = DEMO["D4"]
    chat = web_chat("en")
    assert who.name in chat.verify(who, "hi, how much do I owe?"), chat.dump()

    in_flight = chat.send("how much do I owe now?")
    time.sleep(0.05)  # the message has reached the gateway and is on its way to Rasa
    stack.kill("rasa")
    assert in_flight.result().messages, "the message in flight when Rasa died got no answer"
    down = chat.say("hello? are you there?")
    told = [m for m in down.messages if m["sender"] == "system"]
    assert told and "assistant" in told[0]["text"].lower(), down

    stack.start("rasa")
    back = chat.say("how much do I owe?", wait_for_bot=True)
    expected = status_figures(stack.ledger.verify(who).status(who.loan_number), "en")
    assert expected and all(figure in back for figure in expected), (expected, back)
    assert_every_message_answered_once(chat)
