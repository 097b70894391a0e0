"""The real `python -m gateway` at its edge: a slow client cannot hold a connection (request
head and body within GATEWAY_CLIENT_TIMEOUT), an open chat socket is never cut by that
deadline, and the access log prints no query string."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time

import aiohttp
import pytest
import requests

from huanxin_testkit.served import closed_within, free_port, start_and_wait

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def gateway_server(tmp_path_factory):
    from ledger.cli import migrate

    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('gw') / 'g.sqlite3'}"
    migrate(url)
    log_path = tmp_path_factory.mktemp("gwlog") / "gateway.log"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GATEWAY_PORT": str(port),
        "GATEWAY_CLIENT_TIMEOUT": "1",
        "RASA_URLS": "http://127.0.0.1:9",
        "GATEWAY_SYSTEM_SECRET": "s",
        "RASA_JWT_SECRET": "j",
    }
    proc = start_and_wait([sys.executable, "-m", "gateway"], env, f"http://127.0.0.1:{port}/healthz", log_path)
    yield port, log_path
    proc.terminate()
    proc.wait(10)


def test_half_a_request_line_is_closed_after_the_client_timeout(gateway_server):
    port, _ = gateway_server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /heal")
        assert closed_within(sock, TIMEOUT + 1)[0], "the gateway still waits for the request line"
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code in (200, 503)


def test_a_body_that_does_not_arrive_gets_408(gateway_server):
    port, _ = gateway_server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /api/chat/conversations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"lang'
        )
        sock.settimeout(TIMEOUT + 3)
        assert sock.recv(4096).startswith(b"HTTP/1.1 408")


def test_an_open_chat_socket_outlives_the_client_timeout_and_the_log_has_no_secret(gateway_server):
    port, log_path = gateway_server

    async def run() -> dict:
        async with aiohttp.ClientSession() as http:
            created = await (
                await http.post(f"http://127.0.0.1:{port}/api/chat/conversations", json={"language": "en"})
            ).json()
            async with http.ws_connect(f"http://127.0.0.1:{port}/ws/chat") as ws:
                await ws.send_json(
                    {
                        "type": "auth",
                        "conversation_id": created["conversation_id"],
                        "token": created["token"],
                        "after": 0,
                    }
                )
                state = await ws.receive_json(timeout=5)
                await asyncio.sleep(TIMEOUT + 1)  # longer than the head deadline
                await ws.send_json({"type": "message", "text": "hello", "client_msg_id": "m1"})
                while True:
                    event = await ws.receive_json(timeout=10)
                    if event["type"] == "ack":
                        return {"state": state, "ack": event, "token": created["token"]}

    result = asyncio.run(run())
    assert result["state"]["type"] == "state" and result["ack"]["seq"] == 1
    requests.get(f"http://127.0.0.1:{port}/healthz?token=s3cr3t", timeout=5)
    time.sleep(0.3)
    log = log_path.read_text()
    assert "/ws/chat" in log and "/healthz" in log
    assert result["token"] not in log and "s3cr3t" not in log
