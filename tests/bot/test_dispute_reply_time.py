"""The dispute reply time is the ledger's, never a constant of the bot's: before a dispute exists
the confirmation says the policy's reply days (GET /policy/terms); once it exists every text says
the dispute record's reply_due_by. The fake ledger's policy is changed from the default 15 days
so that a number written into a text would fail these tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from actions import texts
from actions.dialogue import ActionHandleAffirm
from actions.disputes import ActionOpenDispute
from actions.hardship import ActionStartHardship, ActionSubmitHardship
from fake_ledger import TODAY
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")
D4 = ("13800000004", "1992-06-21", "3456")
BORROWER = {"zh": D1, "en": D4}
FIRST = {"zh": ("我欠多少钱", "ask_overdue_status"), "en": ("how much do I owe", "ask_overdue_status")}
UNCLEAR = {"zh": "这个好像有点奇怪", "en": "hmm, that looks odd"}
REPLY_DAYS = 9  # not the default 15


async def verified(lang: str) -> Conversation:
    from actions.account import ActionShowOverdueStatus

    conv = Conversation()
    conv.ledger.dispute_reply_days = REPLY_DAYS
    conv.user(*FIRST[lang])
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*BORROWER[lang])
    return conv


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_confirmation_says_the_policys_reply_days(lang):
    conv = await verified(lang)
    conv.user(UNCLEAR[lang], "dispute_debt", confidence=0.5)
    await conv.run(ActionOpenDispute)
    said = conv.texts()[-1]
    assert str(REPLY_DAYS) in said and "15" not in said
    assert conv.ledger.disputes == []


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_without_the_policys_days_the_confirmation_names_no_number(lang):
    """An older ledger without GET /policy/terms: the confirmation says the reply date comes with
    the case number, and still no fixed number of days."""
    conv = await verified(lang)
    conv.ledger.without_policy_terms = True
    conv.user(UNCLEAR[lang], "dispute_debt", confidence=0.5)
    await conv.run(ActionOpenDispute)
    said = conv.texts()[-1]
    assert "15" not in said and str(REPLY_DAYS) not in said
    assert conv.slots["pending_act"] == "dispute" and conv.ledger.disputes == []


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_opened_dispute_says_the_records_reply_date(lang):
    conv = await verified(lang)
    conv.user(UNCLEAR[lang], "dispute_debt", confidence=0.5)
    await conv.run(ActionOpenDispute)
    conv.user("/affirm", "affirm")
    await conv.run(ActionHandleAffirm)
    due = TODAY + timedelta(days=REPLY_DAYS)
    assert conv.ledger.disputes[0]["reply_due_by"] == due.isoformat()
    assert texts.fmt_date(due.isoformat(), lang) in conv.all_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_dispute_opened_meanwhile_is_answered_with_its_reply_date(lang):
    """The ledger's 409 (a dispute opened elsewhere between the status and the request) is
    answered with the dispute's own case number and reply date, never a number of days."""
    conv = await verified(lang)
    conv.ledger.dispute_opened_elsewhere = {"case_number": "DSP-2026-0042", "reply_due_by": "2026-12-03"}
    conv.user(
        "我要对这笔账提出异议" if lang == "zh" else "I want to dispute this debt", "dispute_debt", confidence=0.95
    )
    await conv.run(ActionOpenDispute)
    said = conv.all_text()
    assert "DSP-2026-0042" in said and texts.fmt_date("2026-12-03", lang) in said
    assert "15" not in said.split("DSP-2026-0042")[-1]


async def test_a_dispute_opened_during_the_hardship_form_is_answered_with_its_reply_date():
    conv = await verified("zh")
    conv.user("我失业了还不上", "report_hardship")
    await conv.run(ActionStartHardship)
    for slot, value in (("hardship_duration", "暂时的"), ("monthly_income", "收入5000，房租2000，没有其他贷款")):
        conv.user(value, "inform")
        await conv.validate("hardship_form", slot, value)
    conv.ledger.dispute_opened_elsewhere = {"case_number": "DSP-2026-0043", "reply_due_by": "2026-12-04"}
    await conv.run(ActionSubmitHardship)
    said = conv.all_text()
    assert "DSP-2026-0043" in said and texts.fmt_date("2026-12-04", "zh") in said


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_conflict_without_details_reads_the_dispute_from_the_status(lang):
    """A 409 that carries no case number (an older ledger): the dispute is read from the loan's
    status, and its own date is said."""
    conv = await verified(lang)
    conv.ledger.dispute_opened_elsewhere = {"case_number": "DSP-2026-0044", "reply_due_by": "2026-12-02"}
    conv.ledger.conflict_without_details = True
    conv.user(
        "我要对这笔账提出异议" if lang == "zh" else "I want to dispute this debt", "dispute_debt", confidence=0.95
    )
    await conv.run(ActionOpenDispute)
    said = conv.all_text()
    assert "DSP-2026-0044" in said and texts.fmt_date("2026-12-02", lang) in said


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_dispute_text_has_a_fixed_number_of_days(lang):
    for key, text in texts.T.items():
        if "dispute" in key:
            assert "15" not in text[lang], key
