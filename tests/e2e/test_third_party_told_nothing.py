"""A relative asking about the debt is told nothing: no amount, no loan number, not even
whether a loan exists, also when they then offer the borrower's identity details."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, MONEY_PATTERN, ledger_rows


def assert_told_nothing(reply, who) -> None:
    text = reply.text
    assert who.loan_number not in text and who.name not in text, text
    assert not MONEY_PATTERN.search(text), text
    for word in ("逾期", "欠款金额", "天（M", "past due", "overdue"):
        assert word not in text, text


def test_a_mother_asking_about_her_daughters_debt_is_told_nothing(chat, database_url):
    who = DEMO["D1"]
    c = chat()
    first = c.say("我是王芳的妈妈，她欠了多少钱")
    assert "本人" in first, first  # told why: only the account holder
    assert_told_nothing(first, who)
    for message in ("她的手机号是13800000001", "1990-03-15", "4321", "她是不是逾期了？要还多少？"):
        assert_told_nothing(c.say(message), who)
    # and the conversation never even attempted a verification with the ledger
    rows = ledger_rows(
        database_url, "SELECT COUNT(*) AS n FROM verification_attempts WHERE conversation_id = :c", c=c.sender
    )
    assert rows[0]["n"] == 0


def test_a_relative_who_greets_first_is_told_why_and_nothing_else(chat):
    who = DEMO["D1"]
    c = chat()
    first = c.say("你好，我是王芳的妈妈，她欠你们多少钱？")
    assert "本人" in first, first  # recognised as a question about the debt, not a complaint
    assert_told_nothing(first, who)
    for message in ("13800000001", "她到底逾期了多少？"):
        assert_told_nothing(c.say(message), who)


def test_a_husband_asking_in_english_is_told_nothing(chat):
    who = DEMO["D4"]
    c = chat()
    first = c.say("Hi, I'm her husband. How much does Emily Chen owe you?")
    assert "account holder" in first.text, first
    assert_told_nothing(first, who)
    assert_told_nothing(c.say("her phone is 13800000004, birthday 1992-06-21"), who)
    assert_told_nothing(c.say("how much is overdue on her loan?"), who)


def verification_attempts(database_url, conversation_id) -> int:
    rows = ledger_rows(
        database_url, "SELECT COUNT(*) AS n FROM verification_attempts WHERE conversation_id = :c", c=conversation_id
    )
    return rows[0]["n"]


def test_a_son_calling_for_his_dad_who_gives_all_his_details_is_told_nothing(chat, database_url):
    """No kinship word the old patterns knew: "ringing for my dad"; then the borrower's phone,
    birth date and ID digits, one per message, as the verification would ask them."""
    who = DEMO["D1"]
    c = chat()
    first = c.say("hi, ringing for my dad, he can't manage his account now")
    assert "account holder" in first.text, first
    assert_told_nothing(first, who)
    for message in (
        f"his mobile is {who.phone}",
        who.dob,
        who.id_last4,
        "so how much does he owe?",
        "how much do I owe",
    ):
        assert_told_nothing(c.say(message), who)
    assert verification_attempts(database_url, c.sender) == 0


def test_a_wife_who_passed_the_verification_then_says_so_hears_nothing_more(chat, database_url):
    who = DEMO["D1"]
    c = chat()
    answer = c.verify(who, first_message="我欠多少钱")
    assert MONEY_PATTERN.search(answer.text), answer  # the account, after a real verification
    confession = c.say("其实我是他老婆，是他让我来问的")
    assert "本人" in confession, confession
    assert_told_nothing(confession, who)
    for message in ("那他还欠多少", "我欠多少钱", "能分期吗", who.phone):
        assert_told_nothing(c.say(message), who)
    assert verification_attempts(database_url, c.sender) == 1  # only the one before the confession
