"""analytics: analysts' annotations of conversations (the right intent of a borrower message,
tags, notes, reviewed), appended, the latest counting

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_annotations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("tag", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("annotator", sa.String(length=64), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_annotations")),
    )
    with op.batch_alter_table("conversation_annotations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_annotations_conversation", ["conversation_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversation_annotations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_annotations_conversation")
    op.drop_table("conversation_annotations")
