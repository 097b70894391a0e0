"""Regression tests for what the gateway fuzzer (gw_fuzz.py, bench/fuzz_gateway.py) found:
inputs that got a 500 or crashed a handler. Each now gets a clear 4xx and changes nothing.

Several only fail on PostgreSQL (NUL characters, lone surrogates, over-long values and
out-of-range integers that SQLite stores or compares without complaint), so those run on both.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from datetime import UTC, datetime

import pytest

from gateway import wechat
from huanxin_testkit.gw_fakes import count_rows, fresh_pg_database
from huanxin_testkit.gw_helpers import WECHAT_TOKEN, Widget, desk_for, escalated_conversation


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_gateway(request, make_gateway, database_url, clock):
    """The gateway on SQLite and on PostgreSQL (skipped when PostgreSQL is not running)."""
    url = database_url
    if request.param == "postgresql":
        try:
            url = await fresh_pg_database(os.environ.get("HUANXIN_PG_GATEWAY_DB", "test_gateway"))
        except OSError:
            pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    clock.now = datetime.now(UTC)  # WeChat timestamps are checked against one clock or the other
    client = await make_gateway(database_url=url)
    client.database_url = url
    return client


async def raw_status(client, request: bytes) -> int:
    """Send bytes no well-behaved client would (invalid UTF-8 in a header) and read the status."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(request)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 10)
        await reader.read()
    finally:
        writer.close()
    return int(line.split()[1])


def raw(client, method: str, path: str, headers: bytes, body: bytes = b"") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {client.server.host}:{client.server.port}\r\n".encode()
        + headers
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


def signed_query() -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(6)
    return {
        "signature": wechat.compute_signature(WECHAT_TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }


# ---- desk: Origin, login form, CSRF ---------------------------------------------------------


@pytest.mark.parametrize("origin", ["http://[", "http://[::1"])
async def test_desk_post_with_an_unparseable_origin_is_refused_as_cross_site(gateway_client, origin):
    desk = await desk_for(gateway_client, "ann")
    resp = await gateway_client.post(
        "/desk/api/conversations/x/take", headers={"X-CSRF-Token": desk.csrf, "Origin": origin}
    )
    assert resp.status == 403
    assert (await resp.json())["code"] == "csrf_failed"


async def test_desk_socket_with_an_unparseable_origin_is_refused(gateway_client):
    await desk_for(gateway_client, "ann")
    resp = await gateway_client.get(
        "/ws/desk",
        headers={
            "Origin": "http://[",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert resp.status == 401


async def test_login_with_an_unparseable_origin_is_refused(gateway_client):
    resp = await gateway_client.post(
        "/desk/login",
        data={"username": "ann", "password": "x", "csrf": "c"},
        headers={"Origin": "http://[", "Cookie": "hx_login_csrf=c"},
    )
    assert resp.status == 403


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data", b'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\nc\r\n--b--\r\n'),
        ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data\r\n\r\nc\r\n--b--\r\n"),
        (
            "multipart/form-data; boundary=other",
            b'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\nc\r\n--b--\r\n',
        ),
        ("application/x-www-form-urlencoded", b"\xff\xfeu\x00s\x00e\x00r\x00"),
        ("application/x-www-form-urlencoded; charset=bogus", b"username=ann&password=x&csrf=c"),
    ],
    ids=["no-boundary", "part-without-name", "wrong-boundary", "not-utf8", "unknown-charset"],
)
async def test_a_login_form_that_cannot_be_parsed_gets_400(gateway_client, content_type, body):
    resp = await gateway_client.post(
        "/desk/login", data=body, headers={"Content-Type": content_type, "Cookie": "hx_login_csrf=c"}
    )
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"


@pytest.mark.parametrize("header", [b"Cookie: hx_desk=\xff\xfe\r\n", b"Cookie: hx_desk=\xe9\r\n"])
async def test_a_desk_cookie_that_is_not_utf8_is_not_a_session(gateway_client, header):
    assert await raw_status(gateway_client, raw(gateway_client, "GET", "/desk/api/queue", header)) == 401


async def test_a_csrf_header_that_is_not_utf8_is_refused(gateway_client):
    desk = await desk_for(gateway_client, "ann")
    cookie = gateway_client.session.cookie_jar.filter_cookies(gateway_client.make_url("/"))["hx_desk"].value
    request = raw(
        gateway_client,
        "POST",
        "/desk/api/conversations/x/take",
        f"Cookie: hx_desk={cookie}\r\n".encode() + b"X-CSRF-Token: \xff" + desk.csrf.encode() + b"\r\n",
    )
    assert await raw_status(gateway_client, request) == 403


async def test_a_login_csrf_cookie_that_is_not_utf8_is_refused(gateway_client):
    request = raw(
        gateway_client,
        "POST",
        "/desk/login",
        b"Cookie: hx_login_csrf=\xe9\r\nContent-Type: application/x-www-form-urlencoded\r\n",
        b"username=ann&password=x&csrf=%C3%A9",
    )
    assert await raw_status(gateway_client, request) == 403


# ---- JSON bodies and frames -------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json; charset=bogus", b'{"language": "en"}'),
        ("application/json", b"[" * 50_000 + b"]" * 50_000),
        ("application/json", b'{"a":' * 20_000 + b"1" + b"}" * 20_000),
    ],
    ids=["unknown-charset", "deep-array", "deep-object"],
)
async def test_a_json_body_that_cannot_be_decoded_gets_422(gateway_client, content_type, body):
    resp = await gateway_client.post("/api/chat/conversations", data=body, headers={"Content-Type": content_type})
    assert resp.status in (413, 422)
    assert (await resp.json())["code"] in ("invalid_request", "payload_too_large")


