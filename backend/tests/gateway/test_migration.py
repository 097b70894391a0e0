"""The gateway's Alembic revision builds exactly the tables its models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, create_engine

from gateway.db import Base
from ledger.cli import migrate

GATEWAY_TABLES = {
    "conversations",
    "messages",
    "agents",
    "agent_sessions",
    "desk_reads",
    "desk_plan_cards",
    "csat_ratings",
    "desk_canned_replies",
}


def _gateway_only(obj, name, type_, reflected, compare_to) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in GATEWAY_TABLES


def _diffs(path, metadata):
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _gateway_only, "compare_type": True})
        diffs = compare_metadata(context, metadata)
    engine.dispose()
    return diffs


def test_migration_matches_the_gateway_models(tmp_path):
    path = tmp_path / "migrated.sqlite3"
    migrate(f"sqlite+aiosqlite:///{path}")
    assert set(Base.metadata.tables) == GATEWAY_TABLES
    assert _diffs(path, Base.metadata) == []


def test_the_comparison_notices_a_difference(tmp_path):
    path = tmp_path / "migrated.sqlite3"
    migrate(f"sqlite+aiosqlite:///{path}")
    other = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(other)
    Table("messages", other, Column("extra", Integer), extend_existing=True)
    assert [d[0] for d in _diffs(path, other)] == ["add_column"]
