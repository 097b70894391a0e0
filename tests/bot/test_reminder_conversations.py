"""A conversation opened from a reminder's link starts from that reminder after verification,
with the ledger's figures, in the borrower's language; nothing about it before verification, and
nothing for a reference that is not one of the verified borrower's reminders (docs/outbound.md)."""

from __future__ import annotations

import pytest

from actions.account import ActionShowOverdueStatus
from actions.ledger_client import LedgerError, LedgerUnavailable
from actions.verification import ActionSubmitVerification
from harness import Conversation

D5 = ("13800000005", "1995-01-09", "7890")
D4 = ("13800000004", "1992-06-21", "3456")
D5_REMINDER = {
    "loan_number": "HX0000000005",
    "reason": "before_due",
    "channel": "sms",
    "subject": {"instalment": "3", "due_date": "2026-12-05"},
    "delivered_at": "2026-11-25T01:30:00+00:00",
    "ref": "r2k",
}
D4_REMINDER = {
    "loan_number": "HX0000000004",
    "reason": "dpd_milestone",
    "channel": "web",
    "subject": {"instalment": "6", "due_date": "2026-11-05", "days_past_due": "20"},
    "delivered_at": "2026-11-25T01:30:00+00:00",
    "ref": "r2m",
}


async def verify_from_link(
    conv: Conversation,
    borrower: tuple[str, str, str],
    ref: str | None,
    question: str = "我欠多少钱",
    channel: str | None = None,
) -> list[str]:
    """The borrower asks what they owe, then answers the identity questions, every message
    carrying the chat's reminder reference and channel as the gateway sends them; what the bot
    said at each step."""
    metadata: dict[str, str] = {"reminder_ref": ref} if ref else {}
    if channel:
        metadata["channel"] = channel
    said: list[str] = []
    conv.user(question, "ask_overdue_status", metadata=metadata)
    await conv.run(ActionShowOverdueStatus)
    said += conv.texts()
    for slot, value in zip(("identity_phone", "identity_dob", "identity_id_last4"), borrower, strict=True):
        conv.user(value, "inform", metadata=metadata)
        await conv.validate("verification_form", slot, value)
        said += conv.texts()
    conv.calls_before_verification = list(conv.ledger.calls)
    await conv.run(ActionSubmitVerification)
    return said


async def test_after_verification_the_bot_starts_from_the_reminder_with_the_ledgers_amount():
    conv = Conversation()
    conv.ledger.reminders["b-d5"] = [D5_REMINDER]
    before = await verify_from_link(conv, D5, "r2k")
    assert "get_recent_reminders" not in conv.calls_before_verification
    assert not any("提醒" in t or "1,053.15" in t for t in before)  # nothing about the debt before
    texts = conv.texts()
    opening = "您收到的提醒是关于尾号0005的借款第3期，2026年12月5日到期，应还 1,053.15 元。"
    assert opening in texts
    assert texts.index(opening) == 1  # right after "verified", before the answer to the question
    assert conv.slots["loan_number"] == "HX0000000005"


async def test_an_overdue_reminder_in_english_names_the_days_and_the_amount_to_bring_current():
    conv = Conversation()
    conv.ledger.reminders["b-d4"] = [D4_REMINDER]
    await verify_from_link(conv, D4, "r2m", question="How much do I owe?")
    assert (
        "You received a reminder about instalment 6 of your loan ending 0004, due 5 Nov 2026: it is 20 days "
        "past due, and CNY 753.55 brings the loan up to date."
    ) in conv.texts()


async def test_a_reference_that_is_not_the_borrowers_reminder_says_nothing():
    conv = Conversation()
    conv.ledger.reminders["b-d4"] = [D4_REMINDER]  # someone else's
    await verify_from_link(conv, D5, "r2m")
    assert not any("提醒" in t for t in conv.texts())
    assert "get_recent_reminders" in conv.ledger.calls  # asked, and the ledger listed none of D5's


async def test_without_a_reference_the_ledger_is_not_asked_for_reminders():
    conv = Conversation()
    conv.ledger.reminders["b-d5"] = [D5_REMINDER]
    await verify_from_link(conv, D5, None)
    assert "get_recent_reminders" not in conv.ledger.calls
    assert not any("提醒" in t for t in conv.texts())


async def test_a_web_chat_opened_without_a_link_shows_the_newest_web_notice_after_verification():
    conv = Conversation()
    older = {**D4_REMINDER, "ref": "r1", "subject": {"instalment": "5", "due_date": "2026-10-05"}}
    conv.ledger.reminders["b-d4"] = [D4_REMINDER, older]  # newest first, as the ledger lists them
    before = await verify_from_link(conv, D4, None, question="How much do I owe?", channel="web")
    assert "get_recent_reminders" not in conv.calls_before_verification
    assert not any("reminder" in t for t in before)
    texts = conv.texts()
    notice = [t for t in texts if t.startswith("You received a reminder")]
    assert len(notice) == 1 and "instalment 6" in notice[0]
    assert texts.index(notice[0]) == 1


@pytest.mark.parametrize("channel", ["web", "wechat", None])
async def test_without_a_link_a_reminder_sent_on_another_channel_is_not_shown(channel):
    conv = Conversation()
    conv.ledger.reminders["b-d5"] = [D5_REMINDER]  # delivered by SMS
    await verify_from_link(conv, D5, None, channel=channel)
    assert not any("提醒" in t for t in conv.texts())
    assert ("get_recent_reminders" in conv.ledger.calls) == (channel == "web")  # only the web chat has notices


@pytest.mark.parametrize("failure", [LedgerError(500, "internal", "boom"), LedgerUnavailable("connection refused")])
async def test_a_ledger_failure_reading_reminders_does_not_stop_the_answer(failure):
    conv = Conversation()
    conv.ledger.reminders["b-d5"] = [D5_REMINDER]

    async def refuse(auth, borrower_id):
        raise failure

    conv.ledger.get_recent_reminders = refuse
    await verify_from_link(conv, D5, "r2k")
    assert any("1,053.15" in t for t in conv.texts())  # the status question is still answered
    assert not any("您收到的提醒" in t for t in conv.texts())
