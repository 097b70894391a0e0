"""ledger: records the borrower can correct (withdrawn disputes and complaints, replaced
promises) and payment traces

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Disputes: the conversation that opened one (only it may withdraw it) and the withdrawal.
    # Disputes opened before this revision name no conversation: a person withdraws those.
    with op.batch_alter_table("disputes") as batch:
        batch.add_column(sa.Column("conversation_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("withdrawn_at", ledger.db.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("withdrawal_reason", sa.String(length=500), nullable=True))
        batch.drop_constraint("ck_disputes_status_known", type_="check")
        batch.create_check_constraint(op.f("ck_disputes_status_known"), "status IN ('open', 'resolved', 'withdrawn')")
    # Complaints: a status (all open so far) and the withdrawal.
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="open"))
        batch.add_column(sa.Column("withdrawn_at", ledger.db.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("withdrawal_reason", sa.String(length=500), nullable=True))
        batch.create_check_constraint(op.f("ck_complaints_status_known"), "status IN ('open', 'withdrawn')")
    with op.batch_alter_table("complaints") as batch:
        batch.alter_column("status", server_default=None)
    # Promises: a replacement names the promise it replaces; the replaced one its day. A promise
    # made before this revision may be moved no later than its own date.
    with op.batch_alter_table("promises") as batch:
        batch.add_column(sa.Column("window_ends_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("replaces_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("replaced_on", sa.Date(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_promises_replaces_id_promises"), "promises", ["replaces_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_unique_constraint(op.f("uq_promises_replaces_id"), ["replaces_id"])
    op.execute("UPDATE promises SET window_ends_on = promised_date WHERE window_ends_on IS NULL")
    with op.batch_alter_table("promises") as batch:
        batch.alter_column("window_ends_on", existing_type=sa.Date(), nullable=False)
    op.create_table(
        "payment_traces",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column("borrower_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("amount", ledger.db.types.ExactDecimal(14, 2), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("reply_due_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_payment_traces_status_known")),
        sa.CheckConstraint("paid_on IS NOT NULL OR amount IS NOT NULL", name=op.f("ck_payment_traces_day_or_amount")),
        sa.CheckConstraint(
            "amount IS NULL OR CAST(amount AS NUMERIC) > 0", name=op.f("ck_payment_traces_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_payment_traces_borrower_id_borrowers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_payment_traces_loan_id_loans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_traces")),
        sa.UniqueConstraint("case_number", name=op.f("uq_payment_traces_case_number")),
    )
    with op.batch_alter_table("payment_traces") as batch:
        batch.create_index(batch.f("ix_payment_traces_loan_id"), ["loan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_traces") as batch:
        batch.drop_index(batch.f("ix_payment_traces_loan_id"))
    op.drop_table("payment_traces")
    with op.batch_alter_table("promises") as batch:
        batch.drop_constraint("uq_promises_replaces_id", type_="unique")
        batch.drop_constraint("fk_promises_replaces_id_promises", type_="foreignkey")
        batch.drop_column("replaced_on")
        batch.drop_column("replaces_id")
        batch.drop_column("window_ends_on")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_constraint("ck_complaints_status_known", type_="check")
        batch.drop_column("withdrawal_reason")
        batch.drop_column("withdrawn_at")
        batch.drop_column("status")
    op.execute("UPDATE disputes SET status = 'resolved' WHERE status = 'withdrawn'")
    with op.batch_alter_table("disputes") as batch:
        batch.drop_constraint("ck_disputes_status_known", type_="check")
        batch.create_check_constraint(op.f("ck_disputes_status_known"), "status IN ('open', 'resolved')")
        batch.drop_column("withdrawal_reason")
        batch.drop_column("withdrawn_at")
        batch.drop_column("conversation_id")