async def test_a_deeply_nested_desk_body_gets_422(gateway_client):
    desk = await desk_for(gateway_client, "ann")
    resp = await gateway_client.post(
        "/desk/api/conversations/x/messages",
        data=b"[" * 30_000 + b"]" * 30_000,
        headers={"X-CSRF-Token": desk.csrf, "Content-Type": "application/json"},
    )
    assert resp.status == 422


async def test_a_deeply_nested_chat_frame_gets_an_error_and_the_socket_keeps_serving(gateway_client):
    widget = await Widget.open(gateway_client)
    await widget.ws.send_str("[" * 8000 + "]" * 8000)
    error = await widget.wait_for(lambda e: e["type"] == "error")
    assert error["code"] == "invalid_request"
    ack = await widget.send("hello", "after-the-deep-frame")
    assert ack["duplicate"] is False


# ---- chat: client token and after -----------------------------------------------------------------


async def test_a_client_token_that_is_not_utf8_is_refused(gateway_client):
    widget = await Widget.open(gateway_client)
    request = raw(
        gateway_client,
        "GET",
        f"/api/chat/conversations/{widget.conversation_id}/messages",
        b"X-Client-Token: \xff\xfe\r\n",
    )
    assert await raw_status(gateway_client, request) == 403


@pytest.mark.parametrize("after", ["2147483648", "9223372036854775808", "9" * 40])
async def test_after_beyond_the_sequence_range_gets_422(db_gateway, after):
    widget = await Widget.open(db_gateway)
    resp = await db_gateway.get(
        f"/api/chat/conversations/{widget.conversation_id}/messages",
        params={"after": after},
        headers={"X-Client-Token": widget.token},
    )
    assert resp.status == 422


async def test_a_socket_with_after_beyond_the_sequence_range_still_opens(db_gateway):
    widget = await Widget.open(db_gateway)
    await widget.send("hello", "m1")
    widget.last_seq = 10**19
    await widget.connect()
    state = await widget.ws.receive_json(timeout=5)
    assert state["type"] == "state"


# ---- values PostgreSQL cannot store or compare --------------------------------------------------------


@pytest.mark.parametrize("conversation_id", ["a\x00b", "\ud800", "x" * 300])
async def test_an_odd_conversation_id_in_a_path_is_not_found(db_gateway, conversation_id):
    from urllib.parse import quote

    from yarl import URL

    await desk_for(db_gateway, "ann")
    segment = quote(conversation_id.encode("utf-8", "surrogatepass"), safe="")
    resp = await db_gateway.get(URL(f"/desk/api/conversations/{segment}", encoded=True))
    assert resp.status == 404
    chat = await db_gateway.get(
        URL(f"/api/chat/conversations/{segment}/messages", encoded=True), headers={"X-Client-Token": "t"}
    )
    assert chat.status == 403


async def test_a_login_with_a_nul_in_the_username_is_a_wrong_login(db_gateway):
    form = await db_gateway.get("/desk/login")
    assert form.status == 200
    csrf = db_gateway.session.cookie_jar.filter_cookies(db_gateway.make_url("/"))["hx_login_csrf"].value
    resp = await db_gateway.post(
        "/desk/login", data={"username": "ann\x00", "password": "x" * 12, "csrf": csrf}, allow_redirects=False
    )
    assert resp.status in (401, 429)


@pytest.mark.parametrize("text", ["a\x00b", "x\ud800y"])
async def test_a_chat_message_that_cannot_be_stored_gets_an_error_and_is_not_stored(db_gateway, text):
    widget = await Widget.open(db_gateway)
    before = await count_rows(db_gateway.database_url)
    await widget.ws.send_str(json.dumps({"type": "message", "text": text, "client_msg_id": "bad"}))
    error = await widget.wait_for(lambda e: e["type"] == "error")
    assert error["code"] == "invalid_request"
    assert await count_rows(db_gateway.database_url) == before
    assert (await widget.send("hello", "good"))["duplicate"] is False


