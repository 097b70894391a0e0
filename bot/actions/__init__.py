"""The custom actions of the assistant, and their composition root.

rasa_sdk (``python -m actions.server``) imports this package and every module in it, and
registers every concrete Action subclass it finds. Importing any module of the package runs
this file first, so the tables below are installed before any action runs.

Layers (tests/bot/test_import_contract.py checks them; a module imports only from the layers
above it, and nothing closes a circle):

1. Infrastructure, no Turn: ``parsing``, ``texts``, ``ledger_client``, ``vault``, ``outbox``,
   ``system`` (signed gateway messages), ``slots`` (shared slot and form names), ``dispatch``
   (the Dispatch type), ``third_party``, ``message_slots``, ``domain_responses``, ``group_chat``,
   ``readings`` (what a message says besides its intent), ``withdrawal_words`` (the words that
   take back a record filed by mistake).
2. The turn and the base classes: ``turn`` (Turn: one action run, the verification gate),
   ``base`` (LedgerAction, TurnFormValidation, ledger calls, refusals, crash handling).
3. Shared steps that several features use: ``loan_status``, ``handoff`` (summary and
   escalation), ``offers`` (showing evaluated plans), ``plans`` (choosing, accepting, declining
   an offered plan), ``budget``, ``corrections`` (withdrawing a dispute or complaint filed by
   mistake); above ``loan_status``, ``loans`` (the borrower's loans and which one a request is
   about: named, assumed or asked, and the answer to "which loan?"); over them ``confirm`` (a
   consequential act is recorded only when clearly meant, otherwise confirmed first).
4. Features, the modules that define actions: ``account``, ``contact``, ``dialogue``,
   ``disputes``, ``escalation``, ``fallback``, ``handback``, ``hardship``, ``language``,
   ``payments``, ``promises``, ``session``, ``smalltalk``, ``tips``, ``verification``. A
   feature never imports another: when it hands a turn to another feature's action it looks the
   action up in ``turn.dispatch``, built here.
5. This composition root, which imports the features. ``server`` is the action server's
   entry point.
"""

from __future__ import annotations

from actions.account import ActionExplainConsequences, ActionExplainFees, ActionShowOverdueStatus
from actions.base import LedgerAction
from actions.contact import ActionStopContact
from actions.dialogue import ActionHandleAffirm, ActionHandleDeny, ActionHandleInform
from actions.dispatch import Dispatch, install
from actions.disputes import ActionOpenDispute
from actions.escalation import ActionFileComplaint, ActionRequestHuman
from actions.fallback import ActionClarify, ActionHandleOutOfScope
from actions.handback import ActionHandback
from actions.hardship import ActionStartHardship
from actions.language import ActionChangeLanguage
from actions.payments import ActionCheckPayment, ActionPayNow
from actions.promises import ActionPromiseToPay
from actions.smalltalk import ActionGoodbye, ActionGreet, ActionIAmABot, ActionThank
from actions.tips import ActionFinancialTips
from actions.turn import HandlerClass

# Which action answers which intent: the same mapping as the rules (bot/data/rules/*.yml;
# tests/bot/test_dispatch_table.py keeps the two equal). Where one action answers several
# intents, the first is the one whose question is asked again after an expired verification.
HANDLERS: dict[str, type[LedgerAction]] = {
    "greet": ActionGreet,
    "goodbye": ActionGoodbye,
    "thank": ActionThank,
    "bot_challenge": ActionIAmABot,
    "change_language": ActionChangeLanguage,
    "ask_overdue_status": ActionShowOverdueStatus,
    "ask_fees": ActionExplainFees,
    "ask_consequences": ActionExplainConsequences,
    "report_hardship": ActionStartHardship,
    "request_payment_plan": ActionStartHardship,
    "request_fee_waiver": ActionStartHardship,
    "promise_to_pay": ActionPromiseToPay,
    "pay_now": ActionPayNow,
    "already_paid": ActionCheckPayment,
    "dispute_debt": ActionOpenDispute,
    "request_human": ActionRequestHuman,
    "stop_contact": ActionStopContact,
    "complain": ActionFileComplaint,
    "ask_financial_tips": ActionFinancialTips,
    "inform": ActionHandleInform,
    "affirm": ActionHandleAffirm,
    "deny": ActionHandleDeny,
    "out_of_scope": ActionHandleOutOfScope,
    "nlu_fallback": ActionClarify,
    "handback": ActionHandback,
}

# Which action reads the borrower's reply (inform) to a question the assistant asked and waits
# on (slot `awaiting`); a denial drops these questions (actions/dialogue.py).
REPLY_HANDLERS: dict[str, type[LedgerAction]] = {
    "promise_details": ActionPromiseToPay,
    "promise_correction": ActionPromiseToPay,  # "I meant Friday next week" right after a promise
    "payment_claim": ActionCheckPayment,  # the day, amount or reference of a payment said made
    "contact_channel": ActionStopContact,
    "budget_figures": ActionFinancialTips,
}

DISPATCH: Dispatch[HandlerClass] = Dispatch(HANDLERS, REPLY_HANDLERS)
install(DISPATCH)
