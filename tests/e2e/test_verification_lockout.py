"""Three wrong verifications lock the borrower: the attempts left are told, then the lockout is
explained and the conversation handed to a person at once (reason verification_locked), and the
ledger refuses even the right answers meanwhile."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, MONEY_PATTERN


def test_three_wrong_verifications_lock_verification_and_say_so(chat, ledger):
    who = DEMO["D3"]  # no other test uses D3: the lock lasts 30 minutes
    c = chat()
    c.say("我欠了多少")
    replies = []
    for _attempt in range(3):
        c.say(who.phone)
        c.say(who.dob)
        replies.append(c.say("0000"))

    assert "2" in replies[0] and "不一致" in replies[0], replies[0]
    assert "1" in replies[1] and "不一致" in replies[1], replies[1]
    locked = replies[2]
    assert "锁定" in locked, locked
    assert {"reason": "verification_locked"}.items() <= next(
        m["custom"]["handoff"] for m in locked.messages if "handoff" in (m.get("custom") or {})
    ).items()
    for reply in replies:
        assert who.name not in reply and who.loan_number not in reply and not MONEY_PATTERN.search(reply.text)

    status, body = ledger.try_verify(who)  # right answers, through the API: still locked
    assert status == 423 and body["code"] == "verification_locked", body

    after = c.say("我欠了多少")  # the bot does not answer the debt question either
    assert who.name not in after and not MONEY_PATTERN.search(after.text), after


def test_three_wrong_verifications_in_english_lock_even_an_unknown_phone(chat, ledger):
    # an unknown phone gets the same answers as a known one (nothing is revealed), lock included
    c = chat()
    c.say("what is my balance?")
    replies = []
    for _attempt in range(3):
        c.say("13912345678")
        c.say("1991-01-01")
        replies.append(c.say("1234"))
    assert "2 more attempt" in replies[0].text, replies[0]
    assert "1 more attempt" in replies[1].text, replies[1]
    assert "locked" in replies[2].text.lower() and "try again after" in replies[2].text.lower(), replies[2]
    assert not any(MONEY_PATTERN.search(r.text) for r in replies)
