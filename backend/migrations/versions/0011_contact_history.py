"""ledger: the contact history (planned, attempted, delivered and failed outbound contacts, one
row per idempotency key), read by the contact planner for its caps and written by a dispatcher

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 20:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("borrower_id", sa.String(36), sa.ForeignKey("borrowers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("loan_id", sa.String(36), sa.ForeignKey("loans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("send_after", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("send_before", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", ledger.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", ledger.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.String(500), nullable=True),
        sa.Column("created_at", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_contact_history_idempotency_key")),
        sa.CheckConstraint(
            "status IN ('planned', 'attempted', 'delivered', 'failed')", name=op.f("ck_contact_history_status_known")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_contact_history_attempts_non_negative")),
    )
    op.create_index("ix_contact_history_loan_send_after", "contact_history", ["loan_id", "send_after"])
    op.create_index("ix_contact_history_status_send_after", "contact_history", ["status", "send_after"])


def downgrade() -> None:
    op.drop_index("ix_contact_history_status_send_after", table_name="contact_history")
    op.drop_index("ix_contact_history_loan_send_after", table_name="contact_history")
    op.drop_table("contact_history")
