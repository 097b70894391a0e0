"""Structured actions from the desk: relief plans evaluated for the borrower's loan, a plan sent
as a card the borrower accepts in the web chat, and a payment trace. Every rule and figure is the
ledger's, reached through its door (``ledger.desk_door``) by the account reader; this module
only checks who may act on which conversation, keeps the sent cards (``desk_plan_cards``) and
writes the transcript lines. Refusals are ``DeskActionRefused`` (the ledger's code and reason)
or the conversation service's errors (403 not yours, 409 closed or not verified, 422 bad input).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from ledger.desk_door import PLAN_TYPES, DeskActionRefused

from .conversations import MONEY, AgentIdentity, Conflict, Forbidden, InvalidInput, plausible_id
from .db import Conversation, DeskPlanCard

if TYPE_CHECKING:
    from .conversations import ConversationService

REFERENCE = re.compile(r"[\x21-\x7e]{1,64}")  # a transfer reference as the ledger takes it
PAY_CHANNEL = re.compile(r"[a-z][a-z_]{0,31}")

PLAN_NAMES = {
    "fee_waiver": {"zh": "减免罚息和违约金", "en": "Fee waiver"},
    "deferral": {"zh": "延期还款", "en": "Payment deferral"},
    "term_extension": {"zh": "延长还款期限", "en": "Term extension"},
    "reduced_rate": {"zh": "降低利率", "en": "Reduced interest rate"},
    "quarterly": {"zh": "按季还款", "en": "Quarterly payments"},
    "settlement": {"zh": "一次性结清", "en": "One-off settlement"},
}
CARD_TEXTS = {
    "zh": {
        "payment": "每期还款",
        "count": "期数",
        "first": "首期日期",
        "total": "共需还款",
        "waived": "减免",
        "choose": "接受此方案",
        "line": "{agent}为您准备了还款方案：{plan}，每期 {payment} 元，共 {count} 期，首期 {first}，共 {total} 元。",
        "accepted": "您已接受还款方案：{plan}，共 {total} 元，首期 {first}。",
    },
    "en": {
        "payment": "Each payment",
        "count": "Payments",
        "first": "First payment",
        "total": "Total to repay",
        "waived": "Waived",
        "choose": "Accept this plan",
        "line": "{agent} has prepared a plan for you: {plan}, {payment} per payment, {count} payments from "
        "{first}, {total} in total.",
        "accepted": "You accepted the plan: {plan}, {total} in total, first payment {first}.",
    },
}


def refusal_status(exc: DeskActionRefused) -> int:
    """The HTTP status of a refusal: 404 for what is not the borrower's, 422 for bad input, 410 for
    an expired offer, 409 for a state that does not allow it (dispute, accepted offer...)."""
    return {"not_found": 404, "invalid_request": 422, "promise_rejected": 422, "offer_expired": 410}.get(exc.code, 409)


def _loan_number(value: Any) -> str:
    if not isinstance(value, str) or not plausible_id(value) or len(value) > 32:
        raise InvalidInput("loan_number must be one of the borrower's loan numbers")
    return value


def plan_card(card_id: str, offer: dict[str, Any], language: str, agent_name: str) -> tuple[str, list[dict[str, Any]]]:
    """The card's message: its text (what a channel without cards would say) and its one button,
    which carries the card (title, label/value rows, choose label) and the card's id."""
    words = CARD_TEXTS[language]
    plan = PLAN_NAMES.get(offer["plan_type"], {}).get(language, offer["plan_type"])
    rows = [
        {"label": words["payment"], "value": offer["payment_amount"]},
        {"label": words["count"], "value": str(offer["payment_count"])},
        {"label": words["first"], "value": offer["first_payment_date"] or "—"},
        {"label": words["total"], "value": offer["total_to_repay"]},
    ]
    if Decimal(offer["waived_total"]) > 0:
        rows.append({"label": words["waived"], "value": offer["waived_total"]})
    text = words["line"].format(
        agent=agent_name,
        plan=plan,
        payment=offer["payment_amount"],
        count=offer["payment_count"],
        first=offer["first_payment_date"] or "—",
        total=offer["total_to_repay"],
    )
    card = {"title": plan, "rows": rows, "choose": words["choose"], "desk_card": card_id}
    return text, [{"title": words["choose"], "payload": f'/desk_plan_card{{"card":"{card_id}"}}', "card": card}]


