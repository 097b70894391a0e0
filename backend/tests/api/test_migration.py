"""The Alembic history builds exactly the ledger tables its models describe (the scope column,
verification_clients and anything added later included)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from ledger.cli import migrate
from ledger.db.models import Base


def test_migrations_match_the_ledger_models(tmp_path):
    path = tmp_path / "migrated.sqlite3"
    migrate(f"sqlite+aiosqlite:///{path}")
    ledger_tables = set(Base.metadata.tables)

    def ledger_only(obj, name, type_, reflected, compare_to) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in ledger_tables

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": ledger_only, "compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diffs == []
