"""Free texts a borrower writes to the ledger (complaints, escalation summaries, dispute details)
keep their words but never an identity number in clear."""

from sqlalchemy import select

from ledger.db import models as m
from ledger.web.keys import LEDGER

from .helpers import as_borrower, loan_number

TYPED = "my phone 138 0000 0001 and birthday 15/03/1990, ID 11010519900315432X: you charged me twice on 2026-11-02"
SECRETS = ("138 0000 0001", "15/03/1990", "11010519900315432X")


async def stored(client, column) -> str:
    async with client.app[LEDGER].sessions() as session:
        return " ".join(str(v) for v in (await session.execute(select(column))).scalars())


async def test_complaints_and_escalations_are_stored_masked(client, demo):
    headers = await as_borrower(client, "D1")
    assert (
        await client.post("/api/v1/complaints", headers=headers, json={"conversation_id": "conv-1", "text": TYPED})
    ).status == 201
    assert (
        await client.post(
            "/api/v1/escalations",
            headers=headers,
            json={"conversation_id": "conv-1", "reason": "request_human", "summary": TYPED},
        )
    ).status == 201
    texts = await stored(client, m.Complaint.text) + await stored(client, m.Escalation.summary)
    assert "charged me twice on 2026-11-02" in texts
    for secret in SECRETS:
        assert secret not in texts


async def test_dispute_details_are_stored_masked(client, demo):
    headers = await as_borrower(client, "D4")
    resp = await client.post(
        f"/api/v1/loans/{loan_number('D4')}/disputes", headers=headers, json={"reason": "not mine", "details": TYPED}
    )
    assert resp.status == 201
    details = await stored(client, m.Dispute.details)
    assert "charged me twice" in details
    for secret in SECRETS:
        assert secret not in details
