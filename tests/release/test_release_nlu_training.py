"""The release check trains and evaluates the base's NLU itself (ledger/release_nlu.py), with
real training: a commit that deletes the training examples of one intent fails on that intent.

Slow (two `rasa train nlu` runs and two held-out evaluations in the bot environment, a few
minutes on the 2-core machine): run by `make test-rasa` (scripts/rasa_tests.sh), not by
`make test-backend`. It builds its own git repository from the tracked files of bot/."""

from __future__ import annotations

import re
import subprocess
import time
from datetime import date
from pathlib import Path

import ledger
from ledger.policy_file import DEFAULT_POLICY_FILE
from ledger.release_check import run_release_check
from ledger.release_nlu import NluEvaluator
from ledger.settings import REPO_ROOT

POLICY_PATH = "backend/src/ledger/default_policy.yaml"
INTENT = "ask_fees"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def _commit(root: Path, message: str) -> str:
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", message)
    return _git(root, "rev-parse", "HEAD").strip()


def _without_intent(text: str, intent: str) -> str:
    """The NLU file without the block of ``intent`` (from its ``- intent:`` line to the next)."""
    return re.sub(rf"^- intent: {intent}\n(?:(?!- intent:|- synonym:|- regex:|- lookup:).*\n)*", "", text, flags=re.M)


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for rel in _git(REPO_ROOT, "ls-files", "bot").splitlines():
        src = REPO_ROOT / rel
        if src.is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(src.read_bytes())
    policy = (Path(ledger.__file__).parent / DEFAULT_POLICY_FILE).read_bytes()
    (root / POLICY_PATH).parent.mkdir(parents=True, exist_ok=True)
    (root / POLICY_PATH).write_bytes(policy)
    _git(root, "init", "-q")
    _commit(root, "base")
    return root


def _check(root: Path, tmp_path: Path, base: str, cache: Path) -> dict:
    return run_release_check(
        root=root,
        base=base,
        thresholds_file=REPO_ROOT / "release-thresholds.yaml",
        out=tmp_path / "out",
        policy_path=POLICY_PATH,
        candidate_policy=root / POLICY_PATH,
        database_url=None,
        nlu_results=root / "bot/nlu_eval/results/results.json",
        nlu_base=None,
        story_results=root / "bot/results/core",
        as_of=date(2026, 11, 25),
        nlu_evaluator=NluEvaluator(root, cache, bot_venv=REPO_ROOT / "bot" / ".venv", log=print),
    )


def test_a_commit_deleting_an_intents_examples_fails_on_that_intent(tmp_path):
    root = _repo(tmp_path)
    base = _git(root, "rev-parse", "HEAD").strip()
    removed = 0
    for f in sorted((root / "bot/data/nlu").rglob("*.yml")):
        text = f.read_text(encoding="utf-8")
        new = _without_intent(text, INTENT)
        if new != text:
            f.write_text(new, encoding="utf-8")
            removed += 1
    assert removed >= 2  # both languages
    assert not any(f"intent: {INTENT}\n" in f.read_text("utf-8") for f in (root / "bot/data/nlu").rglob("*.yml"))
    _commit(root, f"drop the training examples of {INTENT}")
    cache = tmp_path / "cache"

    started = time.monotonic()
    summary = _check(root, tmp_path, base, cache)
    first = time.monotonic() - started
    nlu = next(s for s in summary["sections"] if s["name"] == "nlu")
    print(f"first run (two trainings, two evaluations): {first:.1f} s; runs: {nlu['data']['runs']}")
    assert summary["passed"] is False
    assert nlu["status"] == "fail"
    assert nlu["data"]["runs"]["base"]["how"] == "trained"
    assert nlu["data"]["runs"]["base"]["commit"] == base
    assert nlu["data"]["runs"]["candidate"]["how"] == "trained"
    failed = [g for g in nlu["gates"] if not g["passed"]]
    intent_drops = [g["detail"] for g in failed if g["gate"].startswith("intent F1 drop")]
    for lang in ("zh", "en"):
        assert any(d.startswith(f"{lang} {INTENT}: ") for d in intent_drops), intent_drops
        row = next(r for r in nlu["data"]["languages"] if r["language"] == lang)
        fees = next(i for i in row["per_intent"] if i["intent"] == INTENT)
        assert float(fees["base"]) >= 0.8 and float(fees["candidate"]) == 0.0, fees
        assert any(c["gold"] == INTENT for c in row["new_confusions"])
        assert any(p["base"] == "(right)" and p["candidate"] != "(right)" for p in row["prediction_changed"])
        # its messages now go to other intents (their precision drops too), but the deleted
        # intent drops the most
        drops = {i["intent"]: float(i["base"]) - float(i["candidate"]) for i in row["per_intent"] if i["base"]}
        assert max(drops, key=lambda k: drops[k]) == INTENT, drops

    started = time.monotonic()
    again = _check(root, tmp_path, base, cache)
    second = time.monotonic() - started
    nlu2 = next(s for s in again["sections"] if s["name"] == "nlu")
    print(f"second run (cached): {second:.1f} s")
    assert nlu2["data"]["runs"]["base"]["how"] == "cached"
    assert nlu2["data"]["runs"]["candidate"]["how"] == "cached"
    assert nlu2["gates"] == nlu["gates"]
    assert second < 30
