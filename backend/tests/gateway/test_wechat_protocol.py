"""The pure WeChat protocol module: signatures, parsing of the documented payloads, replies, API client."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gateway import wechat

PAYLOADS = Path(__file__).parent / "payloads"


def test_signature_matches_an_independently_computed_sha1():
    # printf '1714000000372198huanxin-test-token' | sha1sum  (sorted: timestamp, nonce, token)
    expected = "14ae0fb5c22dd5da883bb5a546937851f043c10a"
    assert wechat.compute_signature("huanxin-test-token", "1714000000", "372198") == expected
    assert wechat.verify_signature("huanxin-test-token", expected, "1714000000", "372198")
    assert wechat.verify_signature("huanxin-test-token", expected.upper(), "1714000000", "372198")


@pytest.mark.parametrize(
    "signature,timestamp,nonce",
    [
        ("14ae0fb5c22dd5da883bb5a546937851f043c10b", "1714000000", "372198"),  # one digit off
        ("14ae0fb5c22dd5da883bb5a546937851f043c10a", "1714000001", "372198"),  # other timestamp
        ("14ae0fb5c22dd5da883bb5a546937851f043c10a", "1714000000", "372199"),  # other nonce
        (None, "1714000000", "372198"),
        ("14ae0fb5c22dd5da883bb5a546937851f043c10a", None, "372198"),
        ("", "", ""),
    ],
)
def test_signature_rejects_anything_else(signature, timestamp, nonce):
    assert not wechat.verify_signature("huanxin-test-token", signature, timestamp, nonce)


def test_signature_is_refused_when_no_token_is_configured():
    sig = wechat.compute_signature("", "1", "2")
    assert not wechat.verify_signature("", sig, "1", "2")


def test_parses_the_documented_text_message():
    msg = wechat.parse_message((PAYLOADS / "text.xml").read_bytes())
    assert msg.to_user == "gh_huanxin0001"
    assert msg.from_user == "oHX_openid_borrower_001"
    assert msg.create_time == 1348831860
    assert msg.msg_type == "text"
    assert msg.content == "我欠多少钱"
    assert msg.msg_id == "1234567890123456"
    assert msg.dedup_key == "wx:1234567890123456"
    assert msg.text_for_bot == "我欠多少钱"


def test_voice_message_uses_the_recognition_text():
    msg = wechat.parse_message((PAYLOADS / "voice.xml").read_bytes())
    assert msg.msg_type == "voice"
    assert msg.text_for_bot == "我想转人工"


def test_image_message_has_no_text_for_the_bot():
    msg = wechat.parse_message((PAYLOADS / "image.xml").read_bytes())
    assert msg.msg_type == "image" and msg.text_for_bot is None


def test_event_without_msgid_is_keyed_by_sender_and_time():
    msg = wechat.parse_message((PAYLOADS / "event_subscribe.xml").read_bytes())
    assert msg.event == "subscribe" and msg.msg_id is None
    assert msg.dedup_key == "wx:oHX_openid_borrower_001:123456789:subscribe"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<xml><ToUserName>gh</ToUserName>",  # truncated
        b"<root><ToUserName>gh</ToUserName></root>",  # wrong root
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime></xml>",  # no MsgType
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>x</CreateTime>"
        b"<MsgType>text</MsgType><Content>a</Content><MsgId>1</MsgId></xml>",  # CreateTime not a number
        b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>text</MsgType><Content>a</Content></xml>",  # message without MsgId
        (PAYLOADS / "billion_laughs.xml").read_bytes(),
        b"<xml>" + b"<a>x</a>" * 20000 + b"</xml>",  # over the size limit
    ],
)
def test_malformed_or_unsafe_bodies_are_refused(body):
    with pytest.raises(wechat.MalformedMessage):
        wechat.parse_message(body)


def test_passive_reply_swaps_the_users_and_survives_cdata_terminators():
    inbound = wechat.parse_message((PAYLOADS / "text.xml").read_bytes())
    reply = wechat.build_text_reply(inbound, "应还 1250.00 元 ]]> ok", now=1700000000)
    root = ET.fromstring(reply)
    assert root.findtext("ToUserName") == "oHX_openid_borrower_001"
    assert root.findtext("FromUserName") == "gh_huanxin0001"
    assert root.findtext("CreateTime") == "1700000000"
    assert root.findtext("MsgType") == "text"
    assert root.findtext("Content") == "应还 1250.00 元 ]]> ok"


def test_buttons_are_rendered_as_a_numbered_list_and_chosen_by_number():
    buttons = [{"title": "延期还款", "payload": "/inform_a"}, {"title": "延长期限", "payload": "/inform_b"}]
    rendered = wechat.render_text("请选择方案", buttons, "zh")
    assert rendered == "请选择方案\n回复数字选择：\n1. 延期还款\n2. 延长期限"
    assert wechat.choose_button("2", buttons)["payload"] == "/inform_b"
    assert wechat.choose_button("２", buttons)["payload"] == "/inform_b"  # full-width digit
    assert wechat.choose_button("3", buttons) is None
    assert wechat.choose_button("我选2", buttons) is None
    assert wechat.choose_button("1", None) is None


class FakeHttp:
    """Plays the platform: tokens numbered in order; the first token may be declared expired."""

    def __init__(self, expire_first: bool = False) -> None:
        self.calls: list[tuple[str, dict, dict | None]] = []
        self.tokens = 0
        self.expire_first = expire_first

    async def get_json(self, url, params):
        self.calls.append((url, params, None))
        self.tokens += 1
        return {"access_token": f"TOKEN{self.tokens}", "expires_in": 7200}

    async def post_json(self, url, params, body):
        self.calls.append((url, params, body))
        if self.expire_first and params["access_token"] == "TOKEN1":
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return {"errcode": 0, "errmsg": "ok"}


async def test_customer_service_client_calls_the_documented_endpoints_and_caches_the_token():
    http = FakeHttp()
    client = wechat.CustomerServiceClient("wxAPPID", "SECRET", http, clock=lambda: 1000.0)
    await client.send_text("oHX_1", "您好")
    await client.send_text("oHX_1", "再见")
    assert [c[0] for c in http.calls] == [
        "https://api.weixin.qq.com/cgi-bin/token",
        "https://api.weixin.qq.com/cgi-bin/message/custom/send",
        "https://api.weixin.qq.com/cgi-bin/message/custom/send",
    ]
    assert http.calls[0][1] == {"grant_type": "client_credential", "appid": "wxAPPID", "secret": "SECRET"}
    assert http.calls[1][1] == {"access_token": "TOKEN1"}
    assert http.calls[1][2] == {"touser": "oHX_1", "msgtype": "text", "text": {"content": "您好"}}


async def test_customer_service_client_refreshes_an_expired_token_once():
    http = FakeHttp(expire_first=True)
    client = wechat.CustomerServiceClient("wxAPPID", "SECRET", http, clock=lambda: 1000.0)
    await client.send_text("oHX_1", "您好")
    assert [c[1].get("access_token") for c in http.calls if c[2] is not None] == ["TOKEN1", "TOKEN2"]


async def test_customer_service_client_raises_on_other_errors():
    class Refusing(FakeHttp):
        async def post_json(self, url, params, body):
            return {"errcode": 45015, "errmsg": "response out of time limit"}

    client = wechat.CustomerServiceClient("wxAPPID", "SECRET", Refusing(), clock=lambda: 1000.0)
    with pytest.raises(wechat.WeChatApiError) as info:
        await client.send_text("oHX_1", "您好")
    assert info.value.errcode == 45015
