"""ledger: escalations get a short case number (ESC-<year>-<six digits>) that borrowers are
given instead of the row's id; existing rows are numbered in the order they were created

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("case_number", sa.String(32), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, created_at FROM escalations ORDER BY created_at, id")).all()
    per_year: dict[str, int] = {}
    for row_id, created_at in rows:
        year = str(created_at)[:4]
        per_year[year] = per_year.get(year, 0) + 1
        conn.execute(
            sa.text("UPDATE escalations SET case_number = :n WHERE id = :i"),
            {"n": f"ESC-{year}-{per_year[year]:06d}", "i": row_id},
        )
    with op.batch_alter_table("escalations") as batch:
        batch.create_unique_constraint(op.f("uq_escalations_case_number"), ["case_number"])


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_constraint(op.f("uq_escalations_case_number"), type_="unique")
        batch.drop_column("case_number")
