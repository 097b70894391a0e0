"""insights: per-day rollups of the overview, the funnel and NLU health, kept by the analytics
consumer (insights_overview_daily, insights_funnel_daily, insights_nlu_daily), and an index on
the facts' lowest confidence (NLU health's low-confidence messages)

After upgrading a database that already holds facts, run `ledger rebuild-insights` once.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 03:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INTENTS_STATISTICS = (
    "CREATE STATISTICS IF NOT EXISTS st_conversation_facts_intents_text ON ((intents)::text) FROM conversation_facts"
)


def _place() -> list[sa.Column]:
    """The key columns every rollup starts with."""
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
    ]


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "insights_overview_daily",
        *_place(),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("escalation_reason", sa.String(length=64), nullable=False),
        sa.Column("handled_by_agent", sa.Boolean(), nullable=False),
        sa.Column("verification", sa.String(length=16), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("no_outcome", sa.Boolean(), nullable=False),
        sa.Column("said_goodbye", sa.Boolean(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        _count("conversations"),
        _count("fallbacks"),
        _count("csat_sum"),
        _count("csat_count"),
        sa.PrimaryKeyConstraint(
            "day",
            "language",
            "channel",
            "escalated",
            "escalation_reason",
            "handled_by_agent",
            "verification",
            "verified",
            "no_outcome",
            "said_goodbye",
            "turns",
            name=op.f("pk_insights_overview_daily"),
        ),  # fmt: skip
    )
    op.create_table(
        "insights_funnel_daily",
        *_place(),
        sa.Column("furthest_step", sa.String(length=24), nullable=False),
        sa.Column("last_bot_text_key", sa.String(length=64), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("plan", sa.Boolean(), nullable=False),
        sa.Column("promise", sa.Boolean(), nullable=False),
        _count("conversations"),
        sa.PrimaryKeyConstraint(
            "day",
            "language",
            "channel",
            "furthest_step",
            "last_bot_text_key",
            "escalated",
            "plan",
            "promise",
            name=op.f("pk_insights_funnel_daily"),
        ),
    )
    op.create_table(
        "insights_nlu_daily",
        *_place(),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("confidence_pct", sa.Integer(), nullable=False),
        sa.Column("guess", sa.String(length=64), nullable=False),
        _count("messages"),
        _count("then_denied"),
        _count("then_asked_again"),
        _count("then_fallback"),
        _count("then_asked_for_person"),
        sa.PrimaryKeyConstraint(
            "day", "language", "channel", "intent", "confidence_pct", "guess", name=op.f("pk_insights_nlu_daily")
        ),
    )
    with op.batch_alter_table("conversation_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_facts_low_confidence", ["low_confidence", "conversation_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        # how often the review list's intent filter matches (else PostgreSQL guesses "hardly
        # ever" and sorts the whole period instead of reading the newest first)
        op.execute(INTENTS_STATISTICS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_conversation_facts_intents_text")
    with op.batch_alter_table("conversation_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_facts_low_confidence")
    op.drop_table("insights_nlu_daily")
    op.drop_table("insights_funnel_daily")
    op.drop_table("insights_overview_daily")
