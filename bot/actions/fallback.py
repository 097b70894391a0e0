"""Low-confidence messages and out-of-scope requests: never a dead end. The second misunderstanding
in a row offers a person; with plans on screen, "I don't have that much" offers a hardship review;
a question the assistant cannot answer says so, says where the answer can be had and offers a
person."""

from __future__ import annotations

from actions import readings, texts
from actions.base import LedgerAction
from actions.budget import correct_assessment
from actions.handoff import offer_hardship_review
from actions.loans import answer_loan_question
from actions.turn import Turn

MISSES_BEFORE_HUMAN = 2


class ActionClarify(LedgerAction):
    """nlu_fallback: a clarifying question; after two misses in a row, the offer of a human."""

    allowed_in_groups = True

    def name(self) -> str:
        return "action_clarify"

    async def handle(self, turn: Turn) -> None:
        if turn.slot("third_party"):  # what a third party can be told: how the borrower reaches us
            turn.say("third_party_contact", buttons=[texts.button("human", "/request_human", turn.lang)])
            return
        if await answer_loan_question(turn, reask=False):  # "which loan?" answered in words
            return
        if turn.slot("offered_plans") and readings.says_cannot_afford(turn.latest_text):
            offer_hardship_review(turn)  # "我一次拿不出那么多" with plans on screen: they do not fit
            return
        if correct_assessment(turn):  # "sorry, I meant expenses are 3000" after the plans: assessed again
            return
        misses = int(turn.slot("fallback_count") or 0) + 1
        turn.set("fallback_count", float(misses))
        if misses >= MISSES_BEFORE_HUMAN or turn.missed_last_turn():
            turn.offer_human("clarify_offer_human", awaiting="human_offer_fallback")
        else:
            turn.say("clarify")


class ActionHandleOutOfScope(LedgerAction):
    allowed_in_groups = True

    def name(self) -> str:
        return "action_handle_out_of_scope"

    async def handle(self, turn: Turn) -> None:
        if turn.slot("third_party"):  # not the list of account services: how the borrower reaches us
            turn.say("third_party_contact", buttons=[texts.button("human", "/request_human", turn.lang)])
            return
        if await answer_loan_question(turn, reask=False):  # "which loan?" answered in words
            return
        turn.offer_human("no_answer")  # what it cannot answer, where the answer can be had, a person
