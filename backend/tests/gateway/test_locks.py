"""Per-conversation locks: in one process (asyncio) and across processes (Redis at 127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from gateway.locks import ConversationLocks, LockTimeout, RedisClient

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not redis_up(), reason="Redis is not running on 127.0.0.1:6379")


async def overlapping(locks_by_worker: list[ConversationLocks], conversation: str, rounds: int = 10) -> int:
    inside = 0
    overlaps = 0

    async def worker(locks: ConversationLocks):
        nonlocal inside, overlaps
        for _ in range(rounds):
            async with locks.hold(conversation):
                inside += 1
                overlaps += inside > 1
                await asyncio.sleep(0.002)
                inside -= 1

    await asyncio.gather(*(worker(locks) for locks in locks_by_worker))
    return overlaps


async def test_local_lock_serialises_one_conversation():
    locks = ConversationLocks()
    assert await overlapping([locks, locks, locks], "c1") == 0


async def test_local_locks_of_different_conversations_do_not_block_each_other():
    locks = ConversationLocks()
    order = []

    async def slow():
        async with locks.hold("a"):
            await asyncio.sleep(0.1)
            order.append("a")

    async def fast():
        await asyncio.sleep(0.01)
        async with locks.hold("b"):
            order.append("b")

    await asyncio.gather(slow(), fast())
    assert order == ["b", "a"]


async def test_two_independent_lock_managers_without_redis_do_overlap():
    # the control case: it shows the Redis test below can fail
    assert await overlapping([ConversationLocks(), ConversationLocks()], "c1") > 0


@needs_redis
async def test_redis_lock_serialises_one_conversation_across_gateways():
    clients = [RedisClient(REDIS_URL), RedisClient(REDIS_URL)]
    try:
        locks = [ConversationLocks(c, ttl_s=5) for c in clients]
        assert await overlapping(locks, f"test-{id(locks)}") == 0
    finally:
        for c in clients:
            await c.close()


@needs_redis
async def test_redis_lock_times_out_instead_of_waiting_forever():
    a, b = RedisClient(REDIS_URL), RedisClient(REDIS_URL)
    try:
        holder = ConversationLocks(a, ttl_s=5)
        waiter = ConversationLocks(b, ttl_s=5, wait_s=0.2)
        key = f"test-timeout-{id(holder)}"
        async with holder.hold(key):
            with pytest.raises(LockTimeout):
                async with waiter.hold(key):
                    pass
        async with waiter.hold(key):  # released by the holder
            pass
    finally:
        await a.close()
        await b.close()


@needs_redis
async def test_two_gateways_sharing_redis_and_a_database_keep_one_order(
    aiohttp_client, aiohttp_server, database_url, clock, audit, wechat_client
):
    from gateway.keys import Overrides, service_key
    from gateway.settings import GatewaySettings
    from gateway.web import init_app
    from huanxin_testkit.gw_fake_rasa import make_fake_rasa, received_key

    rasa = await aiohttp_server(make_fake_rasa("r", jitter_s=0.02))
    settings = GatewaySettings(
        database_url=database_url, rasa_urls=(str(rasa.make_url("")).rstrip("/"),), redis_url=REDIS_URL
    )
    gateways = [await aiohttp_client(init_app(settings, Overrides(clock=clock, audit=audit))) for _ in range(2)]
    one, two = (g.app[service_key] for g in gateways)
    conv, _ = await one.create_web_conversation("en")
    await asyncio.gather(
        *((one if i % 2 else two).handle_borrower_message(conv.id, f"m{i}", client_msg_id=f"k{i}") for i in range(12))
    )
    transcript = await one.transcript(conv.id)
    assert [m["seq"] for m in transcript] == list(range(1, 25))
    for borrower, bot in zip(transcript[0::2], transcript[1::2], strict=True):
        assert (borrower["sender"], bot["sender"]) == ("borrower", "bot")
        assert bot["text"] == f"[r] echo: {borrower['text']}"
    assert [m for _, m in rasa.app[received_key]] == [m["text"] for m in transcript[0::2]]


async def test_transcript_order_holds_on_postgresql(aiohttp_client, aiohttp_server, pg_database_url, clock, audit):
    from gateway.keys import Overrides, service_key
    from gateway.settings import GatewaySettings
    from gateway.web import init_app
    from huanxin_testkit.gw_fake_rasa import make_fake_rasa

    rasa = await aiohttp_server(make_fake_rasa("pg", jitter_s=0.02))
    settings = GatewaySettings(database_url=pg_database_url, rasa_urls=(str(rasa.make_url("")).rstrip("/"),))
    client = await aiohttp_client(init_app(settings, Overrides(clock=clock, audit=audit)))
    service = client.app[service_key]
    conv, _ = await service.create_web_conversation("zh")
    await asyncio.gather(
        *(service.handle_borrower_message(conv.id, f"消息{i}", client_msg_id=f"k{i}") for i in range(15))
    )
    transcript = await service.transcript(conv.id)
    assert [m["seq"] for m in transcript] == list(range(1, 31))
    assert all(
        bot["text"] == f"[pg] echo: {b['text']}" for b, bot in zip(transcript[0::2], transcript[1::2], strict=True)
    )
