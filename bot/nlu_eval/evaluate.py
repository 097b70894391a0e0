"""Held-out NLU evaluation: intent macro-F1 per language, the gate used by CI.

Loads a trained Rasa model, parses every example of heldout_zh.yml and heldout_en.yml
(never used for training; ``--split fresh`` reads the smaller fresh_<lang>.yml check set)
and writes results/report.md with, per language:
macro-F1 and accuracy of the deployed prediction (after FallbackClassifier, so an
``nlu_fallback`` counts as a miss), per-intent precision/recall/F1, the most frequent
confusion pairs, the misclassified examples, the accuracy of each robustness sub-set
(``metadata.robustness`` of an example: traditional, fullwidth_punct, misspelling,
mixed_language) and, to choose the FallbackClassifier settings, macro-F1 and fallback rate
of the classifier's own top intent at several threshold / ambiguity_threshold values.

It also measures the third-party classifier (actions/third_party.py, "the speaker is not the
borrower") on third_party_<split>.yml: recall and false-refusal rate per language, printed with
the NLU figures and appended to the report; on the held-out split they are gated too (recall
>= 0.99, false refusals <= 2% in each language, nlu_eval/third_party_eval.py).

Exit status: 0 when macro-F1 >= --min-f1 in both languages (and the third-party gate holds),
1 otherwise, 2 on a usage error (no model, unreadable file).

Run from bot/ in the bot environment, e.g.
    .venv/bin/python nlu_eval/evaluate.py [MODEL.tar.gz | --model MODEL.tar.gz] [--min-f1 0.93]
(--threshold is an alias of --min-f1.)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOT_DIR = HERE.parent
LANGUAGES = ("zh", "en")
FALLBACK_INTENT = "nlu_fallback"
SWEEP_THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
SWEEP_AMBIGUITY = (0.0, 0.05, 0.1)


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    robustness: str | None


@dataclass(frozen=True)
class Prediction:
    example: Example
    intent: str  # deployed prediction (may be nlu_fallback)
    raw_intent: str  # the classifier's best real intent
    raw_confidence: float
    runner_up_confidence: float


def load_examples(path: Path) -> list[Example]:
    """Read a held-out file in Rasa NLU YAML (list form with optional metadata)."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    examples = []
    for block in data["nlu"]:
        intent = block["intent"]
        items = block["examples"]
        if isinstance(items, str):  # block form "- text" lines
            items = [{"text": line.strip()[2:]} for line in items.splitlines() if line.strip()]
        for item in items:
            metadata = item.get("metadata") or {}
            examples.append(Example(str(item["text"]).strip(), intent, metadata.get("robustness")))
    return examples


def latest_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


async def predict(model_path: Path, examples: list[Example]) -> list[Prediction]:
    import structlog
    from rasa.core.agent import Agent

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model_path))
    predictions = []
    for example in examples:
        parsed = await agent.parse_message(example.text)
        intent = (parsed.get("intent") or {}).get("name") or FALLBACK_INTENT
        ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK_INTENT]
        raw = ranking[0] if ranking else {"name": intent, "confidence": 0.0}
        runner_up = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
        predictions.append(Prediction(example, intent, raw["name"], float(raw["confidence"]), runner_up))
    return predictions


def macro_f1(gold: list[str], predicted: list[str], labels: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0))


