"""Borrower profile and contact preferences."""

from __future__ import annotations

from typing import Any

from ..db import models as m
from ..db import repositories as repo
from ..domain.errors import NotFound
from .context import Ledger
from .verification import authorize, require_same_borrower


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
