"""The third-party classifier (actions/third_party.py) measured on a set it was never trained
on: per language, recall (third parties refused) and the false-refusal rate (borrowers refused).

Used by evaluate.py (printed with the NLU figures, gated) and tests/bot/test_third_party_classifier.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
HELDOUT = HERE / "third_party_heldout.yml"
FRESH = HERE / "third_party_fresh.yml"
LANGUAGES = ("zh", "en")
LABELS = ("third_party", "borrower")
MIN_RECALL = 0.99
MAX_FALSE_REFUSALS = 0.02


def load_set(path: Path = HELDOUT) -> dict[str, dict[str, list[str]]]:
    """{label: {lang: [text, ...]}} from a file of "- text" blocks."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        label: {
            lang: [line.strip()[2:].strip() for line in data[label][lang].splitlines() if line.strip()]
            for lang in LANGUAGES
        }
        for label in LABELS
    }


def score(says_third_party: Callable[[str], bool], examples: dict[str, dict[str, list[str]]]) -> dict[str, dict]:
    """Per language: recall, false-refusal rate, their counts and the examples got wrong."""
    figures = {}
    for lang in LANGUAGES:
        third_parties, borrowers = examples["third_party"][lang], examples["borrower"][lang]
        missed = [t for t in third_parties if not says_third_party(t)]
        refused = [t for t in borrowers if says_third_party(t)]
        figures[lang] = {
            "third_party": len(third_parties),
            "borrower": len(borrowers),
            "recall": 1 - len(missed) / len(third_parties),
            "false_refusals": len(refused) / len(borrowers),
            "missed": missed,
            "refused": refused,
        }
    return figures


# The examples of the NLU splits (heldout_<lang>.yml, fresh_<lang>.yml) that a third party says;
# all the others are borrower messages of every intent, a second measure of false refusals.
NLU_THIRD_PARTY = {
    "I'm her father, how much does she owe",
    "I'm his sister, stop calling me",
    "我是他姐姐，他欠你们多少钱",
    "我是他朋友，不要打给我",
    "我是他哥哥，他欠了多少",
}


def nlu_false_refusals(says_third_party: Callable[[str], bool], texts: list[str]) -> tuple[int, int]:
    """(borrower messages refused, borrower messages) among NLU examples."""
    borrowers = [t for t in texts if t not in NLU_THIRD_PARTY]
    return sum(1 for t in borrowers if says_third_party(t)), len(borrowers)


def passes(figures: dict[str, dict]) -> bool:
    return all(f["recall"] >= MIN_RECALL and f["false_refusals"] <= MAX_FALSE_REFUSALS for f in figures.values())


def summary(lang: str, f: dict) -> str:
    gate = "pass" if f["recall"] >= MIN_RECALL and f["false_refusals"] <= MAX_FALSE_REFUSALS else "FAIL"
    return (
        f"{lang}: third-party recall {f['recall']:.3f} ({f['third_party'] - len(f['missed'])}/{f['third_party']}) "
        f"false refusals {f['false_refusals']:.3f} ({len(f['refused'])}/{f['borrower']}) "
        f"[gate: recall >= {MIN_RECALL}, false refusals <= {MAX_FALSE_REFUSALS}: {gate}]"
    )


def report_lines(figures: dict[str, dict], source: str) -> list[str]:
    lines = [
        "",
        "## Third parties (actions/third_party.py)",
        "",
        f"- examples: `{source}`",
        f"- gate: recall >= {MIN_RECALL}, false refusals <= {MAX_FALSE_REFUSALS}, in each language",
        "",
        "| language | third parties | recall | borrowers | false refusals |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {lang} | {f['third_party']} | {f['recall']:.3f} | {f['borrower']} | {f['false_refusals']:.3f} |"
        for lang, f in figures.items()
    ]
    for lang, f in figures.items():
        lines += ["", f"### {lang}: missed third parties", ""] + [f"- {t}" for t in f["missed"]]
        lines += ["", f"### {lang}: borrowers refused", ""] + [f"- {t}" for t in f["refused"]]
    return lines
