"""gateway: relief plans an agent sent to the borrower as cards, and whether they were accepted

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_plan_cards",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("loan_number", sa.String(length=32), nullable=False),
        sa.Column("plan_type", sa.String(length=32), nullable=False),
        sa.Column("sent_by", sa.String(length=64), nullable=True),
        sa.Column("sent_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("decided_at", ledger.db.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('sent', 'accepted')", name=op.f("ck_desk_plan_cards_status_known")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_desk_plan_cards_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"], ["agents.username"], name=op.f("fk_desk_plan_cards_sent_by_agents"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_plan_cards")),
    )
    op.create_index(op.f("ix_desk_plan_cards_conversation_id"), "desk_plan_cards", ["conversation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_desk_plan_cards_conversation_id"), table_name="desk_plan_cards")
    op.drop_table("desk_plan_cards")
