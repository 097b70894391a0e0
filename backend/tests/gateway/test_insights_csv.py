"""Every table of the insights page as CSV (docs/insights.md, "CSV export"): the same figures as
the page's JSON with the same filters, the review list streamed with its filters, a clear 4xx
for a bad filter, an unknown table or too many conversations, and no identity data."""

from __future__ import annotations

import csv
import io

import pytest

from huanxin_testkit.gw_helpers import desk_for, other_client
from test_insights_page import store_conversations


@pytest.fixture
async def analyst(gateway_client, aiohttp_client):
    client = await other_client(aiohttp_client, gateway_client)
    return await desk_for(client, "ana-csv", role="analyst")


async def _csv(analyst, path: str, **params) -> list[dict[str, str]]:
    resp = await analyst.client.get(path, params=params)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    text = await resp.text()
    assert "13800000001" not in text and "110101" not in text  # the test borrower's phone, an ID's start
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_overview_rows_as_csv(gateway_client, analyst, database_url, clock):
    await store_conversations(database_url, clock())
    page = await (await analyst.client.get("/insights/api/overview", params={"group": "all"})).json()
    rows = await _csv(analyst, "/insights/api/tables/overview.csv", group="all")
    assert [(r["period"], r["language"], r["channel"]) for r in rows] == [
        ("all", "all", "all"), ("all", "en", "wechat"), ("all", "zh", "web")]  # fmt: skip
    total = rows[0]
    assert total["conversations"] == "2" and total["containment"] == "0.5000"
    assert total["escalation_by_reason.request_human"] == "0.5000"
    assert total["median_duration_from_seconds"] == str(page["total"]["median_duration_from_seconds"])
    assert rows[1]["escalation_by_reason.request_human"] == ""  # en/wechat: nobody handed off
    only_en = await _csv(analyst, "/insights/api/tables/overview.csv", language="en", group="all")
    assert [r["conversations"] for r in only_en] == ["1", "1"]


async def test_the_funnel_steps_as_csv(gateway_client, analyst, database_url, clock):
    await store_conversations(database_url, clock())
    rows = await _csv(analyst, "/insights/api/tables/funnel.csv")
    total = [r for r in rows if r["language"] == "all"]
    assert [r["step"] for r in total] == ["started", "verified", "status_explained", "hardship_collected",
                                          "offers_shown", "committed"]  # fmt: skip
    assert total[0]["reached"] == "2" and total[0]["stopped"] == "1" and total[0]["drop_off"] == "0.5000"
    assert total[-1]["committed_as.plan_accepted"] == "0" and total[0]["committed_as.plan_accepted"] == ""
    assert {(r["language"], r["channel"]) for r in rows} == {("all", "all"), ("en", "wechat"), ("zh", "web")}


async def test_the_nlu_tables_as_csv(gateway_client, analyst, database_url, clock):
    await store_conversations(database_url, clock())
    languages = await _csv(analyst, "/insights/api/tables/nlu_languages.csv", below="0.5")
    assert [(r["language"], r["messages"], r["fallbacks"]) for r in languages] == [
        ("all", "6", "1"), ("en", "1", "1"), ("zh", "5", "0")]  # fmt: skip
    intents = await _csv(analyst, "/insights/api/tables/nlu_intents.csv")
    assert {"language", "intent", "messages", "share", "low_confidence"} <= set(intents[0])
    assert sum(int(r["messages"]) for r in intents if r["language"] == "all") == 6
    confused = await _csv(analyst, "/insights/api/tables/nlu_confused.csv")
    assert all(r["confused"] for r in confused)
    messages = await _csv(analyst, "/insights/api/tables/nlu_messages.csv", below="0.5")
    found = [(m["conversation_id"], m["intent"], m["turn"]) for m in messages]
    assert found == [("insights-b", "nlu_fallback", "1")]
    assert "text" not in messages[0]


async def test_the_ledger_outcomes_as_csv(gateway_client, analyst, database_url, clock):
    await store_conversations(database_url, clock())
    rows = await _csv(analyst, "/insights/api/tables/ledger.csv")
    assert rows[0]["by"] == "all" and rows[0]["selected"] == "2" and rows[0]["linked"] == "0"
    assert "paid_within_7d.eligible" in rows[0] and "promises.kept_share" in rows[0]


