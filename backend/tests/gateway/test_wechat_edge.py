"""WeChat pushes: stale timestamps and replayed (timestamp, nonce) pairs are refused and store
nothing; buttons chosen by number show their title; an idle conversation gets a new Rasa sender."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET

import pytest

from gateway.keys import service_key
from huanxin_testkit.gw_fake_rasa import received_key
from test_wechat_endpoint import count_rows, signed, text_xml


def at(clock, offset_s: int = 0) -> str:
    return str(int(clock.now.timestamp()) + offset_s)


async def test_timestamps_more_than_five_minutes_off_are_403_and_store_nothing(
    gateway_client, clock, database_url, fake_rasa
):
    for offset in (-301, 301, -86400):
        resp = await gateway_client.post(
            "/wechat", params=signed(timestamp=at(clock, offset)), data=text_xml("你好", "1")
        )
        assert resp.status == 403
    assert await count_rows(database_url) == (0, 0) and fake_rasa.app[received_key] == []
    for offset, msg_id in ((-299, "2"), (299, "3")):
        resp = await gateway_client.post(
            "/wechat", params=signed(timestamp=at(clock, offset)), data=text_xml("你好", msg_id)
        )
        assert resp.status == 200


async def test_a_replayed_timestamp_and_nonce_is_403_and_stores_nothing(gateway_client, clock, database_url, fake_rasa):
    params = signed(timestamp=at(clock), nonce="replayed-nonce")
    assert (await gateway_client.post("/wechat", params=params, data=text_xml("你好", "10"))).status == 200
    before = await count_rows(database_url)
    clock.advance(60)
    replay = await gateway_client.post("/wechat", params=params, data=text_xml("转账给我", "11"))
    assert replay.status == 403
    assert await count_rows(database_url) == before
    assert [m for _, m in fake_rasa.app[received_key]] == ["你好"]


async def test_replays_are_caught_across_gateways_through_redis(make_gateway, clock, database_url):
    try:
        from gateway.locks import RedisClient

        probe = RedisClient("redis://127.0.0.1:6379/2")
        await probe.execute("PING")
        await probe.close()
    except OSError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    one = await make_gateway(redis_url="redis://127.0.0.1:6379/2")
    two = await make_gateway(redis_url="redis://127.0.0.1:6379/2")
    params = signed(timestamp=at(clock), nonce=secrets.token_hex(8))
    assert (await one.post("/wechat", params=params, data=text_xml("你好", "20"))).status == 200
    assert (await two.post("/wechat", params=params, data=text_xml("你好", "21"))).status == 403


async def test_a_button_chosen_by_number_shows_its_title_in_the_transcript(gateway_client, fake_rasa):
    await gateway_client.post("/wechat", params=signed(), data=text_xml("choose", "30"))
    await gateway_client.post("/wechat", params=signed(), data=text_xml("1", "31"))
    assert fake_rasa.app[received_key][-1][1] == '/inform{"plan": "deferral"}'
    conv_id = fake_rasa.app[received_key][-1][0]
    stored = await gateway_client.app[service_key].transcript(conv_id)
    assert [m["text"] for m in stored if m["sender"] == "borrower"] == ["choose", "Deferral"]


async def test_a_wechat_text_starting_with_a_slash_reaches_rasa_as_text(gateway_client, fake_rasa):
    resp = await gateway_client.post("/wechat", params=signed(), data=text_xml("/handback{}", "40"))
    assert resp.status == 200
    assert not fake_rasa.app[received_key][-1][1].strip().startswith("/")


async def test_an_idle_wechat_conversation_talks_to_rasa_as_a_new_sender(
    gateway_client, clock, fake_rasa, database_url
):
    async def push(text: str, msg_id: str) -> str:
        resp = await gateway_client.post("/wechat", params=signed(timestamp=at(clock)), data=text_xml(text, msg_id))
        return ET.fromstring(await resp.text()).findtext("Content")

    await push("第一句", "50")
    clock.advance(29 * 60)
    await push("第二句", "51")
    clock.advance(31 * 60)
    assert "第三句" in await push("第三句", "52")
    senders = [sender for sender, _ in fake_rasa.app[received_key]]
    assert senders[0] == senders[1] and senders[2] != senders[1]  # the bot forgets the verification
    assert (await count_rows(database_url))[0] == 1  # still one conversation per OpenID for the desk


async def test_a_slow_wechat_reply_is_announced_then_sent_through_the_api(make_gateway, aiohttp_server, wechat_client):
    import asyncio

    from huanxin_testkit.gw_fake_rasa import make_fake_rasa

    slow = await aiohttp_server(make_fake_rasa("slow", delay_s=0.6))
    client = await make_gateway(
        rasa_urls=(str(slow.make_url("")).rstrip("/"),),
        wechat_reply_deadline_s=0.05,
        slow_reply_notice_s=0.2,
        rasa_timeout_s=5.0,
    )
    resp = await client.post("/wechat", params=signed(), data=text_xml("在吗", "60"))
    assert await resp.text() == "success"
    for _ in range(60):
        if len(wechat_client.sent) >= 2:
            break
        await asyncio.sleep(0.05)
    assert [content for _, content in wechat_client.sent][1:] == ["[slow] echo: 在吗"]
    assert "稍等" in wechat_client.sent[0][1] or "still working" in wechat_client.sent[0][1]
