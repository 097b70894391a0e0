"""gateway: the CSAT rating a web borrower is asked for at the end of a conversation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "csat_ratings",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("rasa_sender_id", sa.String(length=64), nullable=False),
        sa.Column("asked_because", sa.String(length=16), nullable=False),
        sa.Column("asked_at", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("rated_at", ledger.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name=op.f("ck_csat_ratings_score_range")),
        sa.CheckConstraint(
            "asked_because IN ('bot_end', 'desk_close')", name=op.f("ck_csat_ratings_asked_because_known")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_csat_ratings_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_csat_ratings")),
    )


def downgrade() -> None:
    op.drop_table("csat_ratings")
