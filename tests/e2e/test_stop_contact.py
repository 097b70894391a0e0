"""stop_contact: the preference is recorded in the ledger (channel or all) and confirmed."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO


def reset_preferences(api) -> None:
    status, body = api.ledger.call(
        "PUT",
        f"/borrowers/{api.borrower_id}/contact-preferences",
        {"stop_all": False, "opted_out_channels": []},
        headers={"X-Verification-Token": api.token, "X-Conversation-Id": api.conversation_id},
    )
    assert status == 200, body


def test_d2_stops_sms_in_chinese_and_the_ledger_records_it(chat, ledger):
    who = DEMO["D2"]
    api = ledger.verify(who)
    reset_preferences(api)
    before = api.get(f"/borrowers/{api.borrower_id}")["contact_preferences"]
    assert "sms" not in before["opted_out_channels"]

    c = chat()
    answer = c.verify(who, "以后别再给我发短信了")
    assert "短信" in answer and "不会再" in answer, answer
    after = api.get(f"/borrowers/{api.borrower_id}")["contact_preferences"]
    assert "sms" in after["opted_out_channels"] and after["stop_all"] is False, after


def test_d4_stops_all_contact_in_english_after_choosing_from_buttons(chat, ledger):
    who = DEMO["D4"]
    api = ledger.verify(who)
    reset_preferences(api)
    c = chat()
    asked = c.verify(who, "please stop bothering me")
    # no channel named: the bot asks which one, with buttons, and records nothing yet
    assert "Which kind of contact" in asked.text, asked
    assert api.get(f"/borrowers/{api.borrower_id}")["contact_preferences"]["stop_all"] is False
    answer = c.say(asked.button("Stop all")["payload"])
    assert "won't contact you again" in answer.text, answer
    assert api.get(f"/borrowers/{api.borrower_id}")["contact_preferences"]["stop_all"] is True