@pytest.mark.parametrize("client_msg_id", ["x\udfffy", "a\x00b"])
async def test_a_chat_message_id_that_is_not_text_gets_an_error_and_is_not_stored(db_gateway, client_msg_id):
    widget = await Widget.open(db_gateway)
    before = await count_rows(db_gateway.database_url)
    await widget.ws.send_str(json.dumps({"type": "message", "text": "hello", "client_msg_id": client_msg_id}))
    error = await widget.wait_for(lambda e: e["type"] == "error")
    assert error["code"] == "invalid_request"
    assert await count_rows(db_gateway.database_url) == before
    assert (await widget.send("hello", "good"))["duplicate"] is False


@pytest.mark.parametrize("body", [{"text": "a\x00b"}, {"text": "x\ud800"}])
async def test_an_agent_reply_that_cannot_be_stored_gets_422(db_gateway, body):
    desk = await desk_for(db_gateway, "ann")
    widget = await escalated_conversation(db_gateway)
    assert (await desk.take(widget.conversation_id)).status == 200
    resp = await desk.post(f"/desk/api/conversations/{widget.conversation_id}/messages", body)
    assert resp.status == 422


@pytest.mark.parametrize(
    "action, body",
    [
        ("handback", {"note": "a\x00b"}),
        ("handback", {"internal_note": "\ud800"}),
        ("close", {"outcome": "other", "note": "a\x00b"}),
    ],
)
async def test_an_agent_note_that_cannot_be_stored_gets_422_and_changes_nothing(db_gateway, action, body):
    desk = await desk_for(db_gateway, "ann")
    widget = await escalated_conversation(db_gateway)
    assert (await desk.take(widget.conversation_id)).status == 200
    resp = await desk.post(f"/desk/api/conversations/{widget.conversation_id}/{action}", body)
    assert resp.status == 422
    view = await (await desk.view(widget.conversation_id)).json()
    assert view["conversation"]["state"] == "agent"


# ---- WeChat XML ----------------------------------------------------------------------------------------


def wechat_text(
    openid: str = "oHX_openid_fuzz_001", msg_id: str = "7000000000000000001", content: str = "hello"
) -> str:
    return (
        f"<xml><ToUserName>gh_huanxin0001</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType><Content>{content}</Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0" encoding="bogus"?>' + wechat_text().encode(),
        b'<?xml version="1.0" encoding="gbk"?>' + wechat_text().encode(),
    ],
    ids=["unknown-encoding", "multibyte-encoding"],
)
async def test_a_wechat_push_in_an_unusable_encoding_gets_400(db_gateway, body):
    resp = await db_gateway.post("/wechat", params=signed_query(), data=body)
    assert resp.status == 400
    assert await count_rows(db_gateway.database_url) == (0, 0)


@pytest.mark.parametrize(
    "xml", [wechat_text(openid="o" * 200), wechat_text(msg_id="9" * 200)], ids=["long-openid", "long-msgid"]
)
async def test_a_wechat_push_with_an_over_long_id_gets_400_and_stores_nothing(db_gateway, xml):
    resp = await db_gateway.post("/wechat", params=signed_query(), data=xml.encode())
    assert resp.status == 400
    assert await count_rows(db_gateway.database_url) == (0, 0)


# ---- static files ----------------------------------------------------------------------------------------


async def test_a_static_file_name_too_long_for_the_file_system_is_not_found(gateway_client):
    resp = await gateway_client.get("/static/" + "%C3%A9" * 300)
    assert resp.status == 404


@pytest.mark.parametrize("reply", ["²", "①", "⑩"])
async def test_a_wechat_reply_that_looks_numeric_but_is_no_number_is_text_not_a_500(gateway_client, clock, reply):
    clock.now = datetime.now(UTC)
    offered = await gateway_client.post("/wechat", params=signed_query(), data=wechat_text(content="choose").encode())
    assert offered.status == 200 and "Deferral" in await offered.text()
    resp = await gateway_client.post(
        "/wechat", params=signed_query(), data=wechat_text(content=reply, msg_id="7000000000000000002").encode()
    )
    assert resp.status == 200
    assert f"echo: {reply}" in await resp.text()  # passed on as text, no button chosen


# ---- problem bodies ------------------------------------------------------------------------------------------


async def test_a_problem_that_quotes_a_lone_surrogate_is_still_a_422_problem(gateway_client):
    desk = await desk_for(gateway_client, "ann")
    widget = await escalated_conversation(gateway_client)
    assert (await desk.take(widget.conversation_id)).status == 200
    resp = await gateway_client.post(
        f"/desk/api/conversations/{widget.conversation_id}/handback",
        data=b'{"slots": {"\\ud800": "x"}}',
        headers={"X-CSRF-Token": desk.csrf, "Content-Type": "application/json"},
    )
    assert resp.status == 422
    assert (await resp.json())["code"] == "invalid_request"
