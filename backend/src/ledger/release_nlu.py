"""The release check's own NLU evaluation (docs/release-check.md, "NLU").

When no base results are given, the base's NLU model is trained from the base's files (a
temporary ``git worktree`` of the base commit, ``rasa train nlu`` in the bot environment) and
evaluated on the candidate's held-out split by the candidate's ``bot/nlu_eval/evaluate.py``, so
base and candidate are scored on the same messages the same way. The candidate's NLU is trained
the same way when the last ``make test-rasa`` results are missing or older than its files.

Both steps are cached under ``cache_dir``:

* a model by the fingerprint of what ``rasa train nlu`` reads (``bot/config.yml``, the NLU
  training data, the bot's ``pyproject.toml``): ``models/<fingerprint>.tar.gz``; the base commit
  it was first trained for is recorded beside it;
* its results by the model's fingerprint and the fingerprint of the evaluation (the held-out
  files and the evaluation scripts): ``results/<model fp>-<eval fp>.json``.

A second run against the same base (or another base with the same NLU data) trains nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .domain.errors import PolicyError

TRAIN_INPUTS = ("bot/config.yml", "bot/data/nlu", "bot/pyproject.toml")
EVAL_INPUTS = (
    "bot/nlu_eval/heldout_zh.yml",
    "bot/nlu_eval/heldout_en.yml",
    "bot/nlu_eval/third_party_heldout.yml",
    "bot/nlu_eval/evaluate.py",
    "bot/nlu_eval/third_party_eval.py",
)


class NluRunError(PolicyError):
    """Training or evaluating a model failed: the message says which step and why."""


@dataclass(frozen=True)
class NluRun:
    """Where a side's results come from, for the report."""

    results: Path
    source: str  # "trained" | "evaluated" (model cached) | "cached" | "model file"
    fingerprint: str
    seconds: float
    commit: str | None = None


def _files_under(root: Path, rel: str) -> list[str]:
    p = root / rel
    if p.is_file():
        return [rel]
    if p.is_dir():
        return sorted(f.relative_to(root).as_posix() for f in p.rglob("*") if f.is_file())
    return []


def fingerprint(read: Callable[[str], bytes | None], paths: Iterable[str]) -> str:
    """sha256 over each path and its bytes (a missing file counts as missing)."""
    h = hashlib.sha256()
    for path in sorted(paths):
        data = read(path)
        h.update(path.encode() + b"\0")
        h.update(b"-" if data is None else b"+" + hashlib.sha256(data).digest())
    return h.hexdigest()


def tree_fingerprint(root: Path, inputs: Iterable[str]) -> str:
    paths = [f for rel in inputs for f in _files_under(root, rel)]

    def read(path: str) -> bytes | None:
        try:
            return (root / path).read_bytes()
        except OSError:
            return None

    return fingerprint(read, paths)


def _git(root: Path, *args: str, check: bool = True) -> str:
    res = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    if check and res.returncode != 0:
        raise NluRunError(f"git {' '.join(args)}: {res.stderr.decode(errors='replace').strip()}")
    return res.stdout.decode()


def commit_fingerprint(root: Path, commit: str, inputs: Iterable[str]) -> str:
    """The fingerprint of ``inputs`` at ``commit``, read from git without a checkout."""
    paths: list[str] = []
    for rel in inputs:
        out = _git(root, "ls-tree", "-r", "--name-only", commit, "--", rel, check=False)
        paths += [p for p in out.splitlines() if p == rel or p.startswith(rel.rstrip("/") + "/")]

    def read(path: str) -> bytes | None:
        res = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=root, capture_output=True, check=False)
        return res.stdout if res.returncode == 0 else None

    return fingerprint(read, paths)


def _made_once(target: Path, prefix: str, make: Callable[[Path], Path]) -> bool:
    """Make ``target`` unless it exists: ``make(tmp)`` writes it in a temporary directory beside
    it and returns the file, which is then moved in whole (a killed run leaves no half file in
    the cache). Whether it was made now."""
    if target.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=prefix) as tmp:
        os.replace(make(Path(tmp)), target)
    return True


def _source(trained: bool, evaluated: bool) -> str:
    return "trained" if trained else "evaluated" if evaluated else "cached"


