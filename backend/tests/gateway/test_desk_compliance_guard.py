"""The compliance guard on the desk: a reply that breaks a rule is refused with the reason (422),
neither stored nor sent, and audited (which rules, never the text); notes for the desk are not
checked; supervisors see the counts; a rules file with an error stops the start-up naming it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.settings import GatewaySettings, SettingsError
from huanxin_testkit.gw_helpers import desk_for, escalated_conversation

THREAT = "再不还钱就让警察来抓你"


async def test_a_threat_is_refused_with_the_reason_and_goes_nowhere(gateway_client, audit):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")
    cid = widget.conversation_id
    await desk.take(cid)
    before = len(widget.messages())
    resp = await desk.reply(cid, THREAT)
    assert resp.status == 422
    body = await resp.json()
    assert body["code"] == "message_stopped"
    assert [f["category"] for f in body["findings"]] == ["threat"] and body["findings"][0]["reason_en"]
    transcript = await (await desk.view(cid)).json()
    assert THREAT not in str(transcript)  # not stored, not even as a note
    assert (await desk.reply(cid, "我们可以一起看看适合您的还款方案。")).status == 201
    await widget.wait_for(lambda e: e.get("sender") == "agent")
    assert all(THREAT not in (m.get("text") or "") for m in widget.messages()[before:])
    stops = [(actor, action, detail) for actor, action, _, detail in audit.entries if action == "desk.reply_stopped"]
    findings = [{"rule": "threat_arrest_jail", "category": "threat"}]
    assert stops == [("li.na", "desk.reply_stopped", {"findings": findings})]


async def test_a_note_for_the_desk_is_not_checked(gateway_client):
    widget = await escalated_conversation(gateway_client)
    desk = await desk_for(gateway_client, "li.na")
    await desk.take(widget.conversation_id)
    assert (await desk.reply(widget.conversation_id, "borrower said: 'you idiot'", agent_only=True)).status == 201


async def test_supervisors_see_the_counts_and_nobody_else(gateway_client):
    await desk_for(gateway_client, "li.na")
    refused = await gateway_client.get("/desk/api/compliance")
    assert refused.status == 403
    await desk_for(gateway_client, "boss", role="supervisor")
    ok = await gateway_client.get("/desk/api/compliance?days=7")
    assert ok.status == 200 and set(await ok.json()) == {"since", "stopped", "by_agent"}
    for bad in ("0", "91", "x", "-1", "1e3"):
        assert (await gateway_client.get(f"/desk/api/compliance?days={bad}")).status == 400


async def test_the_door_counts_stops_by_agent_and_category(database_url):
    from gateway.ledger_bridge import LedgerAuditLog
    from ledger.db.session import create_engine, create_session_factory
    from ledger.desk_door import DeskDoor

    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    door = DeskDoor(sessions)
    sink = LedgerAuditLog(sessions, door)
    threat = {"findings": [{"rule": "threat_arrest_jail", "category": "threat"}]}
    both = {
        "findings": [{"rule": "shaming", "category": "shaming"}, {"rule": "abusive_language", "category": "abusive"}]
    }
    await sink.record("li.na", "desk.reply_stopped", "conv-1", threat)
    await sink.record("li.na", "desk.reply_stopped", "conv-1", both)
    await sink.record("wang", "desk.reply_stopped", "conv-2", threat)
    await sink.record("wang", "desk.reply", "conv-2", {"seq": 3})
    counts = await door.compliance_stops(datetime.now(UTC) - timedelta(days=1))
    later = await door.compliance_stops(datetime.now(UTC) + timedelta(minutes=1))
    await engine.dispose()
    assert counts["stopped"] == 3
    assert counts["by_agent"] == {"li.na": {"threat": 1, "shaming": 1, "abusive": 1}, "wang": {"threat": 1}}
    assert later["stopped"] == 0


def test_a_rules_file_with_an_error_stops_the_start_up_naming_the_key(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - id: a\n    category: threat\n    patterns: ['(']\n    reason: {zh: z, en: e}\n")
    with pytest.raises(SettingsError) as exc:
        GatewaySettings.from_env({"GATEWAY_COMPLIANCE_RULES": str(bad)})
    assert "rules[0].patterns[0]" in str(exc.value) and str(bad) in str(exc.value)
    with pytest.raises(SettingsError, match="cannot read"):
        GatewaySettings.from_env({"GATEWAY_COMPLIANCE_RULES": str(tmp_path / "missing.yaml")})
