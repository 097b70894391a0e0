"""Small helpers shared by the API tests."""

from __future__ import annotations

from sqlalchemy import func, select

from ledger.db import models as m
from ledger.domain.demo import DEMO_BORROWERS, DEMO_LOANS
from ledger.web.keys import LEDGER

from .conftest import AUTH, PAYMENTS

COUNTED = (
    m.Borrower,
    m.Loan,
    m.Payment,
    m.HardshipCase,
    m.Evaluation,
    m.Offer,
    m.Arrangement,
    m.Promise,
    m.Dispute,
    m.Escalation,
    m.Complaint,
    m.PaymentTrace,
    m.ContactPreference,
    m.VerificationSession,
)


def loan_number(key: str) -> str:
    """The loan number of a demo loan by its key: "D1" ... "D7", "D8a", "D8b"."""
    return DEMO_LOANS[key].loan_number


async def verify(client, key: str, conversation_id: str = "conv-1", phone: str | None = None) -> dict:
    """Verifies demo borrower ``key`` (or, with ``phone``, a copy of it: same answers, its own phone)."""
    b = DEMO_BORROWERS[key]
    resp = await client.post(
        "/api/v1/verifications",
        headers=AUTH,
        json={
            "conversation_id": conversation_id,
            "phone": phone or b.phone,
            "date_of_birth": b.date_of_birth.isoformat(),
            "id_last4": b.id_last4,
        },
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


def borrower_headers(verification: dict, conversation_id: str = "conv-1") -> dict[str, str]:
    return {**AUTH, "X-Verification-Token": verification["token"], "X-Conversation-Id": conversation_id}


async def as_borrower(client, key: str, conversation_id: str = "conv-1") -> dict[str, str]:
    return borrower_headers(await verify(client, key, conversation_id), conversation_id)


async def row_counts(client) -> dict[str, int]:
    async with client.app[LEDGER].sessions() as session:
        return {
            model.__tablename__: (await session.execute(select(func.count()).select_from(model))).scalar_one()
            for model in COUNTED
        }


async def audit_actions(client, borrower_id: str | None = None) -> list[str]:
    async with client.app[LEDGER].sessions() as session:
        stmt = select(m.AuditEntry.action).order_by(m.AuditEntry.id)
        if borrower_id is not None:
            stmt = stmt.where(m.AuditEntry.borrower_id == borrower_id)
        return list((await session.execute(stmt)).scalars())


HARDSHIP = {
    "reason": "job_loss",
    "duration": "temporary",
    "monthly_income": "8000.00",
    "essential_expenses": "3000.00",
    "other_debt_payments": "500.00",
}


async def evaluate(client, headers, key: str, hardship: dict | None = None) -> dict:
    ln = loan_number(key)
    resp = await client.post(f"/api/v1/loans/{ln}/hardship-cases", headers=headers, json=hardship or HARDSHIP)
    assert resp.status == 201, await resp.text()
    case = await resp.json()
    resp = await client.post(
        f"/api/v1/loans/{ln}/evaluations", headers=headers, json={"hardship_case_id": case["case_id"]}
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


def first_offer(evaluation: dict, plan_type: str | None = None) -> str:
    for plan in evaluation["plans"]:
        if plan["offer"] is not None and (plan_type is None or plan["plan_type"] == plan_type):
            return plan["offer"]["offer_id"]
    raise AssertionError(f"no offer in {evaluation}")


def with_scope_for(headers: dict[str, str], method: str, path: str) -> dict[str, str]:
    """The borrower headers with the client token whose scope the endpoint accepts: payments
    are recorded by the payments client, everything else here by the bot."""
    if method == "POST" and path.split("?")[0].endswith("/payments"):
        return {**headers, **PAYMENTS}
    return headers
