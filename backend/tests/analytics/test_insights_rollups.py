"""The insights rollups (ledger/domain/insights_rollup.py, ledger/db/analytics.py) give the same
overview, funnel and NLU health as the queries that read every facts row, on SQLite and
PostgreSQL: on generated conversations whose facts change after they were first counted
(events arriving in two waves, some twice), and after `rebuild_rollups`."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from huanxin_testkit.rollups import rollup_contents
from huanxin_testkit.stream_events import Conv
from ledger.bot_texts import bot_texts
from ledger.db import analytics as store
from ledger.db.models import InsightsFunnelDaily, InsightsNluDaily, InsightsOverviewDaily
from ledger.desk_door import DeskDoor
from ledger.domain import funnel, insights, nlu_health
from ledger.domain.insights_rollup import DURATION_COLUMNS, confidence_pct
from ledger.services.analytics import ingest_batch, rebuild_insights

TZ = ZoneInfo("Asia/Shanghai")
# 2026-09-20 22:00 in Shanghai: the conversations spread over five days from here
FIRST = datetime(2026, 9, 20, 14, tzinfo=UTC).timestamp()
INTENTS = ("greet", "ask_overdue_status", "inform", "affirm", "deny", "ask_fees", "request_payment_plan",
           "promise_to_pay", "request_human", "goodbye", "thank", "nlu_fallback")  # fmt: skip
# confidences on and around the thresholds the tests ask for
CONFIDENCES = (0.05, 0.29, 0.2899999, 0.3, 0.5, 0.4999, 0.51, 0.75, 0.9, 0.99, 1.0)


def generated(n: int, seed: int) -> list[Conv]:
    rnd = random.Random(seed)
    conversations = []
    for i in range(n):
        # ids whose code point order is not a locale's (case, punctuation, accents)
        sender = f"{rnd.choice(('gen', 'Gen', 'g_en', 'gé', 'GEN-'))}{seed}-{i}"
        c = Conv(sender, rnd.choice(("web", "wechat", "telegram")), rnd.choice(("zh", "zh", "en")))
        c.t = FIRST + rnd.uniform(0, 5 * 86400)
        c.action("action_session_start")
        if rnd.random() < 0.5:
            c.verify()
        for _ in range(rnd.randint(0, 6)):
            intent = rnd.choice(INTENTS)
            confidence = rnd.choice(CONFIDENCES)
            if intent == "nlu_fallback":
                ranking = [{"name": "nlu_fallback", "confidence": 0.3},
                           {"name": rnd.choice(INTENTS[:5]), "confidence": 0.2}]  # fmt: skip
                c.user(intent, confidence, ranking)
            else:
                c.user(intent, confidence)
            c.bot(rnd.choice(("status_overdue", "offers", "ask_identity", None)))
            c.t += rnd.choice((0, 0, 14.5, 29.5, 59.5, 200, 1000, 3600))  # the borrower's pause: durations vary
        if rnd.random() < 0.2:
            c.bot(custom={"handoff": {"reason": rnd.choice(("request_human", "complaint"))}})
            c.gateway("handoff", reason="request_human")
        if rnd.random() < 0.15:
            c.gateway("takeover", agent="agent1", reason="request_human")
        if rnd.random() < 0.2:
            c.slot("offered_plans", [{"offer_id": "o1", "plan_type": "deferral"}]).bot("plan_accepted")
        if rnd.random() < 0.3:
            c.gateway("csat", score=rnd.randint(1, 5))
        if rnd.random() < 0.3:
            c.user(rnd.choice(("goodbye", "thank")))
        conversations.append(c)
    return conversations


async def ingest_in_two_waves(sessions, conversations: list[Conv], seed: int) -> None:
    """First part of every conversation, counted; then the rest (the facts change), with some
    events sent twice."""
    rnd = random.Random(seed)
    first, rest = [], []
    for c in conversations:
        cut = rnd.randint(1, len(c.events))
        first += c.events[:cut]
        rest += c.events[cut:]
    rnd.shuffle(first)
    for start in range(0, len(first), 37):
        await ingest_batch(sessions, first[start : start + 37])
    rest += rnd.sample(first, len(first) // 5)  # redelivered
    rnd.shuffle(rest)
    for start in range(0, len(rest), 53):
        await ingest_batch(sessions, rest[start : start + 53])


SINCE, UNTIL = date(2026, 9, 20), date(2026, 9, 26)
SELECTIONS = [
    (SINCE, UNTIL, None, None),
    (SINCE, UNTIL, "zh", None),
    (SINCE, UNTIL, None, "web"),
    (date(2026, 9, 22), date(2026, 9, 23), "en", "wechat"),
]


def _window(since: date, until: date) -> tuple[datetime, datetime]:
    return datetime.combine(since, time(), TZ), datetime.combine(until + timedelta(days=1), time(), TZ)


async def assert_rollups_agree_with_rows(sessions) -> None:
    door = DeskDoor(sessions)
    for since, until, language, channel in SELECTIONS:
        start, end = _window(since, until)
        for group in ("day", "week", "all"):
            filters = insights.Filters(since, until, language, channel, group)
            async with sessions() as s:
                cells = await store.overview_cells_from_facts(s, start, end, language, channel, "Asia/Shanghai", 480)
            expected = insights.overview_of_selection(cells, filters)
            assert await door.insights_overview(since, until, language, channel, group) == expected
            assert expected["total"]["median_duration_from_seconds"] is not None, "the durations are compared"
        async with sessions() as s:  # the CSAT ratings, which the overview does not show yet
            tallies = await store.overview_cells(s, since, until, language, channel)
        rated = [(c["csat_sum"], c["csat_count"]) for c in cells]
        assert sum(t.csat_sum for _, _, t in tallies) == sum(r[0] for r in rated)
        assert sum(t.csat_count for _, _, t in tallies) == sum(r[1] for r in rated)
        async with sessions() as s:
            cells = await store.funnel_cells_from_facts(s, start, end, language, channel)
        expected_funnel = funnel.funnel_of_selection(cells, bot_texts())
        got = await door.insights_funnel(since, until, language, channel)
        assert {k: v for k, v in got.items() if k != "filters"} == expected_funnel
        rows = await door._facts(since, until, channel, store.NLU_COLUMNS)
        for below in (0.0, 0.29, 0.3, 0.5, 0.9, 1.0):
            filters = insights.Filters(since, until, language, channel, "all")
            expected_nlu = nlu_health.nlu_health(rows, filters, below)
            assert await door.insights_nlu_health(since, until, language, channel, below) == expected_nlu
    # the low-confidence list read a few conversations at a time stops early and still agrees
    start, end = _window(SINCE, UNTIL)
    rows = await door._facts(SINCE, UNTIL, None, store.NLU_COLUMNS)
    for below in (0.3, 0.9):
        enough = nlu_health.enough_low_confidence(below)
        async with sessions() as s:
            low = await store.low_confidence_rows(s, start, end, None, None, below, enough, chunk=5)
        assert len(low) < len(rows), "the list was final before every conversation was read"
        filters = insights.Filters(SINCE, UNTIL, None, None, "all")
        expected = nlu_health.nlu_health(rows, filters, below)["low_confidence_messages"]
        assert nlu_health.nlu_health_of_cells([], low, filters, below)["low_confidence_messages"] == expected


async def test_rollups_give_the_figures_of_every_row_as_facts_change(sessions):
    await ingest_in_two_waves(sessions, generated(80, seed=7), seed=8)
    kept = await rollup_contents(sessions)
    assert kept["insights_nlu_daily"], "the generated conversations hold borrower messages"
    columns = [c.name for c in InsightsOverviewDaily.__table__.c]
    rated, counted = columns.index("csat_count"), columns.index("conversations")
    assert any(row[rated] for row in kept["insights_overview_daily"]), "and CSAT ratings (csat_count)"
    ranges = [columns.index(name) for name in DURATION_COLUMNS]
    assert all(row[counted] == sum(row[i] for i in ranges) for row in kept["insights_overview_daily"])
    assert sum(any(row[i] for row in kept["insights_overview_daily"]) for i in ranges) >= 6, "durations vary"
    await assert_rollups_agree_with_rows(sessions)
    # rebuilt from the facts, the rollups are what the consumer kept up to date
    assert await rebuild_insights(sessions) == 80
    assert await rollup_contents(sessions) == kept
    await assert_rollups_agree_with_rows(sessions)


async def test_a_fact_that_changes_moves_its_count(sessions):
    c = Conv("moved")
    c.t = FIRST
    c.action("action_session_start").user("greet", 0.9)
    await ingest_batch(sessions, c.events)
    c.gateway("handoff", reason="request_human").gateway("csat", score=4)
    c.bot(custom={"handoff": {"reason": "request_human"}})
    await ingest_batch(sessions, c.events)  # the first events again, and the new ones
    async with sessions() as s:
        rows = (await s.execute(select(InsightsOverviewDaily))).scalars().all()
    counted = {(r.escalated, r.escalation_reason): (r.conversations, r.csat_sum, r.csat_count) for r in rows}
    assert counted == {(False, ""): (0, 0, 0), (True, "request_human"): (1, 4, 1)}
    overview = await DeskDoor(sessions).insights_overview(SINCE, UNTIL, None, None, "all")
    assert overview["total"]["conversations"] == 1 and overview["total"]["escalation_rate"] == 1.0


async def test_rebuild_counts_history_the_consumer_never_saw(sessions):
    await ingest_in_two_waves(sessions, generated(12, seed=3), seed=4)
    kept = await rollup_contents(sessions)
    async with sessions() as s, s.begin():  # as after an upgrade: facts, no rollups yet
        for table in (InsightsOverviewDaily, InsightsFunnelDaily, InsightsNluDaily):
            await s.execute(table.__table__.delete())
    empty = await DeskDoor(sessions).insights_overview(SINCE, UNTIL, None, None, "all")
    assert empty["total"]["conversations"] == 0
    assert await rebuild_insights(sessions) == 12
    assert await rollup_contents(sessions) == kept


def test_a_confidence_is_below_a_threshold_exactly_when_its_hundredth_is():
    for confidence in (*CONFIDENCES, 0.0, 0.01, 0.07, 0.57, 0.58, 0.289999999, 0.1 + 0.2, 2.5, -0.01):
        for k in range(0, 101):
            assert (confidence < k / 100) == (confidence_pct(confidence) < k), (confidence, k)
    assert confidence_pct(None) < confidence_pct(float("-inf")) < 0 < confidence_pct(float("inf"))


async def test_the_rebuild_command(db_url, sessions, monkeypatch, capsys):
    import asyncio

    from ledger.cli import main

    await ingest_in_two_waves(sessions, generated(5, seed=5), seed=6)
    kept = await rollup_contents(sessions)
    async with sessions() as s, s.begin():
        await s.execute(InsightsNluDaily.__table__.delete())
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert await asyncio.to_thread(main, ["rebuild-insights"]) in (0, None)
    assert "rebuilt from 5 conversations" in capsys.readouterr().out
    assert await rollup_contents(sessions) == kept
