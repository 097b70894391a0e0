"""/wechat against the gateway with a fake Rasa and a fake customer-service API client."""

from __future__ import annotations

import asyncio
import secrets
import xml.etree.ElementTree as ET
from pathlib import Path

from gateway import wechat
from huanxin_testkit.gw_fakes import count_rows
from huanxin_testkit.gw_helpers import FIXED_NOW, WECHAT_TOKEN

PAYLOADS = Path(__file__).parent / "payloads"


NOW = str(int(FIXED_NOW.timestamp()))  # the gateway's (fake) clock: stale timestamps are refused


def signed(timestamp: str = NOW, nonce: str | None = None, token: str = WECHAT_TOKEN) -> dict[str, str]:
    nonce = nonce or secrets.token_hex(6)  # every push has a nonce of its own: a repeated pair is a replay
    return {
        "signature": wechat.compute_signature(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": "oHX_openid_borrower_001",
    }


def text_xml(content: str, msg_id: str, openid: str = "oHX_openid_borrower_001") -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_huanxin0001]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>1714000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


async def test_echostr_check_answers_the_echo_only_when_signed(gateway_client):
    ok = await gateway_client.get("/wechat", params={**signed(), "echostr": "5837397520665436492"})
    assert ok.status == 200 and await ok.text() == "5837397520665436492"
    bad = await gateway_client.get("/wechat", params={**signed(token="wrong"), "echostr": "5837397520665436492"})
    assert bad.status == 403 and "5837397520665436492" not in await bad.text()


async def test_bad_signature_is_403_and_nothing_is_stored(gateway_client, database_url, fake_rasa):
    body = (PAYLOADS / "text.xml").read_bytes()
    for params in (
        signed(token="wrong"),
        {k: v for k, v in signed().items() if k != "signature"},
        {**signed(), "nonce": "other"},
    ):
        resp = await gateway_client.post("/wechat", params=params, data=body)
        assert resp.status == 403
    assert await count_rows(database_url) == (0, 0)
    from huanxin_testkit.gw_fake_rasa import received_key

    assert fake_rasa.app[received_key] == []


async def test_text_message_gets_the_bots_answer_as_passive_reply(gateway_client, database_url):
    resp = await gateway_client.post("/wechat", params=signed(), data=(PAYLOADS / "text.xml").read_bytes())
    assert resp.status == 200
    root = ET.fromstring(await resp.text())
    assert root.findtext("ToUserName") == "oHX_openid_borrower_001"
    assert root.findtext("FromUserName") == "gh_huanxin0001"
    assert root.findtext("Content") == "[rasa-1] echo: 我欠多少钱"
    assert await count_rows(database_url) == (1, 2)


async def test_duplicate_message_is_answered_once(gateway_client, database_url, fake_rasa):
    from huanxin_testkit.gw_fake_rasa import received_key

    body = (PAYLOADS / "text.xml").read_bytes()
    first = await gateway_client.post("/wechat", params=signed(), data=body)
    second = await gateway_client.post("/wechat", params=signed(nonce="99"), data=body)  # the platform's retry
    assert "echo" in await first.text()
    assert second.status == 200 and await second.text() == "success"
    assert len(fake_rasa.app[received_key]) == 1
    assert await count_rows(database_url) == (1, 2)


async def test_concurrent_retries_reach_the_bot_once(make_gateway, aiohttp_server, database_url):
    from huanxin_testkit.gw_fake_rasa import make_fake_rasa, received_key

    slow = await aiohttp_server(make_fake_rasa("slow", delay_s=0.3))
    client = await make_gateway(rasa_urls=(str(slow.make_url("")).rstrip("/"),))
    body = text_xml("你好", "555")
    answers = await asyncio.gather(*(client.post("/wechat", params=signed(nonce=str(n)), data=body) for n in range(3)))
    texts = [await a.text() for a in answers]
    assert sum("echo: 你好" in t for t in texts) == 1
    assert texts.count("success") == 2
    assert slow.app[received_key] == [(slow.app[received_key][0][0], "你好")]


async def test_malformed_xml_is_400_and_nothing_is_stored(gateway_client, database_url):
    for body in (b"<xml><ToUserName>", b"garbage", (PAYLOADS / "billion_laughs.xml").read_bytes()):
        resp = await gateway_client.post("/wechat", params=signed(), data=body)
        assert resp.status == 400
    assert await count_rows(database_url) == (0, 0)


async def test_encrypted_mode_is_refused(gateway_client):
    resp = await gateway_client.post(
        "/wechat", params={**signed(), "encrypt_type": "aes"}, data=(PAYLOADS / "text.xml").read_bytes()
    )
    assert resp.status == 400


async def test_slow_bot_answers_success_then_through_the_customer_service_api(
    make_gateway, aiohttp_server, wechat_client
):
    from huanxin_testkit.gw_fake_rasa import make_fake_rasa

    slow = await aiohttp_server(make_fake_rasa("slow", delay_s=0.5))
    client = await make_gateway(rasa_urls=(str(slow.make_url("")).rstrip("/"),), wechat_reply_deadline_s=0.1)
    resp = await client.post("/wechat", params=signed(), data=text_xml("在吗", "777"))
    assert await resp.text() == "success"
    for _ in range(50):
        if wechat_client.sent:
            break
        await asyncio.sleep(0.05)
    assert wechat_client.sent == [("oHX_openid_borrower_001", "[slow] echo: 在吗")]


async def test_one_openid_keeps_one_conversation_and_numbers_pick_buttons(gateway_client, fake_rasa, database_url):
    from huanxin_testkit.gw_fake_rasa import received_key

    await gateway_client.post("/wechat", params=signed(), data=text_xml("choose", "1001"))
    resp = await gateway_client.post("/wechat", params=signed(), data=text_xml("2", "1002"))
    assert resp.status == 200
    assert fake_rasa.app[received_key][-1][1] == '/inform{"plan": "term_extension"}'
    senders = {sender for sender, _ in fake_rasa.app[received_key]}
    assert len(senders) == 1
    assert (await count_rows(database_url))[0] == 1


async def test_handoff_then_agent_reply_goes_out_through_the_api(gateway_client, wechat_client, database_url):
    resp = await gateway_client.post("/wechat", params=signed(), data=text_xml("转人工", "2001"))
    content = ET.fromstring(await resp.text()).findtext("Content")
    assert "colleague" in content and "人工客服" in content  # bot text + the gateway's joining notice
    # while an agent has it, the borrower's messages go to the desk only: nothing passive to say
    resp = await gateway_client.post("/wechat", params=signed(), data=text_xml("还在吗", "2002"))
    assert await resp.text() == "success"


async def test_image_gets_a_polite_text_only_notice(gateway_client):
    resp = await gateway_client.post("/wechat", params=signed(), data=(PAYLOADS / "image.xml").read_bytes())
    assert "文字" in ET.fromstring(await resp.text()).findtext("Content")


async def test_non_ascii_signature_is_refused_not_crashed(gateway_client, database_url):
    resp = await gateway_client.post(
        "/wechat", params={**signed(), "signature": "签名"}, data=(PAYLOADS / "text.xml").read_bytes()
    )
    assert resp.status == 403
    assert await count_rows(database_url) == (0, 0)
