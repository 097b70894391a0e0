"""What the desk needs from the ledger, read and written in-process through the ledger's
own models and services (same DATABASE_URL, same backend environment): the append-only
audit log and the account panel of the borrower behind a conversation.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.db.models import AuditEntry, Escalation, VerificationSession

from .conversations import utcnow
from .db import Conversation


async def borrower_for_conversation(s: AsyncSession, conversation_id: str) -> str | None:
    """The borrower the ledger linked to this conversation: by a verification or an escalation.

    The ledger knows a conversation by Rasa's sender id, which is renewed after an idle gap
    (``Conversation.rasa_sender_id``): the current sender's link comes first."""
    sender = (await s.execute(select(Conversation.rasa_sender_id).where(Conversation.id == conversation_id))).scalar()
    if sender:
        borrower = await borrower_for_conversation(s, sender)
        if borrower:
            return borrower
    borrower = (
        await s.execute(
            select(VerificationSession.borrower_id)
            .where(VerificationSession.conversation_id == conversation_id)
            .order_by(VerificationSession.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if borrower:
        return borrower
    return (
        await s.execute(
            select(Escalation.borrower_id)
            .where(Escalation.conversation_id == conversation_id, Escalation.borrower_id.is_not(None))
            .order_by(Escalation.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


class LedgerAuditLog:
    """Agent actions appended to the ledger's audit_log (actor ``agent:<username>``). Account
    administration (no conversation: ``conversation_id == ""``) keeps its actor as given, e.g.
    ``cli:<os user>``, with the agent concerned in the detail."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.clock = clock

    async def record(self, actor: str, action: str, conversation_id: str, detail: dict[str, Any]) -> None:
        async with self.sessions() as s, s.begin():
            if not conversation_id:
                s.add(AuditEntry(at=self.clock(), actor=actor, action=action, borrower_id=None, loan_id=None,
                                 detail=dict(detail)))
                return
            borrower_id = await borrower_for_conversation(s, conversation_id)
            s.add(AuditEntry(at=self.clock(), actor=f"agent:{actor}", action=action, borrower_id=borrower_id,
                             loan_id=None, detail={"conversation_id": conversation_id, **detail}))


class LedgerAccounts:
    """The account panel for a conversation's borrower, derived by the ledger's own code.

    Read-only and in-process: the borrower is the one the ledger linked to the conversation
    (verification or escalation); each loan's status comes from ``load_records`` +
    ``derive_status`` + ``status_view`` exactly as the API computes it, as of today in the
    ledger's time zone. Nothing is shown for a conversation whose borrower is not verified.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow,
                 policy=None, timezone: str = "Asia/Shanghai") -> None:
        self.sessions = sessions
        self.clock = clock
        self.policy = policy
        self.timezone = timezone

    def _ledger(self):
        """The ledger's service context for the desk services (which never hash an ID, so no salt)."""
        from ledger.services.context import Ledger

        return Ledger(self.sessions, self.policy, id_hash_salt="", timezone=self.timezone, clock=self.clock)

    async def _borrower_state(self, conversation_id: str) -> tuple[str, dict[str, Any]] | None:
        """The ledger's verification state of the borrower this conversation verified as or last
        named, under the current Rasa sender first (the ledger knows the conversation by it)."""
        from ledger.services import desk

        async with self.sessions() as s:
            sender = (await s.execute(select(Conversation.rasa_sender_id)
                                      .where(Conversation.id == conversation_id))).scalar()
        for ledger_conversation in dict.fromkeys(x for x in (sender, conversation_id) if x):
            state = await desk.conversation_verification_state(self._ledger(), conversation_id=ledger_conversation)
            if state["borrower_id"] is not None:
                return ledger_conversation, state
        return None

    async def verification(self, conversation_id: str) -> dict[str, Any] | None:
        """What the desk shows of the verification: verified, locked (until), attempts left, the
        last manual verification; None when no borrower is named yet."""
        if self.policy is None:
            return None
        found = await self._borrower_state(conversation_id)
        if found is None:
            return None
        _, state = found
        keys = ("verified", "locked", "locked_until", "attempts_left", "last_manual_verification")
        return {k: state[k] for k in keys}

    async def verify_by_other_means(self, conversation_id: str, agent: str, method: str,
                                    note: str | None) -> dict[str, Any] | None:
        """Record in the ledger that the agent verified the borrower by other means (clears the
        lock, audited as the agent); None when the conversation names no borrower."""
        from ledger.services import desk

        if self.policy is None:
            return None
        found = await self._borrower_state(conversation_id)
        if found is None:
            return None
        ledger_conversation, state = found
        result = await desk.record_manual_verification(
            self._ledger(), borrower_id=state["borrower_id"], agent=agent, method=method, note=note,
            conversation_id=ledger_conversation, client="desk")
        return {"method": result["method"], "lock_cleared": result["lock_cleared"], "verified_at": result["verified_at"]}

    async def account(self, conversation_id: str) -> dict[str, Any] | None:
        from zoneinfo import ZoneInfo

        from ledger.db import models as m
        from ledger.domain.account import derive_status
        from ledger.services.records import load_records
        from ledger.services.views import money, promise_view, status_view

        async with self.sessions() as s:
            borrower_id = await borrower_for_conversation(s, conversation_id)
            if borrower_id is None:
                return None
            borrower = await s.get(m.Borrower, borrower_id)
            if borrower is None:
                return None
            today = self.clock().astimezone(ZoneInfo(self.timezone)).date()
            pref = await s.get(m.ContactPreference, borrower_id)
            loans = (await s.execute(select(m.Loan).where(m.Loan.borrower_id == borrower_id)
                                     .order_by(m.Loan.loan_number))).scalars().all()
            loan_views = []
            worst_bucket = None
            for loan in loans:
                records = await load_records(s, loan)
                view: dict[str, Any] = {"loan_number": loan.loan_number, "product": loan.product}
                if self.policy is not None and today >= loan.disbursed_on:
                    status = derive_status(records.contract, records.payment_records, records.arrangement_records,
                                           today, self.policy)
                    full = status_view(records, status, today)
                    view.update({k: full[k] for k in ("days_past_due", "bucket", "overdue", "amount_to_bring_current",
                                                      "payoff_amount", "next_due", "open_dispute", "active_arrangement")})
                    if worst_bucket is None or status.days_past_due > worst_bucket[0]:
                        worst_bucket = (status.days_past_due, status.bucket)
                view["promises"] = [promise_view(p, loan.loan_number, records.payment_records, today)
                                    for p in records.promises]
                hardship = (await s.execute(select(m.HardshipCase).where(m.HardshipCase.loan_id == loan.id)
                                            .order_by(m.HardshipCase.created_at.desc()).limit(3))).scalars().all()
                view["hardship_cases"] = [
                    {"reason": h.reason, "duration": h.duration, "monthly_income": money(h.monthly_income),
                     "essential_expenses": money(h.essential_expenses), "other_debt_payments": money(h.other_debt_payments),
                     "created_at": h.created_at.isoformat()} for h in hardship]
                offers = (await s.execute(select(m.Offer).where(m.Offer.loan_id == loan.id, m.Offer.superseded_at.is_(None))
                                          .order_by(m.Offer.created_at.desc()).limit(6))).scalars().all()
                view["offers"] = [
                    {"plan_type": o.plan_type, "expires_at": o.expires_at.isoformat(),
                     "payment_amount": o.payload.get("payment_amount"), "total_to_repay": o.payload.get("total_to_repay")}
                    for o in offers]
                disputes = (await s.execute(select(m.Dispute).where(m.Dispute.loan_id == loan.id))).scalars().all()
                view["disputes"] = [{"case_number": d.case_number, "reason": d.reason, "status": d.status,
                                     "reply_due_by": d.reply_due_by.isoformat()} for d in disputes]
                loan_views.append(view)
        return {
            "borrower_id": borrower.id,
            "borrower_name": borrower.name,
            "language": borrower.language,
            "bucket": worst_bucket[1] if worst_bucket else None,
            "contact_preferences": {"stop_all": pref.stop_all if pref else False,
                                    "opted_out_channels": list(pref.opted_out_channels) if pref else []},
            "loans": loan_views,
        }


    async def summary(self, conversation_id: str) -> dict[str, Any] | None:
        """Name and worst bucket only (what a queue line shows), without the panel's extra reads."""
        from zoneinfo import ZoneInfo

        from ledger.db import models as m
        from ledger.domain.account import derive_status
        from ledger.services.records import load_records

        async with self.sessions() as s:
            borrower_id = await borrower_for_conversation(s, conversation_id)
            borrower = await s.get(m.Borrower, borrower_id) if borrower_id else None
            if borrower is None:
                return None
            today = self.clock().astimezone(ZoneInfo(self.timezone)).date()
            worst = None
            if self.policy is not None:
                for loan in (await s.execute(select(m.Loan).where(m.Loan.borrower_id == borrower.id))).scalars():
                    if today < loan.disbursed_on:
                        continue
                    records = await load_records(s, loan)
                    status = derive_status(records.contract, records.payment_records, records.arrangement_records,
                                           today, self.policy)
                    if worst is None or status.days_past_due > worst[0]:
                        worst = (status.days_past_due, status.bucket)
        return {"borrower_name": borrower.name, "bucket": worst[1] if worst else None}

    async def contact_rules(self, conversation_id: str) -> dict[str, Any] | None:
        """What the contact rules need about the conversation's borrower (None when unlinked):
        cease-contact (``stop_all``), opted-out channels, time zone, an open dispute on any loan."""
        from ledger.db import models as m

        async with self.sessions() as s:
            borrower_id = await borrower_for_conversation(s, conversation_id)
            borrower = await s.get(m.Borrower, borrower_id) if borrower_id else None
            if borrower is None:
                return None
            pref = await s.get(m.ContactPreference, borrower.id)
            dispute = (await s.execute(
                select(m.Dispute.id).join(m.Loan, m.Loan.id == m.Dispute.loan_id)
                .where(m.Loan.borrower_id == borrower.id, m.Dispute.status == "open").limit(1))).scalar_one_or_none()
        return {"stop_all": bool(pref and pref.stop_all),
                "opted_out_channels": list(pref.opted_out_channels) if pref else [],
                "timezone": borrower.timezone or self.timezone,
                "open_dispute": dispute is not None}


def make_account_reader(sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow) -> LedgerAccounts:
    from ledger.policy_file import load_policy
    from ledger.settings import Settings

    ledger_settings = Settings.from_env()
    return LedgerAccounts(sessions, clock, policy=load_policy(ledger_settings.policy_file),
                          timezone=ledger_settings.timezone)
