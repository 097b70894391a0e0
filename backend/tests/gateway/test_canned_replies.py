"""Canned replies: one file, zh and en, validated at start-up (an error names the key; a reply
the compliance guard would stop, an unknown placeholder, a missing language stop the start);
the desk lists them filled from the account and sends one by its id through the same checks as
a typed reply (audited with the reply's id)."""

from __future__ import annotations

import pytest

from gateway.canned import CannedError, parse_canned
from gateway.settings import GatewaySettings, SettingsError, load_compliance_rules
from huanxin_testkit.gw_helpers import desk_for, escalated_conversation

GUARD = load_compliance_rules()


def one(text_zh: str = "您好，我是{agent_name}。", text_en: str = "Hello, I am {agent_name}.", **extra):
    return {
        "replies": [
            {"id": "hello", "title": {"zh": "问候", "en": "Greeting"}, "text": {"zh": text_zh, "en": text_en}, **extra}
        ]
    }


def test_the_packaged_file_is_valid_and_bilingual():
    replies = GatewaySettings().canned
    assert len(replies.replies) >= 5
    for reply in replies.replies:
        assert reply.text["zh"] and reply.text["en"]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"replies": []}, "replies"),
        ([1], "replies"),
        (one(text_en="Hello {nickname}"), "replies[0].text.en"),  # unknown placeholder
        (one(text_zh="您好 {agent_name.upper}"), "replies[0].text.zh"),  # not a plain placeholder
        (one(text_zh="您好 {0}"), "replies[0].text.zh"),
        (one(text_zh="您好 {"), "replies[0].text.zh"),  # not a format string
        (one(text_en=""), "replies[0].text.en"),
        ({"replies": [{"id": "x", "title": {"zh": "a", "en": "b"}, "text": {"zh": "a"}}]}, "replies[0].text.en"),
        (one(text_zh="再不还钱就让警察来抓你"), "replies[0].text.zh"),  # the guard would stop it
        (one(text_en="We will tell your employer, {borrower_name}."), "replies[0].text.en"),
        (one(colour="red"), "replies[0].colour"),
        ({"replies": one()["replies"] * 2}, "replies[1].id"),
        ({"replies": [{**one()["replies"][0], "id": "Bad Id"}]}, "replies[0].id"),
        (one(text_en="x" * 2001), "replies[0].text.en"),
    ],
)
def test_a_bad_file_names_the_key(data, key):
    with pytest.raises(CannedError) as exc:
        parse_canned(data, GUARD)
    assert exc.value.key == key


def test_a_bad_file_stops_the_start_naming_the_file(tmp_path):
    bad = tmp_path / "canned.yaml"
    bad.write_text("replies:\n  - id: a\n    title: {zh: a, en: b}\n    text: {zh: '{x}', en: b}\n")
    with pytest.raises(SettingsError) as exc:
        GatewaySettings.from_env({"GATEWAY_CANNED_REPLIES": str(bad)})
    assert "replies[0].text.zh" in str(exc.value) and str(bad) in str(exc.value)
    with pytest.raises(SettingsError, match="cannot read"):
        GatewaySettings.from_env({"GATEWAY_CANNED_REPLIES": str(tmp_path / "missing.yaml")})


def test_filling_names_what_is_missing():
    replies = parse_canned(one(text_en="Case {case_number}, {amount_due} due"), GUARD)
    reply = replies.get("hello")
    assert reply.fill("en", {"case_number": "ESC-2026-000001", "amount_due": "1,234.50"}) == (
        "Case ESC-2026-000001, 1,234.50 due",
        [],
    )
    assert reply.fill("en", {"case_number": "ESC-2026-000001"}) == (None, ["amount_due"])


async def test_the_desk_lists_replies_in_the_conversations_language_filled(gateway_client):
    widget = await escalated_conversation(gateway_client)  # an English widget, unknown to the ledger
    desk = await desk_for(gateway_client, "li.na")
    resp = await gateway_client.get(f"/desk/api/conversations/{widget.conversation_id}/canned")
    assert resp.status == 200
    body = await resp.json()
    assert body["language"] == "en"
    by_id = {r["id"]: r for r in body["replies"]}
    assert by_id["greeting"]["text"] == "Hello, this is Li.Na from the repayment team. How can I help you today?"
    assert by_id["case_reference"]["text"] is None and by_id["case_reference"]["missing"] == ["case_number"]
    zh = await (await gateway_client.get(f"/desk/api/conversations/{widget.conversation_id}/canned?language=zh")).json()
    assert zh["language"] == "zh" and "Li.Na" in {r["id"]: r for r in zh["replies"]}["greeting"]["text"]
    assert (
        await gateway_client.get(f"/desk/api/conversations/{widget.conversation_id}/canned?language=fr")
    ).status == 400
    assert (await gateway_client.get("/desk/api/conversations/nope/canned")).status == 404
    assert desk  # logged in


async def test_sending_a_canned_reply_by_its_id(gateway_client, audit):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")
    cid = widget.conversation_id
    assert (await desk.post(f"/desk/api/conversations/{cid}/messages", {"canned_id": "greeting"})).status == 403
    await desk.take(cid)
    resp = await desk.post(f"/desk/api/conversations/{cid}/messages", {"canned_id": "greeting"})
    assert resp.status == 201
    assert (await resp.json())["text"].startswith("Hello, this is Li.Na")
    await widget.wait_for(lambda e: e.get("sender") == "agent" and "Li.Na" in e.get("text", ""))
    replies = [d for _, action, _, d in audit.entries if action == "desk.reply"]
    assert replies[-1]["canned_id"] == "greeting"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"canned_id": "no_such_reply"}, 422, "invalid_request"),
        ({"canned_id": "case_reference"}, 422, "invalid_request"),  # no case number for this conversation
        ({"canned_id": 7}, 422, "invalid_request"),
        ({"canned_id": "greeting", "text": "and more"}, 422, "invalid_request"),
        ({"canned_id": "greeting", "agent_only": True}, 422, "invalid_request"),
    ],
)
async def test_a_bad_canned_send_changes_nothing(gateway_client, body, status, code):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")
    cid = widget.conversation_id
    await desk.take(cid)
    before = (await (await desk.view(cid)).json())["conversation"]["last_seq"]
    resp = await desk.post(f"/desk/api/conversations/{cid}/messages", body)
    assert resp.status == status
    problem = await resp.json()
    assert problem["code"] == code and problem["detail"]
    assert (await (await desk.view(cid)).json())["conversation"]["last_seq"] == before
