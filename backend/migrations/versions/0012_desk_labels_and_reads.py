"""gateway: labels on conversations and how far each agent has read a conversation (unread
counts on the desk)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("labels", sa.JSON(), nullable=True))
    op.create_table(
        "desk_reads",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("last_read_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_desk_reads_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["username"], ["agents.username"], name=op.f("fk_desk_reads_username_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("conversation_id", "username", name=op.f("pk_desk_reads")),
    )


def downgrade() -> None:
    op.drop_table("desk_reads")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("labels")