def evaluate_language(predictions: list[Prediction]) -> dict:
    from sklearn.metrics import precision_recall_fscore_support

    gold = [p.example.intent for p in predictions]
    predicted = [p.intent for p in predictions]
    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    confusions = collections.Counter((p.example.intent, p.intent) for p in predictions if p.intent != p.example.intent)
    robustness: dict[str, list[bool]] = collections.defaultdict(list)
    for p in predictions:
        if p.example.robustness:
            robustness[p.example.robustness].append(p.intent == p.example.intent)
    sweep = []
    for threshold in SWEEP_THRESHOLDS:
        for ambiguity in SWEEP_AMBIGUITY:
            swept = [
                p.raw_intent
                if p.raw_confidence >= threshold and p.raw_confidence - p.runner_up_confidence >= ambiguity
                else FALLBACK_INTENT
                for p in predictions
            ]
            sweep.append(
                {
                    "threshold": threshold,
                    "ambiguity": ambiguity,
                    "macro_f1": macro_f1(gold, swept, labels),
                    "fallback_rate": sum(s == FALLBACK_INTENT for s in swept) / len(swept),
                }
            )
    return {
        "n": len(predictions),
        "macro_f1": macro_f1(gold, predicted, labels),
        "accuracy": sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold),
        "fallback_rate": sum(p == FALLBACK_INTENT for p in predicted) / len(predicted),
        "per_intent": [
            {"intent": label, "precision": float(pr), "recall": float(rc), "f1": float(f), "support": int(s)}
            for label, pr, rc, f, s in zip(labels, precision, recall, f1, support, strict=True)
        ],
        "confusions": [{"gold": g, "predicted": pr, "count": c} for (g, pr), c in confusions.most_common()],
        "robustness": {
            tag: {"n": len(hits), "accuracy": sum(hits) / len(hits)} for tag, hits in sorted(robustness.items())
        },
        "errors": [
            {
                "text": p.example.text,
                "gold": p.example.intent,
                "predicted": p.intent,
                "raw": p.raw_intent,
                "confidence": round(p.raw_confidence, 3),
                "robustness": p.example.robustness,
            }
            for p in predictions
            if p.intent != p.example.intent
        ],
        "threshold_sweep": sweep,
    }