class DeskActions:
    """Plans, plan cards and payment traces for the desk and the borrower's widget."""

    def __init__(self, service: ConversationService) -> None:
        self.service = service

    def _door(self, name: str):
        """The account reader's method ``name`` (None when the gateway runs without the ledger)."""
        return getattr(self.service.accounts, name, None)

    async def _agents_conversation(self, agent: AgentIdentity, conversation_id: str, what: str) -> Conversation:
        """The conversation if it is with the desk and this agent's: 409 when closed, 403 otherwise."""
        conv = await self.service.conversation_for(agent, conversation_id)
        if conv.state == "closed":
            raise Conflict(f"the conversation is closed: no {what}")
        if conv.state != "agent" or conv.assigned_agent != agent.username:
            raise Forbidden(f"take the conversation over before {what}")
        return conv

    async def _note(self, conv: Conversation, line: str, *, agent_only: bool = True, sender: str = "system") -> None:
        await self.service.add_line(conv.id, line, sender=sender, agent_only=agent_only)

    # ---- plans -----------------------------------------------------------------------------

    async def evaluate_plans(self, agent: AgentIdentity, conversation_id: str, loan_number: Any) -> dict[str, Any]:
        """The ledger's evaluation of the relief plans for the loan, on the borrower's newest
        hardship answers (stored as offers by the ledger, valid for the policy's hours)."""
        loan = _loan_number(loan_number)
        conv = await self._agents_conversation(agent, conversation_id, "evaluating plans")
        evaluate = self._door("evaluate_plans")
        result = await evaluate(conv.id, agent.username, loan) if evaluate else None
        if result is None:
            raise Conflict("the borrower has not verified in this conversation: no plans can be evaluated")
        eligible = [p["plan_type"] for p in result["plans"] if p["eligible"]]
        await self.service.audit.record(
            agent.username, "desk.plans_evaluated", conv.id, {"loan_number": loan, "eligible": eligible}
        )
        return result

    async def send_plan(
        self, agent: AgentIdentity, conversation_id: str, loan_number: Any, plan_type: Any
    ) -> dict[str, Any]:
        """Send the loan's open offer of ``plan_type`` to the borrower as a card in the web chat."""
        loan = _loan_number(loan_number)
        if not isinstance(plan_type, str) or plan_type not in PLAN_TYPES:
            raise InvalidInput(f"plan_type must be one of {', '.join(PLAN_TYPES)}")
        async with self.service.locks.hold(conversation_id):
            conv = await self._agents_conversation(agent, conversation_id, "sending a plan")
            if conv.channel != "web":
                raise Conflict("plan cards are shown in the web chat only; tell the borrower the plan in words")
            offer_of = self._door("plan_offer")
            offer = await offer_of(conv.id, loan, plan_type) if offer_of else None
            if offer is None:
                raise Conflict("the borrower has not verified in this conversation: no plan can be sent")
            now = self.service.clock()
            async with self.service.writing_transcript(conv.id) as transcript:
                conv = transcript.conversation
                earlier = (
                    await transcript.session.execute(
                        select(DeskPlanCard.seq).where(
                            DeskPlanCard.conversation_id == conv.id, DeskPlanCard.offer_id == offer["offer_id"]
                        )
                    )
                ).scalar()
                if earlier is not None:
                    raise DeskActionRefused(
                        "card_already_sent",
                        "this plan is already in the chat as a card; the borrower can choose it there",
                        seq=earlier,
                    )
                card = DeskPlanCard(
                    conversation_id=conv.id,
                    seq=0,
                    offer_id=offer["offer_id"],
                    loan_number=loan,
                    plan_type=plan_type,
                    sent_by=agent.username,
                    sent_at=now,
                    status="sent",
                )
                transcript.session.add(card)
                await transcript.session.flush()
                text, buttons = plan_card(card.id, offer, conv.language, agent.display_name)
                msg = await transcript.append("agent", text, buttons=buttons, sender_name=agent.display_name[:64])
                card.seq = msg.seq
        await self.service.audit.record(
            agent.username,
            "desk.plan_sent",
            conv.id,
            {"loan_number": loan, "plan_type": plan_type, "total_to_repay": offer["total_to_repay"]},
        )
        return {
            "card_id": card.id,
            "seq": msg.seq,
            "loan_number": loan,
            "plan_type": plan_type,
            "total_to_repay": offer["total_to_repay"],
            "expires_at": offer["expires_at"],
        }

    async def accept_plan(self, conversation_id: str, token: str, card_id: Any) -> dict[str, Any]:
        """The borrower accepts a card in the widget: the ledger re-checks and makes the arrangement."""
        conv = await self.service.authenticate_client(conversation_id, token)
        if conv is None:
            raise Forbidden("unknown conversation or wrong token")
        if not isinstance(card_id, str) or not plausible_id(card_id):
            raise DeskActionRefused("not_found", "no such plan card in this conversation")
        async with self.service.locks.hold(conv.id):
            async with self.service.sessions() as s:
                card = (
                    await s.execute(
                        select(DeskPlanCard).where(DeskPlanCard.id == card_id, DeskPlanCard.conversation_id == conv.id)
                    )
                ).scalar_one_or_none()
            conv = await self.service.conversation(conv.id)
            if card is None:
                raise DeskActionRefused("not_found", "no such plan card in this conversation")
            if card.status == "accepted":
                raise DeskActionRefused("offer_already_accepted", "this plan was already accepted")
            if conv.state == "closed":
                raise Conflict("the conversation is closed: ask for the plan again in a new chat")
            accept = self._door("accept_plan")
            arrangement = await accept(conv.id, card.offer_id) if accept else None
            if arrangement is None:
                raise Conflict("verify your identity in this chat before accepting a plan")
            async with self.service.sessions() as s, s.begin():
                await s.execute(
                    update(DeskPlanCard)
                    .where(DeskPlanCard.id == card.id)
                    .values(status="accepted", decided_at=self.service.clock())
                )
            words = CARD_TEXTS.get(conv.language, CARD_TEXTS["zh"])
            plan = PLAN_NAMES.get(card.plan_type, {}).get(conv.language, card.plan_type)
            line = words["accepted"].format(
                plan=plan, total=arrangement["total_to_repay"], first=arrangement["first_payment_date"] or "—"
            )
            await self._note(conv, line, agent_only=False)
        return {"card_id": card.id, "arrangement": arrangement}

    # ---- payment traces ------------------------------------------------------------------------

    async def record_trace(self, agent: AgentIdentity, conversation_id: str, data: dict[str, Any]) -> tuple[dict, bool]:
        """A payment the borrower says was made, traced by the ledger: {"loan_number", "paid_on"
        (YYYY-MM-DD), "amount" ("500.00"), "reference", "channel"}, a day or an amount at least."""
        loan = _loan_number(data.get("loan_number"))
        unknown = set(data) - {"loan_number", "paid_on", "amount", "reference", "channel"}
        if unknown:
            raise InvalidInput(f"unknown field: {sorted(unknown)[0]}")
        paid_on, amount, reference, channel = (data.get(k) for k in ("paid_on", "amount", "reference", "channel"))
        day = None
        if paid_on is not None:
            if not isinstance(paid_on, str):
                raise InvalidInput("paid_on must be a date, YYYY-MM-DD")
            try:
                day = date.fromisoformat(paid_on)
            except ValueError:
                raise InvalidInput("paid_on must be a date, YYYY-MM-DD") from None
        if amount is not None and (not isinstance(amount, str) or not MONEY.fullmatch(amount) or Decimal(amount) <= 0):
            raise InvalidInput('amount must be a positive amount as a string with at most 2 decimals ("500.00")')
        if day is None and amount is None:
            raise InvalidInput("give paid_on, amount or both")
        if reference is not None and (not isinstance(reference, str) or not REFERENCE.fullmatch(reference)):
            raise InvalidInput("reference must be 1-64 printable characters without spaces")
        if channel is not None and (not isinstance(channel, str) or not PAY_CHANNEL.fullmatch(channel)):
            raise InvalidInput("channel must be lowercase letters and _ (bank_transfer, alipay...), at most 32")
        conv = await self._agents_conversation(agent, conversation_id, "recording a payment trace")
        record = self._door("record_payment_trace")
        found = (
            await record(
                conv.id, agent.username, loan, day, None if amount is None else Decimal(amount), reference, channel
            )
            if record
            else None
        )
        if found is None:
            raise Conflict("the borrower has not verified in this conversation: no payment trace can be recorded")
        trace, created = found
        if created:
            await self._note(conv, f"{agent.display_name}: 付款查询 / payment trace {trace['case_number']} ({loan})")
            await self.service.audit.record(
                agent.username,
                "desk.payment_trace",
                conv.id,
                {"loan_number": loan, "case_number": trace["case_number"]},
            )
        return trace, created
