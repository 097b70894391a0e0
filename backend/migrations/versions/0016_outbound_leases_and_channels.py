"""ledger: leases on the contact history (several dispatcher workers claim due contacts with
SELECT ... FOR UPDATE SKIP LOCKED and hold them for a lease) and the borrowers' bound chat
channels (a WeChat openid, a Telegram chat id) that let the planner pick those channels

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_history") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", ledger.db.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "borrower_channels",
        sa.Column("borrower_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("bound_at", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.id"],
            name=op.f("fk_borrower_channels_borrower_id_borrowers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("borrower_id", "channel", name=op.f("pk_borrower_channels")),
    )


def downgrade() -> None:
    op.drop_table("borrower_channels")
    with op.batch_alter_table("contact_history") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
