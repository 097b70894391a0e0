"""The third-party classifier's held-out and fresh sets are never trained on: no text of theirs
is (after normalisation) a training example or close to one."""

from __future__ import annotations

import pytest

from actions.third_party import Lexicon, load_training_data
from nlu_eval.third_party_eval import HERE, LABELS, LANGUAGES, load_set

SETS = ("third_party_heldout.yml", "third_party_fresh.yml")
NEAR = 0.8  # Jaccard similarity of character trigrams from which two texts count as the same


def trigrams(text: str) -> set[str]:
    text = text.replace(" ", "")
    return {text[i : i + 3] for i in range(max(1, len(text) - 2))}


@pytest.fixture(scope="module")
def training() -> tuple[Lexicon, list[tuple[str, set[str]]]]:
    data = load_training_data()
    lexicon = Lexicon(data.relations)
    texts = {lexicon.features_text(t) for t in data.third_party + data.borrower}
    return lexicon, [(t, trigrams(t)) for t in texts]


@pytest.mark.parametrize("name", SETS)
def test_evaluation_sets_are_not_in_the_training_data(name, training):
    lexicon, texts = training
    examples = load_set(HERE / name)
    close = []
    for label in LABELS:
        for lang in LANGUAGES:
            for text in examples[label][lang]:
                features = lexicon.features_text(text)
                grams = trigrams(features)
                for other, other_grams in texts:
                    if other == features or len(grams & other_grams) / len(grams | other_grams) >= NEAR:
                        close.append((text, other))
    assert close == []


@pytest.mark.parametrize("name", SETS)
def test_evaluation_sets_have_no_duplicates_or_overlap(name):
    examples = load_set(HERE / name)
    texts = [t for label in LABELS for lang in LANGUAGES for t in examples[label][lang]]
    assert len(texts) == len(set(texts))
