"""Borrower profile and contact preferences."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from ..db import contact_queries
from ..db import models as m
from ..db import repositories as repo
from ..domain.errors import NotFound, VerificationRequired
from ..domain.outbound import stop_reply_language
from ..domain.policy import LocalizedText
from ..domain.reminder_refs import reminder_ref
from .context import Ledger
from .verification import authorize, normalise_phone, require_same_borrower

# Channels whose replies come from the phone number on file: the sender's number names the borrower.
PHONE_CHANNELS = frozenset({"sms", "phone"})


def _preferences(pref: m.ContactPreference | None) -> dict[str, Any]:
    if pref is None:
        return {"stop_all": False, "opted_out_channels": []}
    return {"stop_all": pref.stop_all, "opted_out_channels": list(pref.opted_out_channels)}


async def profile(
    ledger: Ledger, *, token: str | None, conversation_id: str | None, borrower_id: str
) -> dict[str, Any]:
    async with ledger.sessions() as session, session.begin():
        caller = await authorize(ledger, session, token, conversation_id)
        require_same_borrower(caller, borrower_id)
        borrower = await repo.borrower_by_id(session, borrower_id)
        if borrower is None:
            raise NotFound("no such borrower")
        loans = await repo.loans_of_borrower(session, borrower_id)
        pref = await repo.contact_preference(session, borrower_id)
        await repo.add_audit(
            session,
            at=ledger.now(),
            actor=caller.actor,
            action="profile_disclosed",
            borrower_id=borrower_id,
            detail={"conversation_id": caller.conversation_id},
        )
    return {
        "borrower_id": borrower.id,
        "name": borrower.name,
        "language": borrower.language,
        "timezone": borrower.timezone,
        "contact_preferences": _preferences(pref),
        "loans": [{"loan_number": loan.loan_number, "product": loan.product} for loan in loans],
    }


async def set_contact_preferences(
    ledger: Ledger,
    *,
    token: str | None,
    conversation_id: str | None,
    borrower_id: str,
    stop_all: bool,
    opted_out_channels: list[str],
) -> dict[str, Any]:
    channels = sorted(set(opted_out_channels))
    async with ledger.sessions() as session, session.begin():
        caller = await authorize(ledger, session, token, conversation_id)
        require_same_borrower(caller, borrower_id)
        pref = await repo.contact_preference(session, borrower_id)
        before = _preferences(pref)
        if pref is None:
            pref = m.ContactPreference(
                borrower_id=borrower_id, stop_all=stop_all, opted_out_channels=channels, updated_at=ledger.now()
            )
            session.add(pref)
        else:
            pref.stop_all = stop_all
            pref.opted_out_channels = channels
            pref.updated_at = ledger.now()
        after = {"stop_all": stop_all, "opted_out_channels": channels}
        await repo.add_audit(
            session,
            at=ledger.now(),
            actor=caller.actor,
            action="contact_preferences_changed",
            borrower_id=borrower_id,
            detail={"conversation_id": caller.conversation_id, "before": before, "after": after},
        )
    return after


async def record_stop_reply(
    ledger: Ledger,
    *,
    token: str | None,
    conversation_id: str | None,
    channel: str,
    text: str,
    phone: str | None,
    confirmations: LocalizedText,
    client: str = "api",
) -> dict[str, Any]:
    """A reply on ``channel``: when it is a STOP ("TD", "退订", "STOP"), opt the borrower out of
    that channel at once (kept if already) and answer the confirmation in the word's language.

    The borrower is the verified conversation's (token headers) or, on sms and phone, the one
    whose phone number sent it. A number that matches nobody gets the same answer and changes
    nothing, so the endpoint tells nobody which numbers are borrowers'. The phone number is
    never written to the audit log."""
    language = stop_reply_language(text)
    if language is None:
        return {"stop": False, "channel": channel, "confirmation": None}
    now = ledger.now()
    async with ledger.sessions() as session, session.begin():
        if token is not None or conversation_id is not None:
            caller = await authorize(ledger, session, token, conversation_id)
            borrower_id: str | None = caller.borrower_id
            actor = caller.actor
            via = {"conversation_id": caller.conversation_id}
        elif phone is not None and channel in PHONE_CHANNELS:
            borrower = await repo.borrower_by_phone(session, normalise_phone(phone))
            borrower_id = borrower.id if borrower is not None else None
            actor = f"{client}:stop_reply"
            via = {"from": "phone on file"}
        else:
            raise VerificationRequired(
                "a STOP reply needs the verified conversation's headers, or on sms and phone the sender's number"
            )
        if borrower_id is not None:
            await opt_out_channel(session, borrower_id, channel, actor, via, now)
    return {"stop": True, "channel": channel, "confirmation": confirmations.get(language)}


async def record_stop_reply_by_address(
    ledger: Ledger, *, channel: str, text: str, address: str, confirmations: LocalizedText, client: str
) -> dict[str, Any]:
    """A reply from a chat channel's ``address`` (a Telegram chat id): when it is a STOP, opt the
    borrowers who bound that address on ``channel`` out of it at once (kept if already).
    ``{stop, channel, bound, confirmation}``: ``bound`` False when nobody bound the address
    (nothing changed). The address is never written to the audit log."""
    language = stop_reply_language(text)
    if language is None:
        return {"stop": False, "channel": channel, "bound": False, "confirmation": None}
    now = ledger.now()
    async with ledger.sessions() as session, session.begin():
        borrower_ids = await contact_queries.borrowers_bound_to(session, channel, address)
        for borrower_id in borrower_ids:
            via = {"from": f"{channel} address bound"}
            await opt_out_channel(session, borrower_id, channel, f"{client}:stop_reply", via, now)
    return {"stop": True, "channel": channel, "bound": bool(borrower_ids), "confirmation": confirmations.get(language)}


async def opt_out_channel(
    session: Any, borrower_id: str, channel: str, actor: str, via: dict[str, Any], now: Any
) -> None:
    """Opt the borrower out of ``channel`` (kept if already), audited ``contact_opted_out``."""
    pref = await repo.contact_preference(session, borrower_id)
    before = _preferences(pref)
    if pref is None:
        pref = m.ContactPreference(
            borrower_id=borrower_id, stop_all=False, opted_out_channels=[channel], updated_at=now
        )
        session.add(pref)
    elif channel not in pref.opted_out_channels:
        pref.opted_out_channels = sorted({*pref.opted_out_channels, channel})
        pref.updated_at = now
    await repo.add_audit(
        session,
        at=now,
        actor=actor,
        action="contact_opted_out",
        borrower_id=borrower_id,
        detail={"channel": channel, "by": "stop_reply", **via, "before": before, "after": _preferences(pref)},
    )


REMINDER_LOOKBACK = timedelta(days=7)


async def recent_reminders(
    ledger: Ledger, *, token: str | None, conversation_id: str | None, borrower_id: str
) -> dict[str, Any]:
    """The reminders delivered to the verified borrower in the last 7 days, newest first: what
    the web chat shows as notices when the borrower opens it, and what a conversation that
    follows a reminder starts from (its reason, loan and subject). Audited as a disclosure."""
    now = ledger.now()
    async with ledger.sessions() as session, session.begin():
        caller = await authorize(ledger, session, token, conversation_id)
        require_same_borrower(caller, borrower_id)
        rows = await contact_queries.delivered_to_borrower(session, borrower_id, now - REMINDER_LOOKBACK)
        await repo.add_audit(
            session,
            at=now,
            actor=caller.actor,
            action="reminders_disclosed",
            borrower_id=borrower_id,
            detail={"conversation_id": caller.conversation_id, "count": len(rows)},
        )
    return {
        "reminders": [
            {
                "loan_number": number,
                "reason": reason,
                "channel": channel,
                "subject": {str(k): str(v) for k, v in (subject or {}).items()},
                "delivered_at": (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat(),
                "ref": reminder_ref(contact_id),
            }
            for number, reason, channel, subject, at, contact_id in rows
        ]
    }
