"""Review and annotation on /insights: an analyst lists conversations with filters, reads a
transcript where identity answers and national IDs never show, labels a borrower message, and
downloads the corrections as Rasa NLU training data; bad input is a 4xx that changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml

from huanxin_redaction import MASK
from huanxin_testkit.gw_helpers import desk_for, other_client
from huanxin_testkit.stream_events import Conv
from ledger.db.session import create_engine, create_session_factory
from ledger.services.analytics import ingest_batch

SECRETS = ("13800000001", "110101199003151234", "1990-03-15")


def said(conv: Conv, intent: str, text: str, confidence: float = 0.9) -> Conv:
    conv.user(intent, confidence)
    conv.events[-1]["text"] = text
    conv.events[-1]["parse_data"]["text"] = text
    return conv


async def store(database_url: str, now: datetime) -> dict[str, str]:
    """A conversation with identity answers, a misunderstood message and a fallback; and a
    second one that ended in a promise."""
    a = Conv("review-a")
    a.t = (now - timedelta(hours=2)).timestamp()
    said(a, "ask_overdue_status", "how much do I owe")
    a.action("verification_form").slot("requested_slot", "identity_phone")
    said(a, "inform", "13800000001")
    a.slot("requested_slot", "identity_dob")
    said(a, "inform", "1990-03-15")
    a.slot("requested_slot", None).slot("verified", True)
    said(a, "ask_fees", "I can only pay next month", 0.41)
    said(a, "nlu_fallback", "my id 110101199003151234 why", 0.2)
    b = Conv("review-b", language="en")
    b.t = a.t
    said(b, "promise_to_pay", "I will pay on Friday")
    b.bot("promise_ok")
    engine = create_engine(database_url)
    try:
        await ingest_batch(create_session_factory(engine), a.events + b.events)
    finally:
        await engine.dispose()
    return {"phone": a.events[3]["huanxin_event_id"], "misread": a.events[8]["huanxin_event_id"]}


@pytest.fixture
async def analyst(gateway_client, aiohttp_client):
    return await desk_for(await other_client(aiohttp_client, gateway_client), "ana", role="analyst")


async def test_list_read_label_and_export(analyst, database_url, clock):
    await review_flow(analyst, database_url, clock)


async def test_the_same_on_postgresql(make_gateway, aiohttp_client, pg_database_url, clock):
    client = await make_gateway(database_url=pg_database_url)
    await review_flow(await desk_for(client, "ana-pg", role="analyst"), pg_database_url, clock)


async def review_flow(analyst, database_url, clock):
    ids = await store(database_url, clock())
    listed = await (await analyst.client.get("/insights/api/conversations", params={"outcome": "none"})).json()
    assert [c["conversation_id"] for c in listed["conversations"]] == ["review-a"]
    assert listed["conversations"][0]["reviewed"] is False

    resp = await analyst.client.get("/insights/api/conversations/review-a")
    assert resp.status == 200
    body = await resp.text()
    for secret in SECRETS:
        assert secret not in body
    view = await resp.json()
    users = [m for m in view["messages"] if m["kind"] == "user"]
    assert [m["identity_answer"] for m in users] == [False, True, True, False, False]
    assert users[4]["text"] == f"my id {MASK} why"

    labelled = await analyst.post(
        "/insights/api/conversations/review-a/annotations",
        {"event_id": ids["misread"], "intent": "promise_to_pay", "tag": "wrong_intent"},
    )
    assert labelled.status == 201, await labelled.text()
    # an identity answer labelled (by mistake) never reaches the training data
    assert (await analyst.post(
        "/insights/api/conversations/review-a/annotations", {"event_id": ids["phone"], "intent": "inform"}
    )).status == 201  # fmt: skip
    done = await analyst.post(
        "/insights/api/conversations/review-a/annotations", {"reviewed": True, "note": "call 13800000001 back"}
    )
    assert done.status == 201 and "13800000001" not in await done.text()

    view = await (await analyst.client.get("/insights/api/conversations/review-a")).json()
    misread = next(m for m in view["messages"] if m.get("event_id") == ids["misread"])
    assert misread["annotation"]["intent"] == "promise_to_pay"
    reviewed = await (await analyst.client.get("/insights/api/conversations", params={"reviewed": "yes"})).json()
    assert [c["conversation_id"] for c in reviewed["conversations"]] == ["review-a"]
    tagged = await (await analyst.client.get("/insights/api/conversations", params={"tag": "wrong_intent"})).json()
    assert tagged["total"] == 1

    export = await analyst.client.get("/insights/api/annotations/export", params={"language": "zh"})
    assert export.status == 200 and "attachment" in export.headers["Content-Disposition"]
    text = await export.text()
    for secret in SECRETS:
        assert secret not in text
    data = yaml.safe_load(text)
    assert data["nlu"] == [{"intent": "promise_to_pay", "examples": "- I can only pay next month\n"}]
    assert "identity 1" in text  # the phone answer, left out and counted


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"outcome": "won"}, "outcome"),
        ({"escalated": "maybe"}, "escalated"),
        ({"fallback": "2"}, "fallback"),
        ({"intent": "hack"}, "intent"),
        ({"below": "-1"}, "below"),
        ({"step": "paid"}, "step"),
        ({"reviewed": "y e s"}, "reviewed"),
        ({"tag": "DROP TABLE"}, "tag"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"offset": "-3"}, "offset"),
        ({"offset": "10001"}, "offset"),
        ({"after": "yesterday~c1"}, "after"),
        ({"after": "2026-11-02T09:00:00~c1"}, "after"),  # no offset: which zone?
        ({"after": "2026-11-02T09:00:00+00:00"}, "after"),
        ({"after": "2026-11-02T09:00:00+00:00~c1", "offset": "5"}, "not both"),
        ({"group": "day"}, "unknown parameter"),
    ],
)
async def test_bad_review_filters_are_a_400(analyst, params, named):
    resp = await analyst.client.get("/insights/api/conversations", params=params)
    assert resp.status == 400
    body = await resp.json()
    assert body["code"] == "invalid_filter" and named in body["detail"]


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"intent": "promise_to_pay"}, 400, "event_id"),
        ({"event_id": "nope", "intent": "promise_to_pay"}, 400, "event_id"),
        ({"event_id": "EVENT", "intent": "not_an_intent"}, 400, "intent"),
        ({"tag": "Bad Tag"}, 400, "tag"),
        ({"note": "x" * 501}, 400, "note"),
        ({"reviewed": "yes"}, 400, "reviewed"),
        ({}, 400, "say something"),
        ({"colour": "red"}, 400, "unknown field"),
        ([1, 2], 400, "object"),
    ],
)
async def test_bad_annotations_are_refused_and_store_nothing(analyst, database_url, clock, body, status, named):
    ids = await store(database_url, clock())
    if isinstance(body, dict) and body.get("event_id") == "EVENT":
        body = {**body, "event_id": ids["misread"]}
    resp = await analyst.post("/insights/api/conversations/review-a/annotations", body)
    assert resp.status == status
    assert named in (await resp.json())["detail"]
    listed = await (await analyst.client.get("/insights/api/conversations", params={"reviewed": "yes"})).json()
    view = await (await analyst.client.get("/insights/api/conversations/review-a")).json()
    assert listed["total"] == 0 and not any("annotation" in m for m in view["messages"])


async def test_an_event_of_another_conversation_or_a_bot_message_is_refused(analyst, database_url, clock):
    ids = await store(database_url, clock())
    other = await analyst.post(
        "/insights/api/conversations/review-b/annotations", {"event_id": ids["misread"], "intent": "ask_fees"}
    )
    assert other.status == 400


async def test_unknown_conversations_and_bad_json(analyst, database_url, clock):
    await store(database_url, clock())
    assert (await analyst.client.get("/insights/api/conversations/nobody")).status == 404
    assert (await analyst.post("/insights/api/conversations/nobody/annotations", {"reviewed": True})).status == 404
    raw = await analyst.client.post(
        "/insights/api/conversations/review-a/annotations",
        data="{not json",
        headers={"X-CSRF-Token": analyst.csrf, "Content-Type": "application/json"},
    )
    assert raw.status == 400
    assert (await analyst.client.get("/insights/api/annotations/export")).status == 400
    assert (await analyst.client.get("/insights/api/annotations/export", params={"language": "fr"})).status == 400


async def test_an_agent_can_do_none_of_it(gateway_client, aiohttp_client, database_url, clock):
    await store(database_url, clock())
    agent = await desk_for(await other_client(aiohttp_client, gateway_client), "agent-x", role="agent")
    for path in ("/insights/api/conversations", "/insights/api/conversations/review-a",
                 "/insights/api/annotations/export?language=zh"):  # fmt: skip
        assert (await agent.client.get(path)).status == 403, path
    refused = await agent.post("/insights/api/conversations/review-a/annotations", {"reviewed": True})
    assert refused.status == 403