async def test_the_review_list_as_csv(gateway_client, analyst, database_url, clock):
    await store_conversations(database_url, clock())
    rows = await _csv(analyst, "/insights/api/conversations.csv")
    assert [r["conversation_id"] for r in rows] == ["insights-b", "insights-a"]  # newest first, as the list
    assert list(rows[0]) == ["conversation_id", "started_at", "language", "channel", "turns", "furthest_step",
                             "outcome", "escalated", "fallbacks", "low_confidence", "csat", "reviewed",
                             "tags"]  # fmt: skip
    escalated = await _csv(analyst, "/insights/api/conversations.csv", escalated="yes")
    assert [r["conversation_id"] for r in escalated] == ["insights-a"] and escalated[0]["escalated"] == "true"
    fallback = await _csv(analyst, "/insights/api/conversations.csv", fallback="yes", language="en")
    assert [r["conversation_id"] for r in fallback] == ["insights-b"]


async def test_the_review_csv_is_streamed_in_pages(gateway_client, analyst, database_url, clock, monkeypatch):
    from ledger.desk_door import DeskDoor

    await store_conversations(database_url, clock())
    pages = []
    original = DeskDoor.insights_review_rows

    async def small_pages(self, *args, **kwargs):
        async for page in original(self, *args, **{**kwargs, "chunk": 1}):
            pages.append(page)
            yield page

    monkeypatch.setattr(DeskDoor, "insights_review_rows", small_pages)
    rows = await _csv(analyst, "/insights/api/conversations.csv")
    assert [r["conversation_id"] for r in rows] == ["insights-b", "insights-a"] and len(pages) == 2


@pytest.mark.parametrize(
    ("path", "params", "status", "named"),
    [
        ("/insights/api/tables/overview.csv", {"group": "year"}, 400, "group"),
        ("/insights/api/tables/overview.csv", {"since": "2026-02-30"}, 400, "since"),
        ("/insights/api/tables/funnel.csv", {"group": "day"}, 400, "unknown parameter"),
        ("/insights/api/tables/nlu_intents.csv", {"below": "0.555"}, 400, "at most two decimals"),
        ("/insights/api/tables/nlu_messages.csv", {"language": "de"}, 400, "language"),
        ("/insights/api/tables/ledger.csv", {"channel": "a b"}, 400, "channel"),
        ("/insights/api/tables/ledger.csv", {"below": "0.5"}, 400, "unknown parameter"),
        ("/insights/api/tables/everything.csv", {}, 404, "the tables are"),
        ("/insights/api/conversations.csv", {"outcome": "won"}, 400, "outcome"),
        ("/insights/api/conversations.csv", {"limit": "10"}, 400, "no limit"),
        ("/insights/api/conversations.csv", {"since": "2026-01-01", "until": "2027-06-01"}, 400, "366"),
    ],
)
async def test_a_bad_filter_is_a_clear_4xx(analyst, path, params, status, named):
    resp = await analyst.client.get(path, params=params)
    assert resp.status == status
    assert named in (await resp.json())["detail"]


async def test_an_oversized_review_csv_is_a_413_before_any_row(
    gateway_client, analyst, database_url, clock, monkeypatch
):
    from gateway import insights_web

    await store_conversations(database_url, clock())
    monkeypatch.setattr(insights_web, "MAX_CSV_ROWS", 1)
    too_many = await analyst.client.get("/insights/api/conversations.csv")
    assert too_many.status == 413 and "fewer days" in (await too_many.json())["detail"]
    assert len(await _csv(analyst, "/insights/api/conversations.csv", escalated="yes")) == 1


async def test_an_agent_gets_a_403(gateway_client, aiohttp_client):
    agent = await desk_for(await other_client(aiohttp_client, gateway_client), "agent-csv", role="agent")
    for path in ("/insights/api/tables/overview.csv", "/insights/api/conversations.csv"):
        assert (await agent.client.get(path)).status == 403
