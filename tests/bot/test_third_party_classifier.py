"""The third-party classifier on its held-out set (bot/nlu_eval/third_party_heldout.yml, never
trained on): recall >= 0.99 and false refusals <= 2% in each language, so that `make test-bot`
fails when a change to the classifier or its training data makes it worse. The same figures are
printed by bot/nlu_eval/evaluate.py (`make test-rasa`)."""

from __future__ import annotations

import pytest

from actions import third_party
from nlu_eval import third_party_eval


@pytest.fixture(scope="module")
def figures() -> dict[str, dict]:
    return third_party_eval.score(third_party.says_third_party, third_party_eval.load_set())


@pytest.fixture(scope="module")
def fresh_figures() -> dict[str, dict]:
    return third_party_eval.score(third_party.says_third_party, third_party_eval.load_set(third_party_eval.FRESH))


@pytest.mark.parametrize("lang", third_party_eval.LANGUAGES)
def test_held_out_set_has_at_least_150_messages_of_each_kind(lang):
    examples = third_party_eval.load_set()
    assert len(examples["third_party"][lang]) >= 150
    assert len(examples["borrower"][lang]) >= 150


@pytest.mark.parametrize("lang", third_party_eval.LANGUAGES)
def test_third_parties_are_recognised(figures, lang):
    assert figures[lang]["recall"] >= third_party_eval.MIN_RECALL, figures[lang]["missed"]


@pytest.mark.parametrize("lang", third_party_eval.LANGUAGES)
def test_borrowers_are_rarely_refused(figures, lang):
    assert figures[lang]["false_refusals"] <= third_party_eval.MAX_FALSE_REFUSALS, figures[lang]["refused"]


@pytest.mark.parametrize("lang", third_party_eval.LANGUAGES)
def test_the_fresh_set_meets_the_same_gate(fresh_figures, lang):
    """The fresh set (written apart from the held-out set, with bereavement, "on behalf of",
    code-mixed requests and borrowers hiding a loan from their family) holds the same targets."""
    f = fresh_figures[lang]
    assert f["recall"] >= third_party_eval.MIN_RECALL, f["missed"]
    assert f["false_refusals"] <= third_party_eval.MAX_FALSE_REFUSALS, f["refused"]


@pytest.mark.parametrize(
    "text",
    [
        "ringing for my dad, he can't manage his account now",
        "我是她老公，帮她问问",
        "我是她老公，幫她問問",
        "Hi, I\u2019m her husband. How much does Emily Chen owe you?",
        "我是王芳的妈妈，她欠了多少钱",
        "my mum asked me to sort out her loan",
        "我是他 wife，他欠多少",
    ],
)
def test_the_issues_examples_are_third_parties(text):
    assert third_party.says_third_party(text)


@pytest.mark.parametrize(
    "text",
    [
        "my wife lost her job so I can't pay",
        "我老婆生病了所以还不上",
        "my dad lent me money",
        "I'm a mother of two",
        "我爸住院了",
        "can my husband pay for me?",  # the borrower asking: the borrower speaking
        "我是王芳，我欠了多少钱",
        "I'm worried about my loan",
        "13800000001",
        "1990-03-15",
        '/inform{"choice":"sms"}',
        "",
    ],
)
def test_borrowers_who_mention_relatives_are_not(text):
    assert not third_party.says_third_party(text)


def test_answers_are_kept_by_digest_and_equal_the_classifiers(monkeypatch):
    """The action server asks about the same message 2-4 times a turn: the classifier runs once
    a message, answers the same, and the kept answers hold no text (issue 11)."""
    monkeypatch.setattr(third_party, "_answers", type(third_party._answers)())
    monkeypatch.setattr(third_party, "KEPT_ANSWERS", 40)
    model = third_party.classifier()
    runs = []
    original = type(model).says_third_party
    monkeypatch.setattr(type(model), "says_third_party", lambda self, text: runs.append(text) or original(self, text))
    examples = third_party_eval.load_set()
    texts = [t for group in examples.values() for lang in third_party_eval.LANGUAGES for t in group[lang][:15]]
    expected = [original(model, t) for t in texts]
    assert any(expected) and not all(expected)
    assert [third_party.says_third_party(t) for t in texts] == expected
    assert [third_party.says_third_party(t) for t in texts[-40:]] == expected[-40:]
    assert runs == texts  # the second round came from the kept answers
    assert len(third_party._answers) == 40
    kept = b"".join(third_party._answers)
    assert all(t.encode() not in kept for t in texts)
    assert third_party.says_third_party(texts[0]) == expected[0] and runs[-1] == texts[0]  # forgotten, asked again