def render_report(model_path: Path, split: str, results: dict[str, dict], min_f1: float, seconds: float) -> str:
    lines = [
        "# NLU evaluation",
        "",
        f"- model: `{model_path}`",
        f"- examples: `{split}_<lang>.yml`",
        f"- gate: macro-F1 >= {min_f1:.2f} in each language",
        f"- parse time: {seconds:.1f} s",
        "",
        "| language | examples | macro-F1 | accuracy | fallback rate | gate |",
        "|---|---|---|---|---|---|",
    ]
    for lang, r in results.items():
        gate = "pass" if r["macro_f1"] >= min_f1 else "FAIL"
        lines.append(
            f"| {lang} | {r['n']} | {r['macro_f1']:.3f} | {r['accuracy']:.3f} | {r['fallback_rate']:.3f} | {gate} |"
        )
    for lang, r in results.items():
        lines += [
            "",
            f"## {lang}",
            "",
            "### Robustness sub-sets",
            "",
            "| sub-set | examples | accuracy |",
            "|---|---|---|",
        ]
        lines += [f"| {tag} | {v['n']} | {v['accuracy']:.3f} |" for tag, v in r["robustness"].items()]
        lines += [
            "",
            "### Fallback sweep (classifier's top intent; ambiguity = minimum gap to the runner-up)",
            "",
            "| threshold | ambiguity | macro-F1 | fallback rate |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {s['threshold']:.2f} | {s['ambiguity']:.2f} | {s['macro_f1']:.3f} | {s['fallback_rate']:.3f} |"
            for s in r["threshold_sweep"]
        ]
        lines += ["", "### Per intent", "", "| intent | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        lines += [
            f"| {i['intent']} | {i['precision']:.2f} | {i['recall']:.2f} | {i['f1']:.2f} | {i['support']} |"
            for i in r["per_intent"]
        ]
        lines += ["", "### Confusion pairs (gold -> predicted)", "", "| gold | predicted | count |", "|---|---|---|"]
        lines += [f"| {c['gold']} | {c['predicted']} | {c['count']} |" for c in r["confusions"]]
        lines += [
            "",
            "### Misclassified examples",
            "",
            "| text | gold | predicted | top intent (confidence) | sub-set |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {e['text']} | {e['gold']} | {e['predicted']} | {e['raw']} ({e['confidence']:.2f}) "
            f"| {e['robustness'] or ''} |"
            for e in r["errors"]
        ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", help="model .tar.gz (default: newest in bot/models)")
    parser.add_argument("--model", dest="model_option", help="same as the positional MODEL")
    parser.add_argument(
        "--min-f1",
        "--threshold",
        dest="min_f1",
        type=float,
        default=0.93,
        help="macro-F1 gate per language (default 0.93)",
    )
    parser.add_argument("--split", default="heldout", help="file prefix: <split>_<lang>.yml (heldout or fresh)")
    parser.add_argument("--data-dir", type=Path, default=HERE, help="directory of the <split>_<lang>.yml files")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="report directory")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    chosen = args.model_option or args.model
    model_path = Path(chosen) if chosen else latest_model(BOT_DIR / "models")
    if model_path is None or not model_path.is_file():
        print(f"error: no model found ({model_path or BOT_DIR / 'models'})", file=sys.stderr)
        return 2
    examples = {lang: load_examples(args.data_dir / f"{args.split}_{lang}.yml") for lang in LANGUAGES}
    started = time.monotonic()
    everything = [e for lang in LANGUAGES for e in examples[lang]]
    predictions = asyncio.run(predict(model_path, everything))
    seconds = time.monotonic() - started
    results, offset = {}, 0
    for lang in LANGUAGES:
        n = len(examples[lang])
        results[lang] = evaluate_language(predictions[offset : offset + n])
        offset += n
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.split == "heldout" else f"_{args.split}"
    report = args.out / f"report{suffix}.md"
    report.write_text(render_report(model_path, args.split, results, args.min_f1, seconds), encoding="utf-8")
    (args.out / f"results{suffix}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    if str(BOT_DIR) not in sys.path:  # run as a file: the action package and nlu_eval, as from bot/
        sys.path.insert(0, str(BOT_DIR))
    from nlu_eval import third_party_eval

    third_party = third_party_figures(args.data_dir / f"third_party_{args.split}.yml")
    third_party_nlu = {}
    if third_party is not None:
        from actions.third_party import says_third_party

        third_party_nlu = {
            lang: third_party_eval.nlu_false_refusals(says_third_party, [e.text for e in examples[lang]])
            for lang in LANGUAGES
        }
    if third_party is not None:
        with report.open("a", encoding="utf-8") as out:
            out.write("\n".join(third_party_eval.report_lines(third_party, f"third_party_{args.split}.yml")) + "\n")
    failed = False
    for lang, r in results.items():
        robust = ", ".join(f"{tag} {v['accuracy']:.3f}" for tag, v in r["robustness"].items())
        print(
            f"{lang}: macro-F1 {r['macro_f1']:.3f} accuracy {r['accuracy']:.3f} "
            f"fallback {r['fallback_rate']:.3f} | {robust}"
        )
        failed |= r["macro_f1"] < args.min_f1
    for lang, f in (third_party or {}).items():
        print(third_party_eval.summary(lang, f))
        if third_party_nlu:
            refused, borrowers = third_party_nlu[lang]
            print(f"{lang}: third-party false refusals on {args.split}_{lang}.yml (NLU): {refused}/{borrowers}")
    if third_party is not None:  # the same targets on the held-out and the fresh set
        failed |= not third_party_eval.passes(third_party)
    print(f"report: {report}")
    return 1 if failed else 0


def third_party_figures(path: Path) -> dict[str, dict] | None:
    """The third-party classifier on `path` (None when there is no such set), trained as the
    action server trains it."""
    if not path.is_file():
        return None
    from actions.third_party import says_third_party
    from nlu_eval import third_party_eval

    return third_party_eval.score(says_third_party, third_party_eval.load_set(path))


if __name__ == "__main__":
    sys.exit(main())