class NluEvaluator:
    """Trains and evaluates NLU models with the bot environment of ``bot_dir`` (the candidate's
    ``bot/``: its ``.venv``, its evaluation script and held-out split)."""

    def __init__(self, root: Path, cache_dir: Path, bot_venv: Path | None = None, log: Callable[[str], None] = print):
        self.root = root
        self.bot_dir = root / "bot"
        self.venv = bot_venv or self.bot_dir / ".venv"
        self.cache = cache_dir
        self.log = log
        self.eval_fp = tree_fingerprint(root, EVAL_INPUTS)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        home = self.cache / "home"
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        env |= {
            "HOME": str(home),
            "TMPDIR": str(home / "tmp"),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONHASHSEED": "0",
            "RASA_MAX_CACHE_SIZE": "0",  # no .rasa/cache in the trees: the models are cached here
        }
        return env

    def _run(self, step: str, cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> None:
        if not Path(cmd[0]).is_file():
            raise NluRunError(f"{step}: {cmd[0]} is missing: run `make setup` (the bot environment)")
        res = subprocess.run(cmd, cwd=cwd, env=self._env(), capture_output=True, text=True, check=False)
        if res.returncode not in ok:
            tail = "\n".join((res.stdout + res.stderr).strip().splitlines()[-15:])
            raise NluRunError(f"{step} failed (exit {res.returncode}): {' '.join(cmd)}\n{tail}")

    def model_for(self, tree: Path, fp: str, commit: str | None) -> tuple[Path, bool]:
        """The model trained from ``tree``'s NLU files (fingerprint ``fp``), trained if not
        cached; returns (model, trained now)."""
        model = self.cache / "models" / f"{fp[:24]}.tar.gz"

        def train(tmp: Path) -> Path:
            self.log(f"nlu: training the NLU model of {commit or 'the working tree'} (rasa train nlu)")
            rasa = str(self.venv / "bin" / "rasa")
            cmd = [rasa, "train", "nlu", "--config", "config.yml", "--nlu", "data", "--out", str(tmp)]
            self._run("rasa train nlu", [*cmd, "--fixed-model-name", "nlu"], cwd=tree / "bot")
            if not (tmp / "nlu.tar.gz").is_file():
                raise NluRunError(f"rasa train nlu wrote no model in {tmp}")
            return tmp / "nlu.tar.gz"

        trained = _made_once(model, "train-", train)
        if trained:
            model.with_suffix("").with_suffix(".json").write_text(
                json.dumps({"fingerprint": fp, "commit": commit, "inputs": list(TRAIN_INPUTS)}), encoding="utf-8"
            )
        return model, trained

    def evaluate(self, model: Path, model_fp: str) -> tuple[Path, bool]:
        """``model``'s results on the candidate's held-out split, cached by both fingerprints."""
        out = self.cache / "results" / f"{model_fp[:24]}-{self.eval_fp[:24]}.json"

        def run(tmp: Path) -> Path:
            self.log(f"nlu: evaluating {model.name} on the held-out split")
            python = str(self.venv / "bin" / "python")
            cmd = [python, "nlu_eval/evaluate.py", "--model", str(model.resolve()), "--split", "heldout"]
            # exit 1 = a gate of evaluate.py failed: the figures are still written and judged here
            self._run("nlu_eval/evaluate.py", [*cmd, "--out", str(tmp)], cwd=self.bot_dir, ok=(0, 1))
            if not (tmp / "results.json").is_file():
                raise NluRunError("nlu_eval/evaluate.py wrote no results.json")
            return tmp / "results.json"

        return out, _made_once(out, "eval-", run)

    def base(self, commit: str) -> NluRun:
        """The base commit's NLU results: its model trained in a temporary git worktree."""
        started = time.monotonic()
        fp = commit_fingerprint(self.root, commit, TRAIN_INPUTS)
        model = self.cache / "models" / f"{fp[:24]}.tar.gz"
        trained = False
        if not model.is_file():
            parent = Path(tempfile.mkdtemp(prefix="release-base-"))
            tree = parent / "base"
            _git(self.root, "worktree", "add", "--detach", "--quiet", str(tree), commit)
            try:
                model, trained = self.model_for(tree, fp, commit)
            finally:
                # `remove` also deregisters it; no `prune`, which would touch other worktrees' entries
                _git(self.root, "worktree", "remove", "--force", str(tree), check=False)
                shutil.rmtree(parent, ignore_errors=True)
        results, evaluated = self.evaluate(model, fp)
        return NluRun(results, _source(trained, evaluated), fp, time.monotonic() - started, commit)

    def candidate(self) -> NluRun:
        """The working tree's NLU results, trained and evaluated here."""
        started = time.monotonic()
        fp = tree_fingerprint(self.root, TRAIN_INPUTS)
        model, trained = self.model_for(self.root, fp, None)
        results, evaluated = self.evaluate(model, fp)
        return NluRun(results, _source(trained, evaluated), fp, time.monotonic() - started)

    def model_file(self, model: Path) -> NluRun:
        """A given model file (BASE=…tar.gz) evaluated on the held-out split."""
        started = time.monotonic()
        if not model.is_file():
            raise NluRunError(f"--base: no such model file: {model}")
        h = hashlib.sha256()
        with model.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        fp = h.hexdigest()
        results, evaluated = self.evaluate(model, fp)
        return NluRun(results, "model file", fp, time.monotonic() - started)
