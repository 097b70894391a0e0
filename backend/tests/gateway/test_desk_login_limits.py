"""Desk login under attack: argon2 off the event loop, a bounded hash queue, per-account and
per-address limits with growing delays, 429 + Retry-After."""

from __future__ import annotations

import asyncio
import time

import pytest

from huanxin_testkit.gw_desk import from_address, gateway_factory, post_login
from huanxin_testkit.gw_helpers import PASSWORD, make_agent


@pytest.fixture
def make_desk_gateway(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa):
    return gateway_factory(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa)


async def test_event_loop_answers_healthz_quickly_while_bad_logins_are_hashed(gateway_client):
    await make_agent(gateway_client, "li.na")
    await gateway_client.get("/healthz")  # warm the engine
    attempts = [
        asyncio.create_task(post_login(gateway_client, f"user{i % 4}", f"wrong password {i}")) for i in range(16)
    ]
    await asyncio.sleep(0.15)  # the attempts are being hashed now
    started = time.perf_counter()
    resp = await gateway_client.get("/healthz")
    elapsed = time.perf_counter() - started
    results = await asyncio.gather(*attempts)
    assert resp.status == 200
    assert elapsed < 0.5, f"/healthz took {elapsed:.3f}s while logins were hashed"
    assert all(status in (401, 429, 503) for status, _ in results)


async def test_a_full_hash_queue_answers_503_with_retry_after_at_once(make_desk_gateway):
    client = await make_desk_gateway(desk={"GATEWAY_LOGIN_MAX_PENDING": "1"})
    await make_agent(client, "li.na")
    results = await asyncio.gather(*(post_login(client, "li.na", f"wrong password {i}") for i in range(6)))
    busy = [headers for status, headers in results if status == 503]
    assert busy, [s for s, _ in results]
    assert all(int(h["Retry-After"]) >= 1 for h in busy)


async def test_eleventh_bad_login_for_an_account_gets_429_with_retry_after(gateway_client, clock):
    await make_agent(gateway_client, "li.na")
    for _ in range(10):
        status, _ = await post_login(gateway_client, "li.na", "wrong password!")
        assert status == 401
        clock.advance(3600)  # past any growing delay; the window of the count is real time
    status, headers = await post_login(gateway_client, "li.na", "wrong password!")
    assert status == 429 and int(headers["Retry-After"]) > 0
    status, _ = await post_login(gateway_client, "li.na", PASSWORD)
    assert status == 429  # even the right password waits: the account is locked for now

    await make_agent(gateway_client, "wang.wei")
    async with from_address("127.0.0.2") as other:
        assert (await post_login(gateway_client, "wang.wei", "wrong password!", other))[0] == 401
        assert (await post_login(gateway_client, "wang.wei", PASSWORD, other))[0] == 303


async def test_repeated_failures_wait_longer_each_time(gateway_client, clock):
    await make_agent(gateway_client, "li.na")
    for _ in range(3):
        assert (await post_login(gateway_client, "li.na", "wrong password!"))[0] == 401
    status, headers = await post_login(gateway_client, "li.na", "wrong password!")
    first_wait = int(headers["Retry-After"])
    assert status == 429 and first_wait >= 1
    clock.advance(first_wait)
    assert (await post_login(gateway_client, "li.na", "wrong password!"))[0] == 401
    status, headers = await post_login(gateway_client, "li.na", "wrong password!")
    assert status == 429 and int(headers["Retry-After"]) > first_wait


async def test_one_address_cannot_spray_many_accounts(gateway_client, clock):
    for i in range(30):
        status, _ = await post_login(gateway_client, f"guess{i}", "wrong password!")
        assert status == 401
    status, headers = await post_login(gateway_client, "guess-next", "wrong password!")
    assert status == 429 and int(headers["Retry-After"]) > 0
    await make_agent(gateway_client, "wang.wei")
    async with from_address("127.0.0.2") as other:
        assert (await post_login(gateway_client, "wang.wei", PASSWORD, other))[0] == 303


async def test_a_successful_login_clears_the_accounts_counter(gateway_client, clock):
    await make_agent(gateway_client, "li.na")
    for _ in range(9):
        assert (await post_login(gateway_client, "li.na", "wrong password!"))[0] == 401
        clock.advance(3600)
    assert (await post_login(gateway_client, "li.na", PASSWORD))[0] == 303
    for _ in range(3):
        assert (await post_login(gateway_client, "li.na", "wrong password!"))[0] == 401
