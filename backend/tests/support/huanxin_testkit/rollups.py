"""The insights rollups' contents, to compare what the consumer kept with a rebuild (tests)."""

from __future__ import annotations

from sqlalchemy import select

from ledger.db.models import InsightsFunnelDaily, InsightsNluDaily, InsightsOverviewDaily


async def rollup_contents(sessions) -> dict[str, set[tuple]]:
    """Every rollup row that counts something, per table."""
    contents = {}
    async with sessions() as s:
        for table, count in ((InsightsOverviewDaily, "conversations"), (InsightsFunnelDaily, "conversations"),
                             (InsightsNluDaily, "messages")):  # fmt: skip
            columns = list(table.__table__.c)
            rows = await s.execute(select(*columns).where(getattr(table, count) != 0))
            contents[table.__tablename__] = {tuple(row) for row in rows}
    return contents
