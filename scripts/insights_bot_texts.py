"""Write the bot's texts, per key and language, for the insights page's funnel.

The funnel shows what the assistant said last before borrowers stopped; the facts keep only the
text's key (`text_key`: a key of bot/actions/texts.py, or an `utter_` response of
bot/domain/responses.yml). The ledger and the gateway cannot import the bot (another Python,
another environment), and the stream's own bot text carries the borrower's figures, so the
texts come from here: the templates, figures left as `{placeholders}`, in both languages.

Run with the bot's Python from the repository root:
    bot/.venv/bin/python scripts/insights_bot_texts.py [--check]
`--check` fails when backend/src/ledger/bot_texts.json is not what it would write
(tests/bot/test_insights_bot_texts.py runs it in `make test-bot`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "backend" / "src" / "ledger" / "bot_texts.json"
LANGUAGES = ("zh", "en")


def _response_texts(variations: list[dict]) -> dict[str, str]:
    """An utter_ response's text per language: the variation conditioned on the language slot,
    else the unconditioned one (zh, the default)."""
    found: dict[str, str] = {}
    for variation in variations:
        text = variation.get("text")
        if not isinstance(text, str):
            continue
        languages = [c.get("value") for c in variation.get("condition") or [] if c.get("name") == "language"]
        for language in languages or ["zh"]:
            found.setdefault(language, text)
    return {language: found[language] for language in LANGUAGES if language in found}


def bot_texts() -> dict[str, dict[str, str]]:
    sys.path.insert(0, str(ROOT / "bot"))
    from actions.texts import T

    texts = {key: {lang: entry[lang] for lang in LANGUAGES if lang in entry} for key, entry in T.items()}
    responses = yaml.safe_load((ROOT / "bot" / "domain" / "responses.yml").read_text(encoding="utf-8"))["responses"]
    for name, variations in responses.items():
        texts[name] = _response_texts(variations)
    return dict(sorted(texts.items()))


def rendered() -> str:
    return json.dumps(bot_texts(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = rendered()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run bot/.venv/bin/python scripts/insights_bot_texts.py")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(json.loads(text))} texts to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
