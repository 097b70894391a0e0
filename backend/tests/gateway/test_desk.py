"""Agent desk: login with argon2 hashes, CSRF, session expiry, roles and visibility, audit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.db import Agent, AgentSession
from gateway.desk_web import SESSION_COOKIE
from huanxin_testkit.gw_helpers import (
    PASSWORD,
    Widget,
    desk_for,
    escalated_conversation,
    login,
    make_agent,
    other_client,
)


async def test_passwords_are_stored_as_argon2_hashes(gateway_client, database_url):
    await make_agent(gateway_client, "li.na")
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        stored = (await conn.execute(select(Agent.password_hash).where(Agent.username == "li.na"))).scalar_one()
    await engine.dispose()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_wrong_password_or_unknown_user_cannot_log_in(gateway_client):
    await make_agent(gateway_client, "li.na")
    assert (await login(gateway_client, "li.na", "wrong password!"))[0] == 401
    assert (await login(gateway_client, "nobody", PASSWORD))[0] == 401
    assert (await gateway_client.get("/desk/api/queue")).status == 401


async def test_desk_page_redirects_to_login_without_a_session(gateway_client):
    resp = await gateway_client.get("/desk", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/desk/login"


async def test_login_sets_an_httponly_samesite_strict_cookie(gateway_client):
    await make_agent(gateway_client, "li.na")
    form = await gateway_client.get("/desk/login")
    import re

    csrf = re.search(r'name="csrf" value="([^"]+)"', await form.text()).group(1)
    resp = await gateway_client.post(
        "/desk/login", data={"username": "li.na", "password": PASSWORD, "csrf": csrf}, allow_redirects=False
    )
    cookie = resp.cookies[SESSION_COOKIE]
    assert cookie["httponly"] is True and cookie["samesite"] == "Strict" and cookie["path"] == "/"


async def test_login_form_needs_its_csrf_token(gateway_client):
    await make_agent(gateway_client, "li.na")
    await gateway_client.get("/desk/login")
    resp = await gateway_client.post(
        "/desk/login", data={"username": "li.na", "password": PASSWORD, "csrf": "forged"}, allow_redirects=False
    )
    assert resp.status == 403


async def test_every_post_needs_the_sessions_csrf_token(gateway_client, aiohttp_client, audit):
    widget = await escalated_conversation(gateway_client)
    await make_agent(gateway_client, "li.na")
    _, csrf = await login(gateway_client, "li.na")
    path = f"/desk/api/conversations/{widget.conversation_id}/take"
    assert (await gateway_client.post(path)).status == 403
    assert (await gateway_client.post(path, headers={"X-CSRF-Token": "forged"})).status == 403
    assert (
        await gateway_client.post(path, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"})
    ).status == 403
    assert not [e for e in audit.entries if e[1] == "desk.take_over"]
    assert (await gateway_client.post(path, headers={"X-CSRF-Token": csrf})).status == 200


async def test_sessions_expire(gateway_client, clock, database_url):
    await make_agent(gateway_client, "li.na")
    _, csrf = await login(gateway_client, "li.na")
    assert (await gateway_client.get("/desk/api/queue")).status == 200
    clock.advance(3599)
    assert (await gateway_client.get("/desk/api/queue")).status == 200
    clock.advance(2)
    assert (await gateway_client.get("/desk/api/queue")).status == 401
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        assert (await conn.execute(select(AgentSession))).all() == []  # the expired session was deleted
    await engine.dispose()


async def test_logout_ends_the_session(gateway_client):
    desk = await desk_for(gateway_client, "li.na")
    assert (await desk.post("/desk/logout")).status == 200
    assert (await gateway_client.get("/desk/api/me")).status == 401


async def test_agents_see_unassigned_and_their_own_supervisors_see_all(gateway_client, aiohttp_client):
    first = await escalated_conversation(gateway_client)
    second = await escalated_conversation(gateway_client)

    a_client = await other_client(aiohttp_client, gateway_client)
    a = await desk_for(a_client, "agent.a")
    b_client = await other_client(aiohttp_client, gateway_client)
    b = await desk_for(b_client, "agent.b")
    s_client = await other_client(aiohttp_client, gateway_client)
    sup = await desk_for(s_client, "boss", role="supervisor")

    assert (await a.take(first.conversation_id)).status == 200
    ids_b = {q["conversation_id"] for q in await b.queue()}
    assert first.conversation_id not in ids_b and second.conversation_id in ids_b
    ids_a = {q["conversation_id"] for q in await a.queue()}
    assert {first.conversation_id, second.conversation_id} <= ids_a
    ids_sup = {q["conversation_id"] for q in await sup.queue()}
    assert {first.conversation_id, second.conversation_id} <= ids_sup

    # B can neither read nor act on A's conversation; it looks like it does not exist
    assert (await b.view(first.conversation_id)).status == 404
    assert (await b.reply(first.conversation_id, "hi")).status == 404
    assert (await b.take(first.conversation_id)).status == 404
    assert (await b.handback(first.conversation_id)).status == 404
    # the supervisor reads it and may take it over from A
    assert (await sup.view(first.conversation_id)).status == 200
    assert (await sup.take(first.conversation_id)).status == 200
    assert (await a.reply(first.conversation_id, "still mine?")).status == 404


async def test_replying_needs_a_takeover_first(gateway_client):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")
    assert (await desk.reply(widget.conversation_id, "hello")).status == 403
    assert (await desk.reply(widget.conversation_id, "internal only", agent_only=True)).status == 201


async def test_agent_can_pick_a_live_bot_conversation(gateway_client, fake_rasa):
    from huanxin_testkit.gw_fake_rasa import received_key

    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    desk = await desk_for(gateway_client, "li.na")
    live = next(q for q in await desk.queue() if q["conversation_id"] == widget.conversation_id)
    assert live["state"] == "bot"
    assert (await desk.take(widget.conversation_id)).status == 200
    joined = await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "system")
    assert "Li.Na" in joined["text"]
    await widget.send("who is this?", "m2")
    assert [m for _, m in fake_rasa.app[received_key]] == ["hello"]


async def test_invalid_actions_are_refused_with_4xx(gateway_client):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")
    await desk.take(widget.conversation_id)
    assert (await desk.close(widget.conversation_id, "made_up_outcome")).status == 422
    assert (await desk.handback(widget.conversation_id, slots={"verified": True})).status == 422
    assert (await desk.handback(widget.conversation_id, slots={"verification_token": "x"})).status == 422
    assert (await desk.reply(widget.conversation_id, "   ")).status == 422
    resp = await gateway_client.post(
        f"/desk/api/conversations/{widget.conversation_id}/messages",
        data=b"{not json",
        headers={"X-CSRF-Token": desk.csrf, "Content-Type": "application/json"},
    )
    assert resp.status == 422
    assert (await desk.view("no-such-conversation")).status == 404


async def test_every_agent_action_is_audited(gateway_client, audit):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")
    cid = widget.conversation_id
    await desk.view(cid)
    await desk.take(cid)
    await desk.reply(cid, "hello")
    await desk.reply(cid, "note", agent_only=True)
    await desk.handback(cid, note="agreed")
    await desk.take(cid)
    await desk.close(cid, "resolved")
    assert [(actor, action, conv) for actor, action, conv, _ in audit.entries] == [
        ("li.na", "desk.view", cid),
        ("li.na", "desk.take_over", cid),
        ("li.na", "desk.reply", cid),
        ("li.na", "desk.note", cid),
        ("li.na", "desk.hand_back", cid),
        ("li.na", "desk.take_over", cid),
        ("li.na", "desk.close", cid),
    ]
    assert audit.entries[-1][3] == {"outcome": "resolved"}


async def test_desk_socket_pushes_new_messages_and_filters_by_role(gateway_client, aiohttp_client):
    await make_agent(gateway_client, "li.na")
    await login(gateway_client, "li.na")
    ws = await gateway_client.ws_connect("/ws/desk")
    hello = await ws.receive_json()
    assert hello["type"] == "hello" and hello["role"] == "agent"
    widget = await Widget.open(gateway_client)
    await widget.send("hi there", "m1")
    event = await ws.receive_json(timeout=5)
    assert event["type"] == "message" and event["text"] == "hi there"
    anonymous = await other_client(aiohttp_client, gateway_client)
    assert (await anonymous.get("/ws/desk")).status == 401
    await ws.close()


async def test_ledger_audit_log_receives_agent_actions(gateway_client, database_url):
    from gateway.ledger_bridge import LedgerAuditLog
    from ledger.db.models import AuditEntry
    from ledger.db.session import create_engine, create_session_factory
    from ledger.desk_door import DeskDoor

    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    sink = LedgerAuditLog(sessions, DeskDoor(sessions))
    await sink.record("li.na", "desk.close", "conv-1", {"outcome": "resolved"})
    async with engine.connect() as conn:
        rows = (await conn.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail))).all()
    await engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("agent:li.na", "desk.close", {"conversation_id": "conv-1", "outcome": "resolved"})
    ]


async def test_non_ascii_csrf_tokens_are_refused_not_crashed(gateway_client):
    await make_agent(gateway_client, "li.na")
    await gateway_client.get("/desk/login")
    resp = await gateway_client.post(
        "/desk/login", data={"username": "li.na", "password": PASSWORD, "csrf": "令牌"}, allow_redirects=False
    )
    assert resp.status == 403
    _, csrf = await login(gateway_client, "li.na")
    resp = await gateway_client.post("/desk/logout", headers={"X-CSRF-Token": "令牌".encode().decode("latin-1")})
    assert resp.status == 403
