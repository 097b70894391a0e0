"""Desk sessions end when they should: password reset, deactivation, logout, expiry (purged),
and the desk socket of an ended session is closed."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.db import AgentSession
from gateway.keys import auth_key
from huanxin_testkit.gw_desk import gateway_factory, post_login
from huanxin_testkit.gw_helpers import PASSWORD, desk_for, login, make_agent

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def make_desk_gateway(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa):
    return gateway_factory(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa)


async def session_rows(database_url: str) -> list:
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(AgentSession.username, AgentSession.expires_at))).all()
    await engine.dispose()
    return rows


async def test_a_password_reset_ends_every_session_of_that_agent(gateway_client, audit):
    await desk_for(gateway_client, "li.na")
    await gateway_client.app[auth_key].set_password("li.na", NEW_PASSWORD, actor="cli:root")
    assert (await gateway_client.get("/desk/api/me")).status == 401
    assert (await login(gateway_client, "li.na", PASSWORD))[0] == 401
    assert (await login(gateway_client, "li.na", NEW_PASSWORD))[0] == 303
    assert ("cli:root", "desk.agent.password_reset", "", {"agent": "li.na", "sessions_ended": 1}) in audit.entries


async def test_a_deactivated_agent_loses_sessions_and_cannot_log_in_until_reactivated(
    gateway_client, audit, database_url
):
    await desk_for(gateway_client, "li.na")
    auth = gateway_client.app[auth_key]
    await auth.set_active("li.na", False, actor="cli:root")
    assert (await gateway_client.get("/desk/api/me")).status == 401
    assert await session_rows(database_url) == []
    assert (await post_login(gateway_client, "li.na", PASSWORD))[0] == 401
    await auth.set_active("li.na", True, actor="cli:root")
    assert (await login(gateway_client, "li.na", PASSWORD))[0] == 303
    actions = [
        (a, action, detail["agent"]) for a, action, _, detail in audit.entries if action.startswith("desk.agent.")
    ]
    assert actions == [("cli:root", "desk.agent.deactivate", "li.na"), ("cli:root", "desk.agent.reactivate", "li.na")]


async def test_unknown_agent_cannot_be_deactivated(gateway_client):
    from gateway.agents import AgentError

    with pytest.raises(AgentError):
        await gateway_client.app[auth_key].set_active("nobody", False, actor="cli:root")


async def test_expired_sessions_are_purged_when_someone_logs_in(gateway_client, clock, database_url, audit):
    await make_agent(gateway_client, "li.na")
    await make_agent(gateway_client, "wang.wei")
    await post_login(gateway_client, "li.na", PASSWORD)
    await post_login(gateway_client, "li.na", PASSWORD)
    clock.advance(3601)
    assert len(await session_rows(database_url)) == 2
    await post_login(gateway_client, "wang.wei", PASSWORD)
    assert [r.username for r in await session_rows(database_url)] == ["wang.wei"]
    assert ("gateway", "desk.sessions.purged", "", {"count": 2}) in audit.entries


async def test_expired_sessions_are_purged_periodically(make_desk_gateway, clock, database_url, audit):
    client = await make_desk_gateway(desk={"GATEWAY_SESSION_PURGE_INTERVAL": "0.05"})
    await make_agent(client, "li.na")
    await post_login(client, "li.na", PASSWORD)
    clock.advance(3601)
    for _ in range(100):
        if not await session_rows(database_url):
            break
        await asyncio.sleep(0.05)
    assert await session_rows(database_url) == []
    assert ("gateway", "desk.sessions.purged", "", {"count": 1}) in audit.entries


async def test_logout_closes_the_desk_socket_of_that_session(gateway_client):
    desk = await desk_for(gateway_client, "li.na")
    ws = await gateway_client.ws_connect("/ws/desk")
    assert (await ws.receive_json())["type"] == "hello"
    assert (await desk.post("/desk/logout")).status == 200
    msg = await ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 4401


@pytest.mark.parametrize("change", ["deactivate", "reset"])
async def test_a_session_ended_by_another_process_closes_the_desk_socket(
    make_desk_gateway, database_url, clock, change
):
    from gateway.agents import DeskAuth
    from ledger.db.session import create_engine, create_session_factory

    client = await make_desk_gateway(desk={"GATEWAY_DESK_SESSION_CHECK": "0.05"})
    await desk_for(client, "li.na")
    ws = await client.ws_connect("/ws/desk")
    assert (await ws.receive_json())["type"] == "hello"
    engine = create_engine(database_url)  # what the CLI does: its own engine, no shared memory
    try:
        auth = DeskAuth(create_session_factory(engine), 3600, clock)
        if change == "deactivate":
            await auth.set_active("li.na", False, actor="cli:root")
        else:
            await auth.set_password("li.na", NEW_PASSWORD, actor="cli:root")
        auth.close()
    finally:
        await engine.dispose()
    msg = await ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 4401


def test_cli_set_password_deactivate_and_reactivate(database_url, monkeypatch, capsys):
    from gateway.__main__ import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GATEWAY_AGENT_PASSWORD", PASSWORD)
    assert main(["create-agent", "li.na"]) == 0
    monkeypatch.setenv("GATEWAY_AGENT_PASSWORD", NEW_PASSWORD)
    assert main(["set-password", "li.na"]) == 0
    assert main(["deactivate-agent", "li.na"]) == 0
    assert main(["reactivate-agent", "li.na"]) == 0
    assert main(["deactivate-agent", "nobody"]) == 2
    assert main(["set-password", "nobody"]) == 2
    out = capsys.readouterr()
    assert "deactivated" in out.out and "reactivated" in out.out and "nobody" in out.err

    async def audited():
        from ledger.db.models import AuditEntry

        engine = create_async_engine(database_url)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail).order_by(
                        AuditEntry.at, AuditEntry.id
                    )
                )
            ).all()
        await engine.dispose()
        return rows

    rows = asyncio.run(audited())
    assert [r.action for r in rows] == ["desk.agent.password_reset", "desk.agent.deactivate", "desk.agent.reactivate"]
    assert all(r.actor.startswith("cli") and r.detail["agent"] == "li.na" for r in rows)
