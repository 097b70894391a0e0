"""The compliance guard on agent replies (gateway/compliance.py, compliance_rules.yaml): the
messages it must stop, each naming the rule's category, and the messages it must let through,
in both languages (compliance_corpus.yml, >= 100 of each); the rules file is validated like a
policy file, an error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.compliance import CATEGORIES, Rules, RulesError, parse_rules

CORPUS = yaml.safe_load((Path(__file__).parent / "compliance_corpus.yml").read_text(encoding="utf-8"))
RULES_FILE = Path(__file__).parents[2] / "src" / "gateway" / "compliance_rules.yaml"


@pytest.fixture(scope="module")
def rules() -> Rules:
    return parse_rules(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")))


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_corpus_has_at_least_100_of_each_in_both_languages_and_every_category():
    stop, allow = CORPUS["stop"], CORPUS["pass"]
    assert len(stop) >= 100 and len(allow) >= 100
    for group in ([text for _, text in stop], allow):
        assert sum(map(_has_cjk, group)) >= 40 and sum(not _has_cjk(t) for t in group) >= 40
    assert {category for category, _ in stop} == set(CATEGORIES)


def test_the_share_stopped_and_passed_wrongly(rules, capsys):
    """Prints the guard's figures on the corpus; the gate is none wrong."""
    passed_wrongly = [text for category, text in CORPUS["stop"] if category not in _categories(rules, text)]
    stopped_wrongly = [text for text in CORPUS["pass"] if not rules.check(text).allowed]
    with capsys.disabled():
        print(
            f"\ncompliance guard: {len(CORPUS['stop'])} to stop, passed wrongly {len(passed_wrongly)} "
            f"({len(passed_wrongly) / len(CORPUS['stop']):.1%}); {len(CORPUS['pass'])} to pass, stopped wrongly "
            f"{len(stopped_wrongly)} ({len(stopped_wrongly) / len(CORPUS['pass']):.1%})"
        )
    assert not passed_wrongly, passed_wrongly
    assert not stopped_wrongly, [(t, [f.rule for f in rules.check(t).findings]) for t in stopped_wrongly]


def _categories(rules: Rules, text: str) -> set[str]:
    return {finding.category for finding in rules.check(text).findings}


@pytest.mark.parametrize("text", ["我们不会联系您的家人", "no one will arrest you", "我们不会冻结您的银行卡"])
def test_a_negation_just_before_excuses_the_match(rules, text):
    assert rules.check(text).allowed


def test_a_negation_in_another_clause_does_not(rules):
    assert not rules.check("we won't wait any longer, you will be arrested").allowed
    assert not rules.check("我们不会再等了，明天就告诉你家人").allowed


def test_full_width_and_traditional_forms_are_caught(rules):
    assert "abusive" in _categories(rules, "ＳＨＵＴ ＵＰ")
    assert "threat" in _categories(rules, "警察會來抓你")


def test_a_finding_gives_the_reason_in_both_languages(rules):
    (finding,) = rules.check("We will call your employer tomorrow.").findings
    assert finding.category == "third_party" and finding.reason_zh and finding.reason_en


@pytest.mark.parametrize(
    "data, key",
    [
        ({}, "rules"),
        ({"rules": []}, "rules"),
        ({"rules": ["x"]}, "rules[0]"),
        (
            {"rules": [{"id": "Bad Id", "category": "threat", "patterns": ["a"], "reason": {"zh": "z", "en": "e"}}]},
            "rules[0].id",
        ),
        (
            {"rules": [{"id": "a", "category": "rude", "patterns": ["a"], "reason": {"zh": "z", "en": "e"}}]},
            "rules[0].category",
        ),
        (
            {"rules": [{"id": "a", "category": "threat", "patterns": [], "reason": {"zh": "z", "en": "e"}}]},
            "rules[0].patterns",
        ),
        (
            {"rules": [{"id": "a", "category": "threat", "patterns": ["("], "reason": {"zh": "z", "en": "e"}}]},
            "rules[0].patterns[0]",
        ),
        (
            {"rules": [{"id": "a", "category": "threat", "patterns": ["x?"], "reason": {"zh": "z", "en": "e"}}]},
            "rules[0].patterns[0]",
        ),
        ({"rules": [{"id": "a", "category": "threat", "patterns": ["a"], "reason": {"zh": "z"}}]}, "rules[0].reason"),
        (
            {
                "rules": [
                    {"id": "a", "category": "threat", "patterns": ["a"], "reason": {"zh": "z", "en": "e"}, "typo": 1}
                ]
            },
            "rules[0].typo",
        ),
        (
            {
                "rules": [
                    {"id": "a", "category": "threat", "patterns": ["a"], "reason": {"zh": "z", "en": "e"}},
                    {"id": "a", "category": "abusive", "patterns": ["b"], "reason": {"zh": "z", "en": "e"}},
                ]
            },
            "rules[1].id",
        ),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_key(data, key):
    with pytest.raises(RulesError) as exc:
        parse_rules(data)
    assert exc.value.key == key
