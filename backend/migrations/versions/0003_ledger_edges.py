"""ledger: a scope per API client; verification limits per client reference; manual verifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Clients registered before scopes existed could call everything; they become "bot"
    # clients (what every client so far was). Re-register a payment feed with --scope payments.
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("scope", sa.String(length=16), nullable=False, server_default="bot"))
        batch.create_check_constraint(
            op.f("ck_api_clients_scope_known"), "scope IN ('bot', 'desk', 'payments', 'analytics')"
        )
    with op.batch_alter_table("api_clients") as batch:
        batch.alter_column("scope", server_default=None)
    op.create_table(
        "verification_clients",
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("window_start", ledger.db.types.UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_key", name=op.f("pk_verification_clients")),
    )


def downgrade() -> None:
    op.drop_table("verification_clients")
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_constraint("ck_api_clients_scope_known", type_="check")
        batch.drop_column("scope")
