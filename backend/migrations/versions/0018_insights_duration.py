"""insights: the overview rollup's duration histogram (conversations per duration range,
ledger/domain/insights.py DURATION_BOUNDS)

The columns start at 0: after upgrading a database that already holds facts, run
`ledger rebuild-insights` once (as after 0015), or the median duration counts only the
conversations the consumer rewrote since.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# lower bounds in seconds, as DURATION_BOUNDS when this migration was written
BOUNDS = (0, 15, 30, 60, 90, 120, 180, 300, 450, 600, 900, 1200, 1800, 3600, 7200)


def upgrade() -> None:
    with op.batch_alter_table("insights_overview_daily", schema=None) as batch_op:
        for bound in BOUNDS:
            batch_op.add_column(sa.Column(f"duration_from_{bound}s", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("insights_overview_daily", schema=None) as batch_op:
        for bound in BOUNDS:
            batch_op.drop_column(f"duration_from_{bound}s")
