"""The widget's socket: the token travels in the first frame (never the URL or the access log),
sockets that do not authenticate are closed, and idle conversations expire."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from gateway.keys import service_key
from gateway.settings import GatewaySettings, SettingsError
from huanxin_testkit.gw_helpers import Widget


def access_lines(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "gateway.access")


async def test_chat_connection_leaves_no_token_in_the_access_log(gateway_client, caplog):
    caplog.set_level(logging.INFO, logger="gateway.access")
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    await gateway_client.get(
        f"/api/chat/conversations/{widget.conversation_id}/messages", headers={"X-Client-Token": widget.token}
    )
    await widget.ws.close()
    logged = access_lines(caplog)
    assert "/ws/chat" in logged and "/api/chat/conversations" in logged  # the access log does log requests
    assert widget.token not in logged


async def test_access_log_prints_paths_without_their_query_string(gateway_client, caplog):
    caplog.set_level(logging.INFO, logger="gateway.access")
    await gateway_client.get("/healthz?token=s3cr3t-in-a-query&after=1")
    logged = access_lines(caplog)
    assert "/healthz" in logged
    assert "s3cr3t-in-a-query" not in logged and "?" not in logged


async def test_a_token_in_the_url_authenticates_nothing(make_gateway):
    client = await make_gateway(ws_auth_timeout_s=0.2)
    widget = await Widget.open(client)
    ws = await client.ws_connect(f"/ws/chat?conversation={widget.conversation_id}&token={widget.token}")
    closing = await ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4408  # waited for an auth frame, got none


@pytest.mark.parametrize(
    "first",
    [
        '{"type": "message", "text": "hi"}',
        "not json",
        '["auth"]',
        '{"type": "auth", "conversation_id": 5, "token": null}',
    ],
)
async def test_a_first_frame_that_is_not_an_auth_closes_the_socket(gateway_client, first):
    widget = await Widget.open(gateway_client)
    ws = await gateway_client.ws_connect("/ws/chat")
    await ws.send_str(first)
    closing = await ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4401
    assert await gateway_client.app[service_key].transcript(widget.conversation_id) == []


async def test_a_silent_authenticated_socket_is_closed_after_the_idle_timeout(make_gateway):
    client = await make_gateway(ws_idle_timeout_s=0.3)
    widget = await Widget.open(client)
    await widget.wait_for(lambda e: e["type"] == "state")
    closing = await widget.ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE


async def test_an_idle_conversation_expires_and_refuses_its_token(gateway_client, clock):
    widget = await Widget.open(gateway_client)
    await widget.send("hello", "m1")
    await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
    await widget.ws.close()

    clock.advance(29 * 60)  # still within GATEWAY_IDLE_EXPIRY_MINUTES (30)
    await widget.connect()
    await widget.wait_for(lambda e: e["type"] == "state")
    await widget.send("still there", "m2")
    await widget.ws.close()

    clock.advance(31 * 60)
    await widget.connect()
    closing = await widget.ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4403  # the widget starts a fresh chat
    resp = await gateway_client.get(
        f"/api/chat/conversations/{widget.conversation_id}/messages", headers={"X-Client-Token": widget.token}
    )
    assert resp.status == 403
    clock.advance(-40 * 60)  # an expired token stays refused
    resp = await gateway_client.get(
        f"/api/chat/conversations/{widget.conversation_id}/messages", headers={"X-Client-Token": widget.token}
    )
    assert resp.status == 403


async def test_an_open_socket_of_an_expired_conversation_is_closed_on_its_next_message(
    gateway_client, clock, fake_rasa
):
    from huanxin_testkit.gw_fake_rasa import received_key

    widget = await Widget.open(gateway_client)
    await widget.wait_for(lambda e: e["type"] == "state")
    clock.advance(31 * 60)
    await widget.ws.send_json({"type": "message", "text": "who is this?", "client_msg_id": "late"})
    closing = await widget.ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4403
    assert fake_rasa.app[received_key] == []
    assert await gateway_client.app[service_key].transcript(widget.conversation_id) == []


async def test_an_expired_conversation_over_its_message_limit_gets_nothing_stored(gateway_client, clock, fake_rasa):
    """The token is checked before the slow-down notice too: a socket whose conversation
    expired adds nothing to it, however fast it sends."""
    service = gateway_client.app[service_key]
    widget = await Widget.open(gateway_client)
    await widget.wait_for(lambda e: e["type"] == "state")
    for _ in range(25):  # over the conversation's limit (20 a minute)
        await service.borrower_limits.hit("borrower_messages", widget.conversation_id)
    clock.advance(31 * 60)
    await widget.ws.send_json({"type": "message", "text": "again", "client_msg_id": "fast"})
    closing = await widget.ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4403
    assert await service.transcript(widget.conversation_id) == []


def test_idle_expiry_is_read_from_the_environment_and_validated():
    assert GatewaySettings.from_env({}).idle_expiry_minutes == 30
    assert GatewaySettings.from_env({"GATEWAY_IDLE_EXPIRY_MINUTES": "45"}).idle_expiry_minutes == 45
    for bad in ("0", "-5", "thirty", "1000000"):
        with pytest.raises(SettingsError):
            GatewaySettings.from_env({"GATEWAY_IDLE_EXPIRY_MINUTES": bad})
