"""/insights: behind the desk login, for the analyst role only (a clear 403 for everyone else);
an analyst reaches no conversation; filters with impossible values are a 400 naming them; the
figures are those of the stored conversation facts."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from huanxin_testkit.gw_helpers import desk_for, escalated_conversation, other_client
from huanxin_testkit.stream_events import Conv
from ledger.db.session import create_engine, create_session_factory
from ledger.services.analytics import ingest_batch


async def store_conversations(database_url: str, clock_now: datetime) -> None:
    """Two conversations' events, stored as the consumer stores them: one verified borrower who
    asked for a person, one who left after a fallback."""
    t0 = (clock_now - timedelta(hours=2)).timestamp()
    a = Conv("insights-a")
    a.t = t0
    a.verify().user("request_human").bot(custom={"handoff": {"reason": "request_human"}})
    b = Conv("insights-b", channel="wechat", language="en")
    b.t = t0
    b.user("nlu_fallback", 0.2).action("action_clarify")
    engine = create_engine(database_url)
    try:
        await ingest_batch(create_session_factory(engine), a.events + b.events)
    finally:
        await engine.dispose()


@pytest.fixture
async def analyst(gateway_client, aiohttp_client):
    client = await other_client(aiohttp_client, gateway_client)
    return await desk_for(client, "ana", role="analyst")


async def test_an_analyst_sees_the_figures_with_their_definitions(gateway_client, analyst, database_url, clock):
    await store_conversations(database_url, clock())
    page = await analyst.client.get("/insights")
    assert page.status == 200 and "insights.js" in await page.text()
    resp = await analyst.client.get("/insights/api/overview", params={"group": "all"})
    assert resp.status == 200
    data = await resp.json()
    total = data["total"]
    assert total["conversations"] == 2
    assert total["containment"] == 0.5 and total["escalation_rate"] == 0.5
    assert total["escalation_by_reason"] == {"request_human": 0.5}
    assert total["verification_success"] == 1.0
    assert total["fallback_rate"] == round(1 / 6, 4)
    assert total["abandonment"] == 0.5
    assert data["definitions"]["containment"]["en"].startswith("Share of conversations that needed no person")
    only_en = await (await analyst.client.get("/insights/api/overview", params={"language": "en"})).json()
    assert only_en["total"]["conversations"] == 1
    wechat = await (await analyst.client.get("/insights/api/overview", params={"channel": "wechat"})).json()
    assert wechat["total"]["conversations"] == 1


async def test_an_analyst_reaches_no_conversation(gateway_client, analyst):
    widget = await escalated_conversation(gateway_client)
    desk = await analyst.client.get("/desk", allow_redirects=False)
    assert desk.status == 303 and desk.headers["Location"] == "/insights"
    for path in ("/desk/api/queue", f"/desk/api/conversations/{widget.conversation_id}", "/ws/desk"):
        resp = await analyst.client.get(path)
        assert resp.status == 403, path
        assert "/insights" in (await resp.json())["detail"]
    took = await analyst.post(f"/desk/api/conversations/{widget.conversation_id}/take")
    assert took.status == 403
    me = await (await analyst.client.get("/desk/api/me")).json()
    assert me["role"] == "analyst"


INSIGHTS_GETS = (
    "/insights",
    "/insights/api/overview",
    "/insights/api/funnel",
    "/insights/api/nlu",
    "/insights/api/facts.csv",
    "/insights/api/ledger",
)


async def test_an_agent_gets_a_clear_403_everywhere(gateway_client, aiohttp_client):
    desk = await desk_for(await other_client(aiohttp_client, gateway_client), "user-agent", role="agent")
    page = await desk.client.get("/insights")
    assert page.status == 403 and "analyst" in await page.text()
    for path in INSIGHTS_GETS[1:]:
        api = await desk.client.get(path)
        assert api.status == 403 and "analyst" in (await api.json())["detail"], path


async def test_a_supervisor_reads_the_insights_too(gateway_client, aiohttp_client):
    desk = await desk_for(await other_client(aiohttp_client, gateway_client), "user-supervisor", role="supervisor")
    for path in INSIGHTS_GETS:
        assert (await desk.client.get(path)).status == 200, path


async def test_without_a_login_the_page_sends_to_the_login(gateway_client):
    page = await gateway_client.get("/insights", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/desk/login"
    for path in INSIGHTS_GETS[1:]:
        assert (await gateway_client.get(path)).status == 401, path


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"since": "2026-13-01"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"since": "2026-11-10", "until": "2026-11-01"}, "since must not be after until"),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "at most 366 days"),
        ({"language": "fr"}, "language"),
        ({"channel": "<script>"}, "channel"),
        ({"group": "hour"}, "group"),
        ({"borrower": "x"}, "unknown parameter"),
    ],
)
async def test_impossible_filters_are_a_400_naming_them(analyst, params, named):
    resp = await analyst.client.get("/insights/api/overview", params=params)
    assert resp.status == 400
    body = await resp.json()
    assert body["code"] == "invalid_filter" and named in body["detail"]


async def test_the_funnel_and_nlu_health_from_stored_facts(gateway_client, analyst, database_url, clock):
    await store_conversations(database_url, clock())
    funnel = await (await analyst.client.get("/insights/api/funnel")).json()
    steps = {s["step"]: s for s in funnel["total"]["steps"]}
    assert steps["started"]["reached"] == 2 and steps["started"]["stopped"] == 1
    assert steps["status_explained"]["reached"] == 1  # a is verified and told the status
    assert steps["started"]["last_bot_before_stop"] == [
        {"text_key": "-", "language": "en", "text": None, "conversations": 1}
    ]
    assert [(g["language"], g["channel"]) for g in funnel["groups"]] == [("en", "wechat"), ("zh", "web")]
    assert funnel["definitions"]["drop_off"]["en"]
    nlu = await (await analyst.client.get("/insights/api/nlu", params={"below": "0.5"})).json()
    assert nlu["total"]["messages"] == 6 and nlu["total"]["fallbacks"] == 1
    assert nlu["low_confidence_messages"][0]["conversation_id"] == "insights-b"
    assert [lang["language"] for lang in nlu["languages"]] == ["en", "zh"]


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/insights/api/funnel", {"since": "2026-02-30"}, "since"),
        ("/insights/api/funnel", {"group": "day"}, "unknown parameter"),
        ("/insights/api/nlu", {"below": "2"}, "below"),
        ("/insights/api/nlu", {"below": "nan"}, "below"),
        ("/insights/api/nlu", {"below": "x"}, "below"),
        ("/insights/api/nlu", {"below": "0.555"}, "at most two decimals"),
        ("/insights/api/nlu", {"language": "de"}, "language"),
    ],
)
async def test_bad_funnel_and_nlu_filters_are_a_400(analyst, path, params, named):
    resp = await analyst.client.get(path, params=params)
    assert resp.status == 400
    body = await resp.json()
    assert body["code"] == "invalid_filter" and named in body["detail"]


async def test_the_facts_as_csv(gateway_client, analyst, database_url, clock):
    await store_conversations(database_url, clock())
    resp = await analyst.client.get("/insights/api/facts.csv", params={"language": "zh"})
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert [r["conversation_id"] for r in rows] == ["insights-a"]
    assert rows[0]["verified"] == "true" and rows[0]["escalation_reason"] == "request_human"
    assert "13800000001" not in await resp.text()


async def test_an_oversized_csv_is_a_413_and_a_bad_filter_a_400(
    gateway_client, analyst, database_url, clock, monkeypatch
):
    from gateway import insights_web

    await store_conversations(database_url, clock())
    monkeypatch.setattr(insights_web, "MAX_CSV_ROWS", 1)
    too_many = await analyst.client.get("/insights/api/facts.csv")
    assert too_many.status == 413 and "fewer days" in (await too_many.json())["detail"]
    assert (await analyst.client.get("/insights/api/facts.csv", params={"channel": "wechat"})).status == 200
    one_language = await analyst.client.get("/insights/api/facts.csv", params={"language": "en"})
    assert one_language.status == 200 and len((await one_language.text()).splitlines()) == 2  # header, 1 row
    bad = await analyst.client.get("/insights/api/facts.csv", params={"until": "2026-02-31"})
    assert bad.status == 400 and "until" in (await bad.json())["detail"]


async def test_ledger_outcomes_of_the_conversations(gateway_client, analyst, database_url, clock):
    """A verified borrower paid 123.45 three days after the conversation and so kept the promise
    made in it; a conversation nobody verified in is not linked."""
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from huanxin_testkit.stream_events import Conv
    from ledger.db import models as m
    from ledger.services.seeding import seed_demo

    now = clock()
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    day = today - timedelta(days=40)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        ids = await seed_demo(sessions, salt="test-salt", today=today)
        async with sessions() as s, s.begin():
            loan = (await s.execute(select(m.Loan).where(m.Loan.borrower_id == ids["D1"]))).scalars().first()
            s.add(m.VerificationSession(token_hash="t" * 64, borrower_id=ids["D1"], conversation_id="ledger-a",
                                        created_at=now, last_used_at=now, expires_at=now))  # fmt: skip
            s.add(m.Payment(loan_id=loan.id, external_ref="ledger-a-pay", amount=Decimal("123.45"),
                            received_on=day + timedelta(days=3), channel="bank", created_at=now))  # fmt: skip
            s.add(m.Promise(loan_id=loan.id, amount=Decimal("123.45"), promised_date=day + timedelta(days=5),
                            made_on=day, created_at=now, window_ends_on=day + timedelta(days=10)))  # fmt: skip
        start = datetime.combine(day, datetime.min.time(), ZoneInfo("Asia/Shanghai")) + timedelta(hours=10)
        linked, unlinked = Conv("ledger-a"), Conv("ledger-b")
        linked.t = unlinked.t = start.timestamp()
        linked.verify()
        unlinked.user("greet")
        await ingest_batch(sessions, linked.events + unlinked.events)
    finally:
        await engine.dispose()
    resp = await analyst.client.get("/insights/api/ledger", params={"since": (today - timedelta(days=45)).isoformat()})
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert data["conversations"] == 2 and data["linked"] == 1
    total = data["total"]
    assert total["paid_within_7d"] == {"eligible": 1, "paid": 1, "share": 1.0, "amount": "123.45"}
    assert total["paid_within_30d"]["amount"] == "123.45"
    assert total["promises"] == {"made": 1, "kept": 1, "broken": 0, "open": 0, "kept_share": 1.0}
    assert data["definitions"]["paid_within_7d"]["en"].startswith("Of the linked conversations")
    bad = await analyst.client.get("/insights/api/ledger", params={"channel": "a b"})
    assert bad.status == 400


async def test_the_funnel_on_postgresql(make_gateway, pg_database_url, clock):
    """The funnel is grouped in the database (JSON first language, outcomes as text): the same
    figures on PostgreSQL."""
    client = await make_gateway(database_url=pg_database_url)
    analyst = await desk_for(client, "ana-pg", role="analyst")
    await store_conversations(pg_database_url, clock())
    funnel = await (await analyst.client.get("/insights/api/funnel")).json()
    steps = {s["step"]: s for s in funnel["total"]["steps"]}
    assert steps["started"]["reached"] == 2 and steps["status_explained"]["reached"] == 1
    assert [(g["language"], g["channel"]) for g in funnel["groups"]] == [("en", "wechat"), ("zh", "web")]
    only_en = await (await analyst.client.get("/insights/api/funnel", params={"language": "en"})).json()
    assert only_en["total"]["steps"][0]["reached"] == 1


async def test_the_overview_counts_days_in_the_business_time_zone(make_gateway, database_url, clock):
    """The overview is grouped in the database: a conversation at 17:30 UTC is on the next day
    in Shanghai; the figures match the stored facts."""
    await overview_in_the_time_zone(make_gateway, database_url, clock, "sqlite")


async def test_the_same_on_postgresql(make_gateway, pg_database_url, clock):
    await overview_in_the_time_zone(make_gateway, pg_database_url, clock, "postgresql")


async def overview_in_the_time_zone(make_gateway, url, clock, backend):
    from zoneinfo import ZoneInfo

    from huanxin_testkit.stream_events import Conv

    client = await make_gateway(database_url=url)
    analyst = await desk_for(client, f"ana-{backend}", role="analyst")
    await store_conversations(url, clock())
    late = Conv("insights-late")
    day = clock().astimezone(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=3)
    late.t = datetime(day.year, day.month, day.day, 17, 30, tzinfo=ZoneInfo("UTC")).timestamp()
    late.user("greet").user("goodbye")
    engine = create_engine(url)
    try:
        await ingest_batch(create_session_factory(engine), late.events)
    finally:
        await engine.dispose()
    data = await (await analyst.client.get("/insights/api/overview")).json()
    periods = {p["period"]: p["conversations"] for p in data["periods"]}
    assert periods[(day + timedelta(days=1)).isoformat()] == 1 and day.isoformat() not in periods
    total = data["total"]
    assert total["conversations"] == 3 and total["escalation_by_reason"] == {"request_human": round(1 / 3, 4)}
    assert total["fallback_rate"] == round(1 / 8, 4) and total["median_turns"] == 2
    assert (total["median_duration_from_seconds"], total["median_duration_to_seconds"]) == (0, 15)
    only_en = await (
        await analyst.client.get("/insights/api/overview", params={"language": "en", "group": "all"})
    ).json()
    assert only_en["total"]["conversations"] == 1


async def csat_in_the_overview(make_gateway, url, clock, backend):
    """CSAT in the overview: the average score of the rated conversations and how many rated,
    in total, per period and per language and channel; a conversation nobody rated counts in
    neither."""
    client = await make_gateway(database_url=url)
    analyst = await desk_for(client, f"ana-csat-{backend}", role="analyst")
    t0 = (clock() - timedelta(hours=2)).timestamp()
    events = []
    for name, language, score in (("a", "zh", 5), ("b", "zh", 2), ("c", "en", 4), ("d", "en", None)):
        conv = Conv(f"csat-{backend}-{name}", language=language)
        conv.t = t0
        conv.user("greet").user("goodbye")
        if score is not None:
            conv.gateway("csat", score=score)
        events += conv.events
    engine = create_engine(url)
    try:
        await ingest_batch(create_session_factory(engine), events)
    finally:
        await engine.dispose()
    data = await (await analyst.client.get("/insights/api/overview", params={"group": "all"})).json()
    assert (data["total"]["csat_average"], data["total"]["csat_count"]) == (round(11 / 3, 2), 3)
    assert data["total"]["conversations"] == 4
    assert [(p["csat_average"], p["csat_count"]) for p in data["periods"]] == [(round(11 / 3, 2), 3)]
    by_language = {r["language"]: (r["csat_average"], r["csat_count"]) for r in data["rows"]}
    assert by_language == {"zh": (3.5, 2), "en": (4.0, 1)}
    assert data["definitions"]["csat"]["en"].startswith("Average rating (1-5)")
    only_en = await (await analyst.client.get("/insights/api/overview", params={"language": "en"})).json()
    assert (only_en["total"]["csat_average"], only_en["total"]["csat_count"]) == (4.0, 1)
    wechat = await (await analyst.client.get("/insights/api/overview", params={"channel": "wechat"})).json()
    assert (wechat["total"]["csat_average"], wechat["total"]["csat_count"]) == (None, 0)


async def test_csat_in_the_overview(make_gateway, database_url, clock):
    await csat_in_the_overview(make_gateway, database_url, clock, "sqlite")


async def test_csat_in_the_overview_on_postgresql(make_gateway, pg_database_url, clock):
    await csat_in_the_overview(make_gateway, pg_database_url, clock, "postgresql")
