"""The WeChat and Telegram adapters against fake providers (aiohttp test servers on ports the
system gives): the documented payloads as the provider receives them, passing faults
retried with backoff, refusals given up at once with a clear error, addresses only from the
borrower's binding; and the planner and dispatcher picking a bound chat channel, a failed send
counting against nothing until it is delivered; `ledger bind-channel` and its clear errors."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from huanxin_testkit.ledger_cli import ledger_in_process, ledger_process
from ledger.cadence_file import load_cadence
from ledger.db import models as m
from ledger.db.session import create_engine, create_session_factory
from ledger.desk_door import DeskDoor
from ledger.services.channel_bindings import bind
from ledger.services.channels import OutboundMessage
from ledger.services.chat_channels import (
    ChannelConfigError,
    Retry,
    TelegramAdapter,
    WeChatAdapter,
    WeChatTemplate,
    chat_adapters_from_env,
)
from ledger.services.contact_plan import build_plan
from ledger.services.outbound import chat_addresses, dispatch

from .conftest import SALT
from .test_contact_plan_cli import AT, seeded
from .test_outbound import POLICY, sinks

NOW = datetime.fromisoformat(AT)
TOKEN = "123456:ABCdefGhIJKlmNoPQRstuVWxyz_0123456789"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


class Fake:
    """A provider that answers from a script (one answer per request, then ``then``) and keeps
    what it received."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict, dict]] = []  # (path, query, JSON body)
        self.script: list[tuple[int, dict]] = []
        self.then: tuple[int, dict] = (200, {})
        self.token_calls = 0
        self.token_answers: list[dict] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.path, dict(request.query), await request.json()))
        status, body = self.script.pop(0) if self.script else self.then
        return web.json_response(body, status=status)

    async def token(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        answer = self.token_answers.pop(0) if self.token_answers else {}
        return web.json_response(answer or {"access_token": f"T{self.token_calls}", "expires_in": 7200})


@pytest.fixture
async def fake() -> AsyncIterator[tuple[Fake, str]]:
    f = Fake()
    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/sendMessage", f.handle)
    app.router.add_get("/cgi-bin/token", f.token)
    app.router.add_post("/cgi-bin/message/template/send", f.handle)
    app.router.add_post("/cgi-bin/message/subscribe/bizsend", f.handle)
    server = TestServer(app, host="127.0.0.1")  # a port the system gives: free when bound
    await server.start_server()
    try:
        yield f, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def book(addresses: dict[str, str]):
    async def lookup(channel: str, borrower_ids: Sequence[str]) -> dict[str, str]:
        return {b: addresses[b] for b in borrower_ids if b in addresses}

    return lookup


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


MSG = OutboundMessage(
    "HX0000000005/before_due/2026-12-01/i3",
    "b5",
    "HX0000000005",
    "telegram",
    "before_due",
    "zh",
    "【还信】提醒。回复 TD 退订",
)
OK_TG = (200, {"ok": True, "result": {"message_id": 7}})
WECHAT_ENV = {
    "LEDGER_WECHAT_APP_ID": "wx1",
    "LEDGER_WECHAT_APP_SECRET": "s",
    "LEDGER_WECHAT_TEMPLATE_ID": "abcdefgh1234",
}


def flood(seconds: int) -> tuple[int, dict]:
    """Telegram's flood-control answer."""
    body = {"error_code": 429, "description": f"Too Many Requests: retry after {seconds}"}
    return 429, {"ok": False, **body, "parameters": {"retry_after": seconds}}


async def test_telegram_sends_the_documented_sendmessage_and_retries_passing_faults(fake):
    f, base = fake
    sleeps = Sleeps()
    adapter = TelegramAdapter(TOKEN, book({"b5": "987654321"}), api=base, sleep=sleeps)
    f.script = [
        flood(2),
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
        OK_TG,
    ]  # fmt: skip
    [result] = await adapter.send([MSG], NOW)
    assert (result.delivered, result.error) == (True, None)
    assert sleeps.waits == [2.0, 1.0]  # Telegram's retry_after, then the doubled backoff
    assert [r[2] for r in f.received] == [
        {"chat_id": 987654321, "text": MSG.text, "disable_web_page_preview": True}
    ] * 3


async def test_telegram_refusals_are_not_retried_and_a_lasting_fault_fails_for_the_dispatcher(fake):
    f, base = fake
    sleeps = Sleeps()
    adapter = TelegramAdapter(TOKEN, book({"b5": "987654321"}), api=base, sleep=sleeps, retry=Retry(tries=3))
    f.script = [(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})]
    [blocked] = await adapter.send([MSG], NOW)
    assert blocked.error == "refused: telegram: 403 Forbidden: bot was blocked by the user" and len(f.received) == 1
    f.then = (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
    [down] = await adapter.send([MSG], NOW)
    assert down.error == "telegram: 500 Internal Server Error" and not down.delivered  # retried by the dispatcher
    assert len(f.received) == 4 and sleeps.waits == [0.5, 1.0]
    # a provider still failing after the retries: the rest of the batch is not tried now
    second = OutboundMessage("k1", "b5", "HX0000000006", "telegram", "before_due", "zh", "x")
    down_again, not_tried = await adapter.send([MSG, second], NOW)
    assert down_again.error == "telegram: 500 Internal Server Error" and len(f.received) == 7
    assert not_tried.error == "telegram: not tried, the provider was failing: 500 Internal Server Error"
    f.received[4:] = []
    f.then = flood(60)
    [flooded] = await adapter.send([MSG], NOW)
    assert flooded.error.startswith("telegram: 429") and len(f.received) == 5  # a long wait is the next pass's
    # no address bound, a text over sendMessage's limit: refused without a request
    [unbound] = await adapter.send([OutboundMessage("k2", "nobody", "HX1", "telegram", "r", "zh", "x")], NOW)
    long = OutboundMessage("k3", "b5", "HX1", "telegram", "r", "zh", "x" * 4097)
    [too_long] = await adapter.send([long], NOW)
    assert unbound.error == "refused: no telegram address bound"
    assert too_long.error == "refused: telegram: text of 4097 characters, sendMessage takes 4096"
    assert len(f.received) == 5
    assert not any("987654321" in (r.error or "") for r in (blocked, down, flooded, unbound, too_long))


async def test_wechat_template_message_in_the_documented_format_with_token_refresh(fake):
    f, base = fake
    sleeps = Sleeps()
    template = WeChatTemplate(
        "template", "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY", {"keyword1": "loan_tail", "keyword2": "text"},
        url="https://huanxin.example/chat",
    )  # fmt: skip
    adapter = WeChatAdapter("wx0123456789abcdef", "secret", template, book({"b5": OPENID}), api=base, sleep=sleeps)
    msg = OutboundMessage(MSG.idempotency_key, "b5", "HX0000000005", "wechat", "before_due", "zh", MSG.text)
    f.script = [(200, {"errcode": 0, "errmsg": "ok", "msgid": 200228332})]
    assert [r.delivered for r in await adapter.send([msg], NOW)] == [True]
    path, query, body = f.received[0]
    assert (path, query) == ("/cgi-bin/message/template/send", {"access_token": "T1"})
    assert body == {
        "touser": OPENID,
        "template_id": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        "url": "https://huanxin.example/chat",
        "client_msg_id": body["client_msg_id"],
        "data": {"keyword1": {"value": "0005"}, "keyword2": {"value": MSG.text}},
    }
    assert len(body["client_msg_id"]) == 32  # the same for the same idempotency key: WeChat sends it once
    # an expired token is fetched again once; "system busy" is retried; not following is refused
    f.script = [
        (200, {"errcode": 42001, "errmsg": "access_token expired"}),
        (200, {"errcode": -1, "errmsg": "system error"}),
        (200, {"errcode": 0, "errmsg": "ok"}),
    ]
    assert [r.delivered for r in await adapter.send([msg], NOW)] == [True]
    assert [q["access_token"] for _, q, _ in f.received[1:]] == ["T1", "T2", "T2"] and f.token_calls == 2
    assert f.received[1][2]["client_msg_id"] == body["client_msg_id"] and sleeps.waits == [0.5]
    f.script = [(200, {"errcode": 43004, "errmsg": "require subscribe"})]
    [refused] = await adapter.send([msg], NOW)
    assert refused.error == "refused: wechat: errcode 43004 require subscribe"
    assert OPENID not in refused.error


async def test_wechat_subscription_message_and_its_field_limits(fake):
    f, base = fake
    template = WeChatTemplate(
        "subscribe", "Ty8Gdlhpq7ZbJx3-abcdEFGH", {"character_string1": "loan_tail", "thing2": "reason"}, url="pages/a"
    )
    adapter = WeChatAdapter("wx0123456789abcdef", "secret", template, book({"b5": OPENID}), api=base)
    msg = OutboundMessage(MSG.idempotency_key, "b5", "HX0000000005", "wechat", "before_due", "zh", MSG.text)
    f.then = (200, {"errcode": 0, "errmsg": "ok"})
    assert [r.delivered for r in await adapter.send([msg], NOW)] == [True]
    assert f.received[0][0] == "/cgi-bin/message/subscribe/bizsend"
    assert f.received[0][2] == {
        "touser": OPENID,
        "template_id": "Ty8Gdlhpq7ZbJx3-abcdEFGH",
        "page": "pages/a",
        "data": {"character_string1": {"value": "0005"}, "thing2": {"value": "before_due"}},
    }
    too_long = WeChatTemplate("subscribe", "Ty8Gdlhpq7ZbJx3-abcdEFGH", {"thing1": "text"})
    adapter = WeChatAdapter("wx0123456789abcdef", "secret", too_long, book({"b5": OPENID}), api=base)
    long = OutboundMessage(MSG.idempotency_key, "b5", "HX0000000005", "wechat", "before_due", "zh", "提醒" * 15)
    sent = len(f.received)
    [refused] = await adapter.send([long], NOW)
    assert (
        refused.error == "refused: wechat: field thing1 (thing) takes at most 20 characters; its source 'text' has 30"
    )
    assert len(f.received) == sent  # nothing went out


def test_bad_channel_configuration_names_what_to_fix():
    lookup = book({})
    cases = [
        ({"LEDGER_TELEGRAM_BOT_TOKEN": "nope"}, "LEDGER_TELEGRAM_BOT_TOKEN"),
        ({"LEDGER_WECHAT_APP_ID": "wx1"}, "LEDGER_WECHAT_APP_SECRET"),
        (
            {**WECHAT_ENV,
             "LEDGER_WECHAT_FIELDS": "keyword1=amount"},
            "LEDGER_WECHAT_FIELDS",
        ),
        (
            {**WECHAT_ENV,
             "LEDGER_WECHAT_FIELDS": "colour3=text", "LEDGER_WECHAT_MESSAGE": "subscribe"},
            "LEDGER_WECHAT_FIELDS",
        ),
        (
            {**WECHAT_ENV,
             "LEDGER_WECHAT_FIELDS": "keyword1=text", "LEDGER_WECHAT_MESSAGE": "letter"},
            "LEDGER_WECHAT_MESSAGE",
        ),
    ]  # fmt: skip
    for env, key in cases:
        with pytest.raises(ChannelConfigError) as err:
            chat_adapters_from_env(env, lookup)
        assert err.value.key == key and str(err.value).startswith(key + ": "), (env, str(err.value))
    assert chat_adapters_from_env({}, lookup) == {}
    both = chat_adapters_from_env(
        {"LEDGER_TELEGRAM_BOT_TOKEN": TOKEN, "LEDGER_WECHAT_APP_ID": "wx1", "LEDGER_WECHAT_APP_SECRET": "s",
         "LEDGER_WECHAT_TEMPLATE_ID": "abcdefgh1234", "LEDGER_WECHAT_FIELDS": "keyword1=loan_tail, keyword2=text"},
        lookup,
    )  # fmt: skip
    assert sorted(both) == ["telegram", "wechat"]


def telegram_first_cadence(tmp_path):
    """The default cadence with before-due reminders on Telegram first."""
    from importlib import resources

    data = yaml.safe_load(resources.files("ledger").joinpath("default_cadence.yaml").read_text("utf-8"))
    data["reasons"]["before_due"]["channels"] = ["telegram", "sms", "web"]
    path = tmp_path / "cadence.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return load_cadence(path, POLICY)


async def test_a_bound_telegram_chat_is_picked_and_a_failed_send_counts_only_once_delivered(
    database_url, tmp_path, fake
):
    f, base = fake
    ids = await seeded(database_url)
    cadence = telegram_first_cadence(tmp_path)
    engine = create_engine(database_url)
    try:
        with pytest.raises(ChannelConfigError, match="address: a Telegram chat id is a positive integer"):
            await bind(engine, ids["D5"], "telegram", "@d5", NOW, "test")
        assert await bind(engine, ids["D5"], "telegram", "555000111", NOW, "test") == "bound"
        plan = await build_plan(engine, POLICY, cadence, NOW)
        by_loan = {c.loan_number: c for c in plan.contacts}
        assert by_loan["HX0000000005"].channel == "telegram"
        assert by_loan["HX0000000009"].channel == "sms"  # D8 bound nothing: Telegram is not theirs
        assert ("telegram", "not_borrowers_channel") in by_loan["HX0000000009"].skipped_channels
        async with engine.connect() as conn:
            entry = (
                (await conn.execute(select(m.AuditEntry.detail).where(m.AuditEntry.action == "channel_bound")))
                .scalars()
                .all()[-1]
            )
        assert entry == {"channel": "telegram"}  # never the chat id
        sleeps = Sleeps()
        telegram = TelegramAdapter(TOKEN, chat_addresses(database_url), api=base, sleep=sleeps, retry=Retry(tries=2))
        adapters = {**sinks(tmp_path), "telegram": telegram}
        f.then = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
        first = await dispatch(engine, POLICY, cadence, NOW, adapters)
        assert first.failed == 1 and first.delivered == 5
        key = by_loan["HX0000000005"].idempotency_key
        async with engine.connect() as conn:
            h = m.ContactRecord
            row = (await conn.execute(select(h.status, h.attempts, h.failure).where(h.idempotency_key == key))).one()
        assert tuple(row) == ("failed", 1, "telegram: 502 Bad Gateway")
        replan = await build_plan(engine, POLICY, cadence, NOW + timedelta(seconds=10))
        assert key in {c.idempotency_key for c in replan.contacts}  # the failure counts against nothing
        f.then = OK_TG
        later = await dispatch(engine, POLICY, cadence, NOW + timedelta(minutes=1), adapters)
        assert later.delivered == 1 and later.failed == 0
        assert [b for path, _, b in f.received if path.endswith("sendMessage")][-1]["chat_id"] == 555000111
        replan = await build_plan(engine, POLICY, cadence, NOW + timedelta(minutes=2))
        assert "HX0000000005" not in {c.loan_number for c in replan.contacts}  # delivered: today's is used
    finally:
        await engine.dispose()


async def test_a_refused_send_is_given_up_at_once(database_url, tmp_path, fake):
    f, base = fake
    ids = await seeded(database_url)
    cadence = telegram_first_cadence(tmp_path)
    engine = create_engine(database_url)
    try:
        await bind(engine, ids["D5"], "telegram", "555000111", NOW, "test")
        telegram = TelegramAdapter(TOKEN, chat_addresses(database_url), api=base)
        adapters = {**sinks(tmp_path), "telegram": telegram}
        f.then = (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
        first = await dispatch(engine, POLICY, cadence, NOW, adapters)
        later = await dispatch(engine, POLICY, cadence, NOW + timedelta(minutes=5), adapters)
        assert (first.failed, later.given_up, later.delivered) == (1, 1, 0)
        assert len([p for p, _, _ in f.received if p.endswith("sendMessage")]) == 1
        async with engine.connect() as conn:
            failure = (
                await conn.execute(select(m.ContactRecord.failure).where(m.ContactRecord.channel == "telegram"))
            ).scalar_one()
        assert failure == "given up after 1 attempts: refused: telegram: 403 Forbidden: bot was blocked by the user"
    finally:
        await engine.dispose()


async def test_a_telegram_stop_holds_the_next_pass_for_that_borrower(database_url, tmp_path, fake):
    """A STOP from the bound chat (the gateway's Telegram webhook, through the ledger's door):
    the queued Telegram reminder that failed once is held ``opted_out`` on the next pass."""
    f, base = fake
    ids = await seeded(database_url)
    cadence = telegram_first_cadence(tmp_path)
    engine = create_engine(database_url)
    try:
        await bind(engine, ids["D5"], "telegram", "555000111", NOW, "test")
        telegram = TelegramAdapter(TOKEN, chat_addresses(database_url), api=base, retry=Retry(tries=1))
        adapters = {**sinks(tmp_path), "telegram": telegram}
        f.then = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
        assert (await dispatch(engine, POLICY, cadence, NOW, adapters)).failed == 1
        door = DeskDoor(create_session_factory(engine), policy=POLICY)
        assert (await door.stop_reply_by_address("telegram", "我下周还", "555000111"))["stop"] is False
        unbound = await door.stop_reply_by_address("telegram", "TD", "999000999")
        assert (unbound["stop"], unbound["bound"]) == (True, False)
        stopped = await door.stop_reply_by_address("telegram", "退订", "555000111")
        assert (stopped["stop"], stopped["bound"], stopped["channel"]) == (True, True, "telegram")
        assert stopped["confirmation"].startswith("【还信】")
        f.then = OK_TG
        later = await dispatch(engine, POLICY, cadence, NOW + timedelta(minutes=1), adapters)
        assert later.held.get("opted_out") == 1 and later.delivered == 0
        assert len([p for p, _, _ in f.received if p.endswith("sendMessage")]) == 1  # never sent again
        async with engine.connect() as conn:
            pref = await conn.execute(
                select(m.ContactPreference.opted_out_channels).where(m.ContactPreference.borrower_id == ids["D5"])
            )
            assert pref.scalar_one() == ["telegram"]
            details = (
                (await conn.execute(select(m.AuditEntry.detail).where(m.AuditEntry.action == "contact_opted_out")))
                .scalars()
                .all()
            )
        assert [d["channel"] for d in details] == ["telegram"] and "555000111" not in str(details)
    finally:
        await engine.dispose()


def test_ledger_bind_channel_binds_and_names_bad_input(database_url):
    import asyncio

    ids = asyncio.run(seeded(database_url))
    env = {**os.environ, "ID_HASH_SALT": SALT, "DATABASE_URL": database_url}

    def run(*args: str) -> subprocess.CompletedProcess:
        return ledger_in_process(["bind-channel", *args], env)

    # This file's one real `ledger` process (on SQLite); the other commands run main() in this process.
    bind_d1 = ["bind-channel", "--borrower", ids["D1"], "--channel", "wechat", "--address", OPENID]
    ok = ledger_process(bind_d1, env) if database_url.startswith("sqlite") else ledger_in_process(bind_d1, env)
    assert ok.returncode == 0 and ok.stdout.strip() == f"wechat bound for borrower {ids['D1']}"
    for args, expected in (
        (["--borrower", ids["D1"], "--channel", "wechat", "--address", "x y"], "--address: a WeChat openid"),
        (["--borrower", ids["D1"], "--channel", "telegram", "--address", "-5"], "--address: a Telegram chat id"),
        (["--borrower", "nobody", "--channel", "telegram", "--address", "42"], "--borrower: no borrower 'nobody'"),
        (["--borrower", ids["D1"], "--channel", "telegram", "--unbind"], "--borrower: no telegram binding"),
        (["--borrower", ids["D1"], "--channel", "telegram"], "give --address, or --unbind"),
    ):
        bad = run(*args)
        assert bad.returncode == 2 and expected in bad.stderr, (args, bad.stderr)
    assert run("--borrower", ids["D1"], "--channel", "pigeon", "--address", "1").returncode == 2
    gone = run("--borrower", ids["D1"], "--channel", "wechat", "--unbind")
    assert gone.returncode == 0 and "unbound" in gone.stdout

    async def bindings() -> list:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                return list(await conn.execute(select(m.BorrowerChannel.channel)))
        finally:
            await engine.dispose()

    assert asyncio.run(bindings()) == []


def test_ledger_outbound_stops_on_a_bad_chat_configuration_naming_the_variable(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", "ID_HASH_SALT": SALT}
    for extra, key in (
        ({"LEDGER_TELEGRAM_BOT_TOKEN": "not-a-token"}, "LEDGER_TELEGRAM_BOT_TOKEN"),
        ({"LEDGER_WECHAT_APP_ID": "wx1", "LEDGER_WECHAT_APP_SECRET": "s"}, "LEDGER_WECHAT_TEMPLATE_ID"),
    ):
        result = ledger_in_process(["outbound", "--at", AT, "--out", str(tmp_path)], {**env, **extra})
        assert result.returncode == 2 and key in result.stderr, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
