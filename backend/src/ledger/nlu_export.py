"""`ledger export-annotations`: the analysts' intent corrections written where the next training
reads them, bot/data/nlu/<language>/reviewed.yml, in the bot's NLU layout (docs/insights.md).

Left out, besides what the page's export leaves out (identity data, payloads, unknown intents,
copies within the export, texts given two intents): every text already in the training data
(any file but reviewed.yml) or in the held-out and fresh evaluation sets, compared as the bot's
NLU data checks compare texts (review.normalised). The NLU data checks of `make test-rasa`
(bot/nlu_eval/tests/test_nlu_data.py) read the file with the rest of the training data.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .desk_door import DeskDoor
from .domain.review import normalised

REVIEWED_FILE = "reviewed.yml"
LANGUAGES = ("zh", "en")


def _texts(path: Path) -> Iterable[str]:
    """The example texts of one Rasa NLU file: `examples: |` blocks or lists of `text:`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for block in data.get("nlu") or []:
        examples = block.get("examples") if isinstance(block, dict) else None
        if isinstance(examples, str):
            for line in examples.splitlines():
                line = line.strip()
                if line.startswith("- "):
                    yield line[2:]
        elif isinstance(examples, list):
            for item in examples:
                if isinstance(item, dict) and isinstance(item.get("text"), str):
                    yield item["text"]


def known_texts(bot_dir: Path) -> frozenset[str]:
    """The normalised texts of the training data (both languages, reviewed.yml aside) and of
    the evaluation sets (bot/nlu_eval/{heldout,fresh}_<language>.yml)."""
    files = [p for lang in LANGUAGES for p in sorted((bot_dir / "data" / "nlu" / lang).glob("*.yml"))]
    files = [p for p in files if p.name != REVIEWED_FILE]
    files += [bot_dir / "nlu_eval" / f"{split}_{lang}.yml" for split in ("heldout", "fresh") for lang in LANGUAGES]
    return frozenset(normalised(text) for path in files if path.exists() for text in _texts(path))


async def export_annotations(door: DeskDoor, bot_dir: Path, languages: Iterable[str] = LANGUAGES) -> dict[str, Any]:
    """Write each language's reviewed.yml (or remove a stale one when no correction is left);
    per language: the file, how many examples, what was left out and why."""
    known = known_texts(bot_dir)
    report: dict[str, Any] = {}
    for language in languages:
        export = await door.insights_annotations_export(language, known)
        path = bot_dir / "data" / "nlu" / language / REVIEWED_FILE
        if export["examples"]:
            path.write_text(export["yaml"], encoding="utf-8")
        elif path.exists():
            path.unlink()
        report[language] = {
            "file": str(path) if export["examples"] else None,
            "examples": export["examples"],
            "left_out": export["left_out"],
        }
    return report
