"""Checks of the NLU training data, the held-out split and the evaluation arithmetic.

Run in the bot environment: cd bot && .venv/bin/python -m pytest nlu_eval/tests -q
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
import yaml

from nlu_eval.evaluate import FALLBACK_INTENT, Example, Prediction, evaluate_language, load_examples

NLU_EVAL = Path(__file__).resolve().parents[1]
BOT = NLU_EVAL.parent

LANGUAGES = ("zh", "en")
REVIEWED = "reviewed.yml"  # the analysts' corrections, written by `ledger export-annotations`


def contract_intents() -> set[str]:
    return set(yaml.safe_load((BOT / "domain" / "intents.yml").read_text(encoding="utf-8"))["intents"])


def training_examples(lang: str) -> list[tuple[str, str]]:
    examples = []
    for path in sorted((BOT / "data" / "nlu" / lang).glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in block["examples"].splitlines():
                if line.strip():
                    examples.append((line.strip()[2:], block["intent"]))
    return examples


def normalise(text: str) -> str:
    return re.sub(r"[\s，。？！,.?!~～]+", "", text.lower())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_training_data_has_at_least_40_examples_for_every_contract_intent(lang):
    counts = collections.Counter(intent for _, intent in training_examples(lang))
    assert set(counts) == contract_intents()
    assert min(counts.values()) >= 40


@pytest.mark.parametrize("lang", LANGUAGES)
def test_training_data_is_split_by_topic_with_each_intent_in_one_file(lang):
    """One file per topic (smalltalk.yml, hardship.yml...), each intent in one of them; only
    zh/traditional.yml, the Traditional-character examples, and reviewed.yml, the analysts'
    corrections (`ledger export-annotations`), hold any intent."""
    files: dict[str, set[str]] = collections.defaultdict(set)
    for path in sorted((BOT / "data" / "nlu" / lang).glob("*.yml")):
        if path.name not in ("traditional.yml", REVIEWED):
            for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
                files[block["intent"]].add(path.name)
    assert {intent: names for intent, names in files.items() if len(names) != 1} == {}
    assert set(files) == contract_intents()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_training_data_never_gives_one_text_two_intents(lang):
    seen: dict[str, str] = {}
    for text, intent in training_examples(lang):
        assert seen.setdefault(normalise(text), intent) == intent, text


@pytest.mark.parametrize("split,minimum", [("heldout", 10), ("fresh", 5)])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_evaluation_splits_cover_every_intent_and_share_no_text_with_training(lang, split, minimum):
    examples = load_examples(NLU_EVAL / f"{split}_{lang}.yml")
    counts = collections.Counter(e.intent for e in examples)
    assert set(counts) == contract_intents()
    assert min(counts.values()) >= minimum
    trained = {normalise(text) for other in LANGUAGES for text, _ in training_examples(other)}
    assert [e.text for e in examples if normalise(e.text) in trained] == []


def test_heldout_tags_only_known_robustness_subsets():
    tags = {e.robustness for lang in LANGUAGES for e in load_examples(NLU_EVAL / f"heldout_{lang}.yml")}
    assert tags <= {None, "traditional", "fullwidth_punct", "misspelling", "mixed_language"}
    assert {"traditional", "fullwidth_punct", "misspelling", "mixed_language"} <= tags


def prediction(text, gold, predicted, confidence=0.9, runner_up=0.05, robustness=None):
    raw = gold if predicted == FALLBACK_INTENT else predicted
    return Prediction(Example(text, gold, robustness), predicted, raw, confidence, runner_up)


def test_fallback_counts_as_a_miss_and_robustness_is_scored_per_subset():
    predictions = [
        prediction("a", "greet", "greet"),
        prediction("b", "greet", FALLBACK_INTENT, confidence=0.2, robustness="misspelling"),
        prediction("c", "deny", "deny", robustness="misspelling"),
        prediction("d", "deny", "greet", robustness="traditional"),
    ]
    result = evaluate_language(predictions)
    assert result["accuracy"] == 0.5
    assert result["fallback_rate"] == 0.25
    assert result["robustness"] == {
        "misspelling": {"n": 2, "accuracy": 0.5},
        "traditional": {"n": 1, "accuracy": 0.0},
    }
    assert result["confusions"][0]["count"] == 1
    # greet: P 1/2, R 1/2; deny: P 1/1, R 1/2 -> F1 0.5 and 2/3
    assert result["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2)


def test_sweep_applies_threshold_and_ambiguity_like_the_fallback_classifier():
    predictions = [
        prediction("a", "greet", "greet", confidence=0.35, runner_up=0.33),
        prediction("b", "deny", "deny", confidence=0.9, runner_up=0.05),
    ]
    rows = evaluate_language(predictions)["threshold_sweep"]
    sweep = {(s["threshold"], s["ambiguity"]): s["fallback_rate"] for s in rows}
    assert sweep[(0.3, 0.0)] == 0.0
    assert sweep[(0.3, 0.05)] == 0.5  # gap 0.02 < 0.05
    assert sweep[(0.4, 0.0)] == 0.5  # 0.35 < 0.4


def file_examples(path: Path) -> list[tuple[str, str]]:
    examples = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"] or []:
        for line in block["examples"].splitlines():
            if line.strip():
                examples.append((line.strip()[2:], block["intent"]))
    return examples


def reviewed_problems(path: Path, others: list[Path]) -> list[str]:
    """What is wrong with a reviewed-data file: an intent outside the contract, a text twice
    (in the file, or already in another training file), an identity number left in a text."""
    from huanxin_redaction import mask_identity_numbers

    trained = {normalise(text) for other in others for text, _ in file_examples(other)}
    seen: set[str] = set()
    problems = []
    for text, intent in file_examples(path):
        if intent not in contract_intents():
            problems.append(f"unknown intent {intent}")
        if normalise(text) in trained or normalise(text) in seen:
            problems.append(f"duplicate: {text}")
        if mask_identity_numbers(text) != text:
            problems.append(f"identity data: {text}")
        seen.add(normalise(text))
    return problems


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_reviewed_data_adds_only_new_texts_of_contract_intents_and_no_identity_data(lang):
    folder = BOT / "data" / "nlu" / lang
    reviewed = folder / REVIEWED
    if not reviewed.exists():
        pytest.skip(f"no {lang}/{REVIEWED} (written by `ledger export-annotations`)")
    others = [p for p in sorted(folder.glob("*.yml")) if p.name != REVIEWED]
    assert reviewed_problems(reviewed, others) == []


def test_the_reviewed_data_check_finds_each_problem(tmp_path):
    topic = tmp_path / "topic.yml"
    topic.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n', encoding="utf-8")
    reviewed = tmp_path / REVIEWED
    reviewed.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好！\n    - 早安\n    - 早安。\n'
        "- intent: no_such_intent\n  examples: |\n    - 嗯\n"
        "- intent: inform\n  examples: |\n    - 手机号 13800000001\n",
        encoding="utf-8",
    )
    assert reviewed_problems(reviewed, [topic]) == [
        "duplicate: 你好！",
        "duplicate: 早安。",
        "unknown intent no_such_intent",
        "identity data: 手机号 13800000001",
    ]
