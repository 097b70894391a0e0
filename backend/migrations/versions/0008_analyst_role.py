"""gateway: desk accounts may have the role analyst (the insights page, no conversation)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint("ck_agents_role_known", type_="check")
        batch.create_check_constraint(op.f("ck_agents_role_known"), "role IN ('agent', 'supervisor', 'analyst')")


def downgrade() -> None:
    op.execute("DELETE FROM agents WHERE role = 'analyst'")  # their sessions go with them (ON DELETE CASCADE)
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint("ck_agents_role_known", type_="check")
        batch.create_check_constraint(op.f("ck_agents_role_known"), "role IN ('agent', 'supervisor')")
