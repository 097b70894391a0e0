"""A borrower locked out of verification reaches a person, who sees the lock in the desk and can
record a verification by other means: the ledger clears the lock and audits it as the agent."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from huanxin_testkit.gw_helpers import Widget, desk_for
from ledger.db import models as m
from ledger.domain.errors import LedgerError
from ledger.services import verification
from ledger.services.context import Ledger


async def lock_out(ledger: Ledger, conversation_id: str) -> None:
    """Three wrong birth dates for D1's phone, as the bot would send them."""
    for _ in range(ledger.policy.verification.max_failures):
        with pytest.raises(LedgerError):
            await verification.verify(
                ledger,
                conversation_id=conversation_id,
                phone="13800000001",
                date_of_birth=date(1991, 1, 1),
                id_last4="4321",
            )


async def escalated(client) -> Widget:
    widget = await Widget.open(client)
    await widget.send("I want a human", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    return widget


async def test_the_desk_sees_the_lock_and_an_agent_clears_it_by_verifying_another_way(ledger_gateway):
    client, ledger, sessions, _ = ledger_gateway
    widget = await escalated(client)
    await lock_out(ledger, widget.conversation_id)
    desk = await desk_for(client, "li.na")
    assert (await desk.take(widget.conversation_id)).status == 200
    view = await (await desk.view(widget.conversation_id)).json()
    assert view["verification"]["locked"] is True and view["verification"]["verified"] is False

    resp = await desk.post(
        f"/desk/api/conversations/{widget.conversation_id}/manual-verification",
        {"method": "callback_on_record", "note": "called back on the number on record"},
    )
    assert resp.status == 201 and (await resp.json())["lock_cleared"] is True
    view = await (await desk.view(widget.conversation_id)).json()
    assert view["verification"]["locked"] is False
    assert view["verification"]["last_manual_verification"]["agent"] == "li.na"
    async with sessions() as s:
        entry = (await s.execute(select(m.AuditEntry).where(m.AuditEntry.action == "manual_verification"))).scalar_one()
    assert entry.actor == "agent:li.na" and entry.detail["method"] == "callback_on_record"
    assert "13800000001" not in str(entry.detail)
    notes = [msg for msg in view["messages"] if msg["agent_only"] and "verified by other means" in msg["text"]]
    assert len(notes) == 1
    # now the borrower can verify with the bot again
    await verification.verify(
        ledger,
        conversation_id=widget.conversation_id,
        phone="13800000001",
        date_of_birth=date(1990, 3, 15),
        id_last4="4321",
    )


@pytest.mark.parametrize(
    "body, status",
    [
        ({"method": "guessed"}, 422),
        ({"method": "video_call", "note": "born 1990"}, 422),  # digits could be an identity answer
        ({"method": "video_call", "note": "x" * 501}, 422),
        ({}, 422),
    ],
)
async def test_a_bad_manual_verification_changes_nothing(ledger_gateway, body, status):
    client, ledger, sessions, _ = ledger_gateway
    widget = await escalated(client)
    await lock_out(ledger, widget.conversation_id)
    desk = await desk_for(client, "li.na")
    await desk.take(widget.conversation_id)
    resp = await desk.post(f"/desk/api/conversations/{widget.conversation_id}/manual-verification", body)
    assert resp.status == status
    view = await (await desk.view(widget.conversation_id)).json()
    assert view["verification"]["locked"] is True


async def test_only_the_agent_handling_the_conversation_may_verify(ledger_gateway):
    client, ledger, _, _ = ledger_gateway
    widget = await escalated(client)
    await lock_out(ledger, widget.conversation_id)
    desk = await desk_for(client, "li.na")  # has not taken it over
    resp = await desk.post(
        f"/desk/api/conversations/{widget.conversation_id}/manual-verification", {"method": "video_call"}
    )
    assert resp.status == 403


async def test_a_conversation_that_names_no_borrower_cannot_be_verified(ledger_gateway):
    client, _, _, _ = ledger_gateway
    widget = await escalated(client)
    desk = await desk_for(client, "li.na")
    await desk.take(widget.conversation_id)
    view = await (await desk.view(widget.conversation_id)).json()
    assert view["verification"] is None
    resp = await desk.post(
        f"/desk/api/conversations/{widget.conversation_id}/manual-verification", {"method": "video_call"}
    )
    assert resp.status == 409


def test_the_desk_offers_the_manual_verification_methods_the_ledger_accepts():
    """One list: the gateway validates against the door's, which is the ledger API's own."""
    from typing import get_args

    from gateway import conversations
    from ledger import desk_door
    from ledger.web.schemas import ManualVerificationMethod

    assert conversations.MANUAL_VERIFICATION_METHODS is desk_door.MANUAL_VERIFICATION_METHODS
    assert desk_door.MANUAL_VERIFICATION_METHODS == get_args(ManualVerificationMethod)
