"""The action server answers only Rasa (shared protocol 5): header X-Action-Secret equal to
ACTION_SERVER_SECRET on every call but /health, 127.0.0.1 unless ACTION_SERVER_HOST says
otherwise, no start without the secret; Rasa sends the header from bot/endpoints.yml."""

import asyncio
import os
import socket
import subprocess
import sys
import time

import aiohttp
import pytest
from aiohttp import web

from conftest import BOT_DIR

SECRET = "c0ffee" * 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def action_call(name: str = "action_greet", latest: dict | None = None) -> dict:
    return {
        "next_action": name,
        "sender_id": "conv-1",
        "version": "3.6.2",
        "domain": {"responses": {}},
        "tracker": {
            "sender_id": "conv-1",
            "slots": {"language": "en"},
            "latest_message": latest or {"text": "hi"},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def server_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ACTION_SERVER_SECRET", "ACTION_SERVER_HOST")}
    env.update({"LEDGER_URL": "http://127.0.0.1:9", "HOME": str(BOT_DIR.parent / ".home")}, **extra)
    return env


def test_start_up_without_the_secret_fails_with_a_clear_message():
    done = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", str(free_port())],
        cwd=BOT_DIR,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "ACTION_SERVER_SECRET" in done.stderr and "not set" in done.stderr


def test_server_listens_on_loopback_unless_told_otherwise():
    from actions.server import listen_host

    assert listen_host({}) == "127.0.0.1"
    assert listen_host({"ACTION_SERVER_HOST": "0.0.0.0"}) == "0.0.0.0"


@pytest.fixture(scope="module")
def running_server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions.server", "--port", str(port)],
        cwd=BOT_DIR,
        env=server_env(ACTION_SERVER_SECRET=SECRET),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(proc.stdout.read().decode(errors="replace"))
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


async def _post(url: str, headers: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/webhook", json=action_call(), headers=headers) as response:
            return response.status, await response.json(content_type=None)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Action-Secret": "wrong"},
        {"X-Action-Secret": SECRET[:-1]},
        {"X-Action-Secret": ""},
        {"Authorization": f"Bearer {SECRET}"},
    ],
)
async def test_webhook_refuses_calls_without_the_right_secret(running_server, headers):
    status, body = await _post(running_server, headers)
    assert status == 401
    assert "events" not in body and "responses" not in body


async def test_webhook_answers_rasa_with_the_secret_and_health_stays_open(running_server):
    status, body = await _post(running_server, {"X-Action-Secret": SECRET})
    assert status == 200 and body["responses"][0]["response"] == "utter_greet"
    async with aiohttp.ClientSession() as http:
        async with http.get(running_server + "/health") as response:
            assert response.status == 200
        async with http.get(running_server + "/actions") as response:
            assert response.status == 401


async def test_a_refused_call_runs_no_action():
    """action_request_human records an escalation in the ledger: a fake ledger sees it only
    for the call that carries the secret."""
    escalations = []

    async def post_escalation(request: web.Request) -> web.Response:
        escalations.append(await request.json())
        return web.json_response({"escalation_id": f"esc-{len(escalations)}", "status": "open"}, status=201)

    app = web.Application()
    app.router.add_post("/api/v1/escalations", post_escalation)
    runner = web.AppRunner(app)
    await runner.setup()
    ledger_port, port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", ledger_port).start()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "actions.server",
        "--port",
        str(port),
        cwd=BOT_DIR,
        env=server_env(ACTION_SERVER_SECRET=SECRET, LEDGER_URL=f"http://127.0.0.1:{ledger_port}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/webhook"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(url.replace("/webhook", "/health")) as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.3)
            for headers in ({}, {"X-Action-Secret": "nope"}):
                async with http.post(url, json=action_call("action_request_human"), headers=headers) as response:
                    assert response.status == 401
            assert escalations == []
            asked = {"text": "/request_human", "intent": {"name": "request_human", "confidence": 1.0}}
            async with http.post(
                url, json=action_call("action_request_human", asked), headers={"X-Action-Secret": SECRET}
            ) as response:
                assert response.status == 200
                body = await response.json()
            assert [e["reason"] for e in escalations] == ["request_human"]
            assert {"handoff": {"reason": "request_human", "escalation_id": "esc-1"}} in [
                r.get("custom") for r in body["responses"]
            ]
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
        await runner.cleanup()


async def test_rasa_sends_the_secret_header_named_in_endpoints_yml(monkeypatch):
    from rasa.utils.endpoints import read_endpoint_config

    seen = []

    async def webhook(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-Action-Secret"))
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        monkeypatch.setenv("ACTION_SERVER_URL", f"http://127.0.0.1:{port}/webhook")
        monkeypatch.setenv("ACTION_SERVER_SECRET", SECRET)
        endpoint = read_endpoint_config(str(BOT_DIR / "endpoints.yml"), "action_endpoint")
        assert endpoint.headers == {"X-Action-Secret": SECRET}
        await endpoint.request(json=action_call(), method="post", timeout=5)
        assert seen == [SECRET]
    finally:
        await runner.cleanup()
