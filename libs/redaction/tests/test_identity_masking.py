"""Every format the bot's parser accepts as an identity answer is hidden; everyday figures are not."""

import pytest

from huanxin_redaction import IDENTITY_ANSWER, MASK, mask_identity_numbers, redact

SECRETS = [
    "13800000001",
    "138 0000 0001",
    "138-0000-0001",
    "+86 13800000001",
    "8613800000001",
    "１３８０００００００１",
    "110101199003154321",
    "11010119900315432X",
    "110101900315432",
    "1990-03-15",
    "1990/3/15",
    "1990.03.15",
    "1990年3月15日",
    "1990 年 3 月 15 号",
    "90年3月15号",
    "15/03/1990",
    "03/15/1990",
    "15.3.1990",
    "19900315",
    "March 15 1990",
    "Mar. 15th, 1990",
    "15 March 1990",
    "15th of March, 1990",
    "march 15, 1990",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_masks_identity_numbers_in_every_accepted_format(secret):
    masked = mask_identity_numbers(f"我的资料 {secret} 请查一下")
    assert MASK in masked
    digits = [c for c in secret if c.isdigit()]
    assert "".join(digits) not in "".join(c for c in masked if c.isdigit())


@pytest.mark.parametrize(
    "text",
    [
        "我 2026年12月1日 还 500 元",
        "I paid 1,250.00 on 2026-11-20",
        "26年12月1号前还清",
        "还款 3000 元，分 12 期",
        "my case HX0000000001",
        "call me after 18:30",
        "第2期 2026/01/15 到期",
    ],
)
def test_keeps_repayment_dates_amounts_and_case_numbers(text):
    assert mask_identity_numbers(text) == text


def test_a_bare_answer_to_an_identity_question_is_hidden_whole():
    assert redact("4321", identity_answer=True) == IDENTITY_ANSWER
    assert redact("4321") == "4321"  # without the question, four digits are just four digits


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_text_stays_empty(empty):
    assert mask_identity_numbers(empty) == empty


def test_only_the_numbers_change_full_width_punctuation_stays():
    assert (
        mask_identity_numbers("我的手机号 １３８００００００01 换了，账单发哪里？")
        == f"我的手机号 {MASK} 换了，账单发哪里？"
    )
