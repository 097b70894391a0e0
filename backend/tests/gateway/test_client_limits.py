"""Limits per client address (new conversations) and per socket (messages); X-Forwarded-For is
believed only from a trusted proxy."""

from __future__ import annotations

from huanxin_testkit.gw_fake_rasa import metadata_key, received_key
from huanxin_testkit.gw_helpers import Widget


async def new_conversation(client, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await client.post("/api/chat/conversations", json={"language": "en"}, headers=headers)


async def test_new_conversations_per_client_address_are_limited(make_gateway):
    client = await make_gateway(new_conversations_per_hour=2)
    assert [(await new_conversation(client)).status for _ in range(2)] == [201, 201]
    refused = await new_conversation(client)
    assert refused.status == 429
    assert refused.content_type == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert (await refused.json())["code"] == "rate_limited"


async def test_forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit(make_gateway):
    client = await make_gateway(new_conversations_per_hour=2)
    statuses = [(await new_conversation(client, f"203.0.113.{i}")).status for i in range(3)]
    assert statuses == [201, 201, 429]


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(make_gateway, fake_rasa):
    client = await make_gateway(new_conversations_per_hour=2, trusted_proxies=("127.0.0.1/32",))
    assert [(await new_conversation(client, "203.0.113.7")).status for _ in range(3)] == [201, 201, 429]
    # a hop the client wrote itself (left of the proxy's) does not make it someone else
    assert (await new_conversation(client, "198.51.100.2, 203.0.113.7")).status == 429
    assert (await new_conversation(client, "203.0.113.8")).status == 201


async def test_client_ref_follows_the_trusted_forwarded_address(make_gateway, fake_rasa):
    client = await make_gateway(trusted_proxies=("127.0.0.1",))
    refs = []
    for address in ("203.0.113.7", "203.0.113.8"):
        resp = await new_conversation(client, address)
        data = await resp.json()
        widget = Widget(client, data["conversation_id"], data["token"])
        widget.ws = await client.ws_connect("/ws/chat", headers={"X-Forwarded-For": address})
        await widget.ws.send_json({"type": "auth", "conversation_id": widget.conversation_id, "token": widget.token})
        await widget.send("hello", "m1")
        await widget.wait_for(lambda e: e["type"] == "message" and e["sender"] == "bot")
        refs.append(fake_rasa.app[metadata_key][-1]["client_ref"])
    assert refs[0] != refs[1]


async def test_messages_per_socket_are_limited(make_gateway, fake_rasa):
    client = await make_gateway(chat_messages_per_minute=2)
    widget = await Widget.open(client)
    await widget.send("one", "m1")
    await widget.send("two", "m2")
    await widget.ws.send_json({"type": "message", "text": "three", "client_msg_id": "m3"})
    refused = await widget.wait_for(lambda e: e["type"] == "error")
    assert refused["code"] == "rate_limited" and refused["retry_after"] > 0 and refused["client_msg_id"] == "m3"
    assert [m for _, m in fake_rasa.app[received_key]] == ["one", "two"]


def test_client_address_believes_forwarded_for_only_through_trusted_hops():
    from gateway.clients import client_address, parse_networks

    proxies = parse_networks(["10.0.0.0/8", "127.0.0.1"])
    assert client_address("198.51.100.9", "203.0.113.1", proxies) == "198.51.100.9"  # untrusted peer
    assert client_address("127.0.0.1", None, proxies) == "127.0.0.1"
    assert client_address("127.0.0.1", "203.0.113.1, 10.1.2.3", proxies) == "203.0.113.1"  # two proxies
    assert client_address("127.0.0.1", "forged, 203.0.113.1", proxies) == "203.0.113.1"
    assert client_address("127.0.0.1", "203.0.113.1, not-an-ip", proxies) == "127.0.0.1"  # malformed: stop
    assert client_address("127.0.0.1", "10.0.0.1", proxies) == "10.0.0.1"  # only proxies: the farthest
