"""The language rule: replies follow the language the borrower writes, before and after
verification (the profile's language only when the borrower has written no words yet); an
explicit request ("说中文", "English please", change_language) wins and is pinned."""

from __future__ import annotations

import pytest

from actions.account import ActionShowOverdueStatus
from actions.language import ActionChangeLanguage
from actions.message_slots import language_after_verification
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")  # profile language zh
D4 = ("13800000004", "1992-06-21", "3456")  # profile language en


async def verified_after(first: tuple[str, str], borrower: tuple[str, str, str]) -> Conversation:
    conv = Conversation()
    conv.user(*first)
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*borrower)
    assert conv.slots["verified"] is True
    return conv


async def test_a_chinese_writer_with_an_english_profile_is_answered_in_chinese():
    conv = await verified_after(("我欠多少钱", "ask_overdue_status"), D4)
    assert conv.slots["language"] == "zh"
    assert "元" in conv.all_text() and "CNY" not in conv.all_text()
    conv.user("那我什么时候要还下一期", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["language"] == "zh" and "CNY" not in conv.all_text()


async def test_an_english_writer_with_a_chinese_profile_is_answered_in_english():
    conv = await verified_after(("how much do I owe", "ask_overdue_status"), D1)
    assert conv.slots["language"] == "en"
    assert "CNY 1,161.87" in conv.all_text() and "元" not in conv.all_text()


@pytest.mark.parametrize(
    "first, then, expected",
    [
        (("我欠多少钱", "ask_overdue_status"), "how much is overdue now?", "en"),
        (("how much do I owe", "ask_overdue_status"), "我现在欠多少", "zh"),
        (("how much do I owe", "ask_overdue_status"), "好", "en"),  # one word does not switch
    ],
)
async def test_after_verification_the_reply_follows_the_message(first, then, expected):
    conv = await verified_after(first, D1)
    conv.user(then, "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["language"] == expected
    assert ("CNY" in conv.all_text()) is (expected == "en")


async def test_an_explicit_request_is_pinned_against_later_messages():
    conv = await verified_after(("我欠多少钱", "ask_overdue_status"), D1)
    conv.user("English please", "change_language")
    await conv.run(ActionChangeLanguage)
    assert conv.slots["language"] == "en" and conv.slots["language_chosen"] is True
    conv.user("我现在欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["language"] == "en" and "CNY" in conv.all_text()
    conv.user("说中文吧", "change_language")
    await conv.run(ActionChangeLanguage)
    conv.user("how much do I owe now", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["language"] == "zh" and "CNY" not in conv.all_text()


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("English please, how much do I owe", "ask_overdue_status", "en"),
        ("能用中文说吗 how much do I owe", "ask_overdue_status", "zh"),
        ("我看不懂英文，我欠多少", "ask_overdue_status", "zh"),
    ],
)
async def test_an_explicit_request_wins_whatever_the_intent(text, intent, expected):
    conv = await verified_after(("hi, how much do I owe" if expected == "zh" else "我欠多少钱", intent), D1)
    conv.user(text, intent)
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["language"] == expected and conv.slots["language_chosen"] is True


async def test_the_profile_language_is_used_when_the_borrower_wrote_no_words():
    conv = Conversation()
    conv.user("/ask_overdue_status", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots.get("language") is None
    await conv.verify(*D4)
    assert conv.slots["language"] == "en"


@pytest.mark.parametrize(
    "current, chosen, profile, expected",
    [
        (None, False, "en", "en"),
        (None, False, "zh", "zh"),
        ("zh", False, "en", "zh"),
        ("en", False, "zh", "en"),
        ("en", True, "zh", "en"),
        (None, False, "fr", None),
    ],
)
def test_language_after_verification(current, chosen, profile, expected):
    assert language_after_verification(current, chosen, profile) == expected


async def test_the_widget_toggle_changes_the_bots_language_and_is_pinned():
    """The web widget's language toggle reaches the bot as ``language_choice`` in the next
    message's metadata: it wins over the language the message is written in, and later
    messages in the other language do not switch back."""
    conv = await verified_after(("我欠多少钱", "ask_overdue_status"), D1)
    assert conv.slots["language"] == "zh"
    conv.user("我现在欠多少钱", "ask_overdue_status", metadata={"channel": "web", "language_choice": "en"})
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["language"] == "en" and conv.slots["language_chosen"] is True
    assert "CNY" in conv.texts()[-1]
    conv.user("那下一期呢", "ask_overdue_status", metadata={"channel": "web"})
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["language"] == "en" and "CNY" in conv.texts()[-1]
    conv.user("how much now", "ask_overdue_status", metadata={"channel": "web", "language_choice": "zh"})
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["language"] == "zh" and "CNY" not in conv.texts()[-1]


@pytest.mark.parametrize("choice", ["fr", "", 1, None, ["en"]])
async def test_a_language_choice_that_is_not_zh_or_en_is_ignored(choice):
    conv = await verified_after(("我欠多少钱", "ask_overdue_status"), D1)
    conv.user("我现在欠多少钱", "ask_overdue_status", metadata={"language_choice": choice})
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["language"] == "zh" and not conv.slots.get("language_chosen")
