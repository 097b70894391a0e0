"""The queue's filters and search (GET /desk/api/queue): escalation reason, language and waiting
time in SQL on the gateway's rows; the ledger's bucket and the search over a line's case number,
loan numbers and borrower name on the batched summaries; combinable with filter= and label=.
Each bad value is a 400 naming its parameter and changes nothing; an agent never reaches another
agent's conversation through a search; message text and identity facts are never searched."""

from __future__ import annotations

import pytest

from huanxin_testkit.gw_desk import gateway_factory
from huanxin_testkit.gw_helpers import Widget, agent_desk, desk_for, escalated_conversation
from ledger.services.context import Ledger
from test_handoff_card import verified_and_escalated


class Summaries:
    """An account reader with the batched read: each conversation's summary as the test sets it."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict | None] = {}

    async def account(self, conversation_id: str):
        return None

    async def summaries(self, conversations):
        return {c.id: self.by_id.get(c.id) for c in conversations}

    def bucket_names(self) -> tuple[str, ...]:
        return ("M0", "M1", "M2", "M3", "M3+")


@pytest.fixture
def make_desk_gateway(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa):
    return gateway_factory(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa)


async def zh_escalation(client) -> Widget:
    widget = await Widget.open(client, language="zh")
    await widget.send("我要人工", "m1")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    return widget


async def picked_up(client, desk) -> Widget:
    """A live bot conversation an agent takes (reason agent_pickup)."""
    widget = await Widget.open(client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    assert (await desk.take(widget.conversation_id)).status == 200
    return widget


async def ids(desk, query: str) -> set[str]:
    resp = await desk.client.get(f"/desk/api/queue?{query}")
    assert resp.status == 200, await resp.text()
    return {c["conversation_id"] for c in (await resp.json())["conversations"]}


async def test_reason_language_and_waiting_time_combine_with_filter_and_label(make_desk_gateway, clock):
    client = await make_desk_gateway(accounts=Summaries())
    li = await desk_for(client, "li.na")
    a = (await escalated_conversation(client)).conversation_id  # en, request_human
    clock.advance(10 * 60)
    b = (await zh_escalation(client)).conversation_id  # zh, request_human, 10 minutes later
    c = (await picked_up(client, li)).conversation_id  # li.na's, agent_pickup
    clock.advance(6 * 60)  # a has waited 16 minutes, b 6
    await li.post(f"/desk/api/conversations/{a}/labels", {"add": ["vip"]})

    assert await ids(li, "") == {a, b, c}
    assert await ids(li, "reason=request_human") == {a, b}
    assert await ids(li, "reason=agent_pickup") == {c}
    assert await ids(li, "reason=complaint") == set()
    assert await ids(li, "language=zh") == {b}
    assert await ids(li, "language=en") == {a, c}
    assert await ids(li, "waiting_min=5") == {a, b}
    assert await ids(li, "waiting_min=15") == {a}
    assert await ids(li, "waiting_min=60") == set()
    assert await ids(li, "filter=waiting&language=en") == {a}
    assert await ids(li, "filter=mine&reason=agent_pickup") == {c}
    assert await ids(li, "filter=mine&waiting_min=5") == set()  # taken: not waiting any more
    assert await ids(li, "reason=request_human&language=zh&waiting_min=5") == {b}
    assert await ids(li, "label=vip&reason=request_human&waiting_min=15") == {a}
    assert await ids(li, "label=vip&language=zh") == set()


async def test_bucket_and_search_use_the_ledgers_summaries(make_desk_gateway):
    accounts = Summaries()
    client = await make_desk_gateway(accounts=accounts)
    li = await desk_for(client, "li.na")
    a = (await escalated_conversation(client)).conversation_id
    b = (await zh_escalation(client)).conversation_id
    accounts.by_id[a] = {
        "borrower_name": "王芳",
        "bucket": "M1",
        "case_number": "ESC-2026-000123",
        "loan_numbers": ["HX0000000001"],
    }
    accounts.by_id[b] = {
        "borrower_name": "Li Qiang",
        "bucket": "M3+",
        "case_number": None,
        "loan_numbers": ["HX0000000002", "HX0000000009"],
    }
    c = (await picked_up(client, li)).conversation_id  # no borrower linked: no summary

    lines = {x["conversation_id"]: x for x in (await (await li.client.get("/desk/api/queue")).json())["conversations"]}
    assert lines[a]["case_number"] == "ESC-2026-000123" and lines[a]["loan_numbers"] == ["HX0000000001"]
    assert lines[c]["case_number"] is None and lines[c]["loan_numbers"] == []
    assert await ids(li, "bucket=M1") == {a}
    assert await ids(li, "bucket=M3%2B") == {b}
    assert await ids(li, "bucket=M2") == set()
    assert await ids(li, "q=王") == {a}
    assert await ids(li, "q=li%20QIANG") == {b}  # case-insensitive
    assert await ids(li, "q=%20esc-2026-000123%20") == {a}  # trimmed
    assert await ids(li, "q=0000000009") == {b}
    assert await ids(li, "q=HX") == {a, b}
    assert await ids(li, f"q={c[:8].upper()}") == {c}  # the short reference the desk shows
    assert await ids(li, f"q={c[3:11]}") == set()  # a reference matches from its start only
    assert await ids(li, "q=pickup") == {c}  # the escalation reason
    assert await ids(li, "q=request_human") == {a, b}
    assert await ids(li, "q=hello") == set()  # what the borrower wrote is not searched
    assert await ids(li, "bucket=M1&q=HX") == {a}
    assert await ids(li, "filter=waiting&q=HX0000000002&language=zh") == {b}
    assert await ids(li, "filter=mine&q=HX") == set()


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("filter=everything", "filter"),
        ("reason=bogus", "reason"),
        ("reason=", "reason"),
        ("reason=complaint&reason=fallback", "reason"),
        ("bucket=M9", "bucket"),
        ("bucket=", "bucket"),
        ("language=fr", "language"),
        ("language=ZH", "language"),
        ("waiting_min=0", "waiting_min"),
        ("waiting_min=-5", "waiting_min"),
        ("waiting_min=5.5", "waiting_min"),
        ("waiting_min=abc", "waiting_min"),
        ("waiting_min=1441", "waiting_min"),
        ("waiting_min=%EF%BC%95", "waiting_min"),  # a full-width digit
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("q=" + "x" * 65, "q"),
        ("q=a%00b", "q"),
        ("q=a%0Ab", "q"),
        ("label=" + "x" * 40, "label"),
    ],
)
async def test_each_bad_value_is_a_400_naming_it_and_changes_nothing(make_desk_gateway, audit, query, parameter):
    client = await make_desk_gateway(accounts=Summaries())
    li = await desk_for(client, "li.na")
    widget = await escalated_conversation(client)
    before = await li.queue()
    entries = len(audit.entries)
    resp = await li.client.get(f"/desk/api/queue?{query}")
    assert resp.status == 400
    body = await resp.json()
    assert body["parameter"] == parameter and parameter in body["detail"]
    assert await li.queue() == before
    assert len(audit.entries) == entries
    assert (await (await li.view(widget.conversation_id)).json())["conversation"]["state"] == "agent"


async def test_a_search_never_reaches_another_agents_conversation(aiohttp_client, make_desk_gateway):
    accounts = Summaries()
    client = await make_desk_gateway(accounts=accounts)
    li = await agent_desk(aiohttp_client, client, "li.na", "李娜", online=False)
    wang = await agent_desk(aiohttp_client, client, "wang.wei", "王伟", online=False)
    boss = await agent_desk(aiohttp_client, client, "zhao.min", "赵敏", role="supervisor", online=False)
    widget = await escalated_conversation(client)
    cid = widget.conversation_id
    accounts.by_id[cid] = {
        "borrower_name": "王芳",
        "bucket": "M1",
        "case_number": "ESC-2026-000123",
        "loan_numbers": ["HX0000000001"],
    }
    assert await ids(wang, "q=王芳") == {cid}  # nobody's yet: every agent may take it
    assert (await li.take(cid)).status == 200
    for query in ("q=王芳", f"q={cid[:8]}", "q=ESC-2026-000123", "q=HX0000000001", "bucket=M1", "reason=request_human"):
        assert await ids(wang, query) == set(), query
        assert await ids(li, query) == {cid}, query
        assert await ids(boss, query) == {cid}, query
    assert await ids(wang, "filter=all&q=王芳&bucket=M1&language=en") == set()
    assert (await wang.client.get(f"/desk/api/queue/{cid}")).status == 404


async def test_with_the_real_ledger_loan_case_and_name_are_found_identity_facts_never(ledger_gateway):
    client, ledger, _, _ = ledger_gateway
    assert isinstance(ledger, Ledger)
    widget = await verified_and_escalated(client, ledger, "call me on 13800000001, lost her job")
    await widget.send("my phone is 13800000001 and I was born 1990-03-15", "m2")
    desk = await desk_for(client, "li.na")
    cid = widget.conversation_id
    line = next(x for x in await desk.queue() if x["conversation_id"] == cid)
    assert line["borrower_name"] == "王芳" and line["bucket"] == "M1"
    assert line["loan_numbers"] == ["HX0000000001"] and line["case_number"].startswith("ESC-")
    assert await ids(desk, "q=HX0000000001") == {cid}
    assert await ids(desk, f"q={line['case_number'].lower()}") == {cid}
    assert await ids(desk, "q=王芳") == {cid}
    assert await ids(desk, "bucket=M1") == {cid}
    assert await ids(desk, "bucket=M2") == set()
    for never in ("13800000001", "1990-03-15", "4321", "lost her job", "born"):
        assert await ids(desk, f"q={never}") == set(), never
    resp = await desk.client.get("/desk/api/queue?bucket=B9")  # the policy's buckets only
    assert resp.status == 400 and (await resp.json())["parameter"] == "bucket"


async def test_me_lists_the_filter_choices(make_desk_gateway):
    client = await make_desk_gateway(accounts=Summaries())
    li = await desk_for(client, "li.na")
    me = await (await li.client.get("/desk/api/me")).json()
    choices = me["queue_filters"]
    assert choices["buckets"] == ["M0", "M1", "M2", "M3", "M3+"]
    assert "request_human" in choices["reasons"] and "agent_pickup" in choices["reasons"]
    assert choices["languages"] == ["zh", "en"]
    assert choices["waiting_min"] == [5, 15, 60]


async def test_a_hand_off_reads_the_lines_summary_again(make_desk_gateway):
    """A line listed while live with the bot (no borrower named yet) is read again once the bot
    hands it to the desk: the escalation names its case, the verification its borrower."""
    accounts = Summaries()
    client = await make_desk_gateway(accounts=accounts)
    li = await desk_for(client, "li.na")
    widget = await Widget.open(client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    assert await ids(li, "q=王芳") == set()  # listed, nothing known yet (and kept for a minute)
    accounts.by_id[widget.conversation_id] = {
        "borrower_name": "王芳",
        "bucket": "M1",
        "case_number": "ESC-2026-000123",
        "loan_numbers": ["HX0000000001"],
    }
    await widget.send("I want a human", "m2")
    await widget.wait_for(lambda e: e["type"] == "state" and e["state"] == "agent")
    assert await ids(li, "q=ESC-2026-000123") == {widget.conversation_id}
