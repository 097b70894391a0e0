"""`ledger release-check`: the response diff and its required figures, the NLU and story gates
read from result files, the thresholds file refused with the key named, and the policy lab
section on a seeded SQLite portfolio. Each test builds its own small git repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import ledger
from huanxin_testkit.ledger_cli import ledger_in_process, ledger_process
from ledger.domain.errors import PolicyError
from ledger.policy_file import DEFAULT_POLICY_FILE
from ledger.release_check import run_release_check
from ledger.settings import REPO_ROOT

POLICY_PATH = "backend/src/ledger/default_policy.yaml"
DEFAULT_POLICY = (Path(ledger.__file__).parent / DEFAULT_POLICY_FILE).read_text(encoding="utf-8")
TEXTS = """T: dict[str, dict[str, str]] = {
    "pay_due": {"zh": "您需要还款{amount}元。", "en": "You owe CNY {amount}."},
    "dispute_opened": {"zh": "已登记异议，编号{case_number}。", "en": "Dispute {case_number} is open."},
    "bye": {"zh": "再见。", "en": "Goodbye."},
}
"""
RESPONSES = """responses:
  utter_greet:
    - condition:
        - type: slot
          name: language
          value: en
      text: "Hello, I'm the assistant."
    - text: "您好，我是智能助手。"
"""


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    for path, text in (
        ("bot/actions/texts.py", TEXTS),
        ("bot/domain/responses.yml", RESPONSES),
        (POLICY_PATH, DEFAULT_POLICY),
    ):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "base")
    return root


def _git_out(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def check(root: Path, tmp_path: Path, *, nlu_base: Path | None = None, thresholds: Path | None = None, **kw):
    return run_release_check(
        root=root,
        base="HEAD",
        thresholds_file=thresholds or REPO_ROOT / "release-thresholds.yaml",
        out=tmp_path / "out",
        policy_path=POLICY_PATH,
        candidate_policy=kw.get("candidate_policy", root / POLICY_PATH),
        database_url=kw.get("database_url"),
        nlu_results=root / "bot/nlu_eval/results/results.json",
        nlu_base=nlu_base,
        story_results=root / "bot/results/core",
        as_of=date(2026, 11, 25),
        nlu_evaluator=kw.get("nlu_evaluator"),
        nlu_base_model=kw.get("nlu_base_model"),
        bench=kw.get("bench", False),
    )


def section(summary, name):
    return next(s for s in summary["sections"] if s["name"] == name)


def test_a_wording_change_shows_in_the_response_diff_side_by_side(repo, tmp_path):
    texts = repo / "bot/actions/texts.py"
    texts.write_text(TEXTS.replace("Goodbye.", "Goodbye, take care."), encoding="utf-8")
    responses = repo / "bot/domain/responses.yml"
    responses.write_text(RESPONSES.replace("您好，我是智能助手。", "您好，我是还信的智能助手。"), encoding="utf-8")
    summary = check(repo, tmp_path)
    rows = section(summary, "responses")["data"]["changes"]
    assert [(r["response"], r["language"], r["change"]) for r in rows] == [
        ("texts.bye", "en", "changed"),
        ("utter_greet", "zh", "changed"),
    ]
    assert rows[0]["base"] == "Goodbye." and rows[0]["candidate"] == "Goodbye, take care."
    assert summary["passed"] and section(summary, "responses")["status"] == "pass"
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Goodbye, take care." in page and "您好，我是还信的智能助手。" in page


def test_a_text_that_loses_the_amount_or_the_case_number_fails(repo, tmp_path):
    (repo / "bot/actions/texts.py").write_text(
        TEXTS.replace("You owe CNY {amount}.", "You owe some money.").replace("编号{case_number}", ""),
        encoding="utf-8",
    )
    summary = check(repo, tmp_path)
    gates = [g for g in section(summary, "responses")["gates"] if not g["passed"]]
    assert sorted(g["detail"] for g in gates) == [
        "texts.dispute_opened (zh) lost {case_number}",
        "texts.pay_due (en) lost {amount}",
    ]
    assert not summary["passed"]


def _results(f1s: dict[str, float], errors=()) -> dict:
    return {
        "n": 10,
        "macro_f1": sum(f1s.values()) / len(f1s),
        "per_intent": [{"intent": k, "precision": v, "recall": v, "f1": v, "support": 5} for k, v in f1s.items()],
        "confusions": [{"gold": g, "predicted": p, "count": 1} for _, g, p in errors],
        "errors": [{"text": t, "gold": g, "predicted": p} for t, g, p in errors],
    }


def test_an_intent_that_drops_fails_the_nlu_gate_by_name(repo, tmp_path):
    base = {lang: _results({"greet": 1.0, "ask_balance": 0.98, "stop_contact": 0.97}) for lang in ("zh", "en")}
    cand = dict(base)
    cand["en"] = _results(
        {"greet": 1.0, "ask_balance": 0.98, "stop_contact": 0.80}, [("please stop texting me", "stop_contact", "deny")]
    )
    (repo / "bot/nlu_eval/results").mkdir(parents=True)
    (repo / "bot/nlu_eval/results/results.json").write_text(json.dumps(cand), encoding="utf-8")
    base_file = tmp_path / "base.json"
    base_file.write_text(json.dumps(base), encoding="utf-8")
    summary = check(repo, tmp_path, nlu_base=base_file)
    nlu = section(summary, "nlu")
    failed = [g["detail"] for g in nlu["gates"] if not g["passed"]]
    assert "en stop_contact: 0.97 -> 0.8" in failed
    assert not any("zh" in d for d in failed)
    en = next(x for x in nlu["data"]["languages"] if x["language"] == "en")
    assert en["new_confusions"] == [{"gold": "stop_contact", "predicted": "deny", "count": 1}]
    assert en["prediction_changed"] == [{"text": "please stop texting me", "base": "(right)", "candidate": "deny"}]
    assert not summary["passed"]
    # The same results as the base: every NLU gate holds.
    (repo / "bot/nlu_eval/results/results.json").write_text(json.dumps(base), encoding="utf-8")
    assert section(check(repo, tmp_path, nlu_base=base_file), "nlu")["status"] == "pass"


def test_a_failed_story_fails_and_missing_results_are_reported_not_hidden(repo, tmp_path):
    summary = check(repo, tmp_path)
    assert section(summary, "stories")["status"] == "not checked"
    assert section(summary, "nlu")["status"] == "not checked"
    core = repo / "bot/results/core"
    core.mkdir(parents=True)
    (core / "failed_test_stories.yml").write_text(
        'version: "3.1"\nstories:\n- story: hardship plan chosen (tests/test_stories_hardship.yml)\n  steps: []\n',
        encoding="utf-8",
    )
    stories = section(check(repo, tmp_path), "stories")
    assert stories["status"] == "fail"
    assert stories["data"]["failed"] == ["hardship plan chosen (tests/test_stories_hardship.yml)"]


def test_missing_results_fail_when_the_thresholds_say_so(repo, tmp_path):
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        (REPO_ROOT / "release-thresholds.yaml")
        .read_text("utf-8")
        .replace("missing_results: warn", "missing_results: fail"),
        encoding="utf-8",
    )
    assert not check(repo, tmp_path, thresholds=strict)["passed"]


def test_a_thresholds_file_with_an_unknown_key_is_refused_by_name(repo, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (REPO_ROOT / "release-thresholds.yaml").read_text("utf-8").replace("max_failed: 0", "max_fail: 0"),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match=r"stories.max_fail"):
        check(repo, tmp_path, thresholds=bad)
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_changed_policy_runs_the_lab_and_reports_what_ledger_simulate_reports(tmp_path):
    env = {**os.environ, "ID_HASH_SALT": "s", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'rc.sqlite3'}"}
    env.pop("LEDGER_POLICY_FILE", None)

    def ledger_cli(*args):
        """`ledger ARGS`: main() in this process (the release check below is a real process)."""
        return ledger_in_process(args, env)

    for args in (["migrate"], ["seed-demo"]):
        assert ledger_cli(*args).returncode == 0
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(
        DEFAULT_POLICY.replace("  fee_waiver:\n    min_dpd: 1\n", "  fee_waiver:\n    min_dpd: 30\n"), "utf-8"
    )
    day = "2026-11-25"
    sim = ledger_cli("simulate", "--policy", str(candidate), "--out", str(tmp_path / "sim"), "--as-of", day)
    assert sim.returncode == 0, sim.stderr
    expected = json.loads((tmp_path / "sim" / "report.json").read_text("utf-8"))
    assert expected["changes"]["counts"]  # the candidate changes something on the demo portfolio
    out = tmp_path / "rc"
    rc = ledger_process(  # this file's one real `ledger` process
        ["release-check", "--policy", str(candidate), "--out", str(out), "--as-of", day, "--no-nlu-train"], env
    )
    assert rc.returncode == 0, rc.stdout + rc.stderr
    policy = section(json.loads((out / "summary.json").read_text("utf-8")), "policy")
    assert policy["status"] == "pass"
    assert policy["data"]["changes"] == expected["changes"]["counts"]
    assert policy["data"]["loans_losing_a_plan"] == expected["loans_losing_a_plan"]
    assert (out / "policy-lab" / "report.html").is_file()


FIGURES = {
    "measured_at": "2026-11-30T20:00:00+00:00",
    "machine": "machine: nproc=2",
    "conversations": 20,
    "rounds": 3,
    "think_ms": 0,
    "turns": 600,
    "wall_s": 11.7,
    "errors": 0,
    "silent_turns": 0,
    "p50_ms": 350.0,
    "p95_ms": 647.0,
    "p99_ms": 936.0,
    "max_ms": 1200.0,
    "turns_per_s": 51.3,
    "load_before": 1.2,
    "load_after": 2.0,
}


def _bench_check(repo, tmp_path, command):
    return check(repo, tmp_path, bench=command)


def test_bench_figures_are_measured_when_the_stack_answers(repo, tmp_path):
    """BENCH=1 runs the benchmark; its figures (the file it writes) are in the summary and page."""
    fake = tmp_path / "bench.py"
    fake.write_text(
        "import json, sys\n"
        f"figures = {FIGURES!r}\n"
        "open(sys.argv[sys.argv.index('--json') + 1], 'w').write(json.dumps(figures))\n",
        encoding="utf-8",
    )
    summary = _bench_check(
        repo, tmp_path, [sys.executable, str(fake), "--json", str(tmp_path / "out/bench-conversation.json")]
    )
    bench = section(summary, "bench")
    assert bench["status"] == "reported"
    assert bench["data"]["figures"]["p99_ms"] == 936.0
    assert bench["notes"] == ["measured now by bench/conversation_bench.py against the running stack"]
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<td>p99_ms</td><td>936.0</td>" in page and "51.3" in page
    assert summary["passed"]


def test_bench_falls_back_to_the_latest_figures_and_says_so(repo, tmp_path):
    down = [sys.executable, "-c", "import sys; print('error: Rasa does not answer'); sys.exit(2)"]
    summary = _bench_check(repo, tmp_path, down)
    bench = section(summary, "bench")
    assert bench["status"] == "not checked" and "BENCH=1 make release-check" in bench["notes"][-1]
    assert "exit 2: error: Rasa does not answer" in bench["notes"][0]
    latest = repo / "var/bench/conversation.json"
    latest.parent.mkdir(parents=True)
    latest.write_text(json.dumps(FIGURES), encoding="utf-8")
    bench = section(_bench_check(repo, tmp_path, down), "bench")
    assert bench["status"] == "reported" and bench["data"]["figures"]["turns_per_s"] == 51.3
    assert "measured 2026-11-30T20:00:00+00:00" in bench["notes"][-1]
    # without BENCH=1 there is no bench section
    assert not any(s["name"] == "bench" for s in check(repo, tmp_path)["sections"])


# ---- the NLU evaluator's wiring, with a stand-in bot environment (the real training is
# tests/release/test_release_nlu_training.py, in make test-rasa)

FAKE_RASA = """#!/usr/bin/env python3
import pathlib, sys
args = sys.argv[1:]
out = pathlib.Path(args[args.index("--out") + 1])
nlu = pathlib.Path("data/nlu/nlu.yml").read_text()
(out / "nlu.tar.gz").write_text(nlu)  # the "model" is the training data it was made from
with open(sys.argv[0] + ".calls", "a") as f:
    f.write("train\\n")
"""
FAKE_PYTHON = """#!/usr/bin/env python3
import json, pathlib, sys
args = sys.argv[1:]
model = pathlib.Path(args[args.index("--model") + 1]).read_text()
out = pathlib.Path(args[args.index("--out") + 1])
f1 = 1.0 if "ask_fees" in model else 0.0
result = {"macro_f1": (1.0 + f1) / 2, "per_intent": [
    {"intent": "greet", "f1": 1.0}, {"intent": "ask_fees", "f1": f1}], "confusions": [], "errors": []}
(out / "results.json").write_text(json.dumps({"zh": result, "en": result}))
with open(sys.argv[0] + ".calls", "a") as f:
    f.write("evaluate\\n")
sys.exit(1 if f1 == 0 else 0)
"""


def _fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for name, text in (("rasa", FAKE_RASA), ("python", FAKE_PYTHON)):
        (venv / "bin" / name).write_text(text, encoding="utf-8")
        (venv / "bin" / name).chmod(0o755)
    return venv


def _calls(venv: Path) -> list[str]:
    return [
        line
        for name in ("rasa", "python")
        if (venv / "bin" / f"{name}.calls").is_file()
        for line in (venv / "bin" / f"{name}.calls").read_text().split()
    ]


def test_the_base_is_trained_in_a_worktree_once_then_read_from_the_cache(repo, tmp_path):
    from ledger.release_nlu import NluEvaluator

    (repo / "bot/config.yml").write_text("pipeline: []\n", encoding="utf-8")
    (repo / "bot/data/nlu").mkdir(parents=True)
    (repo / "bot/data/nlu/nlu.yml").write_text("- intent: greet\n- intent: ask_fees\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "bot")
    (repo / "bot/data/nlu/nlu.yml").write_text("- intent: greet\n", encoding="utf-8")  # the candidate drops one
    venv = _fake_venv(tmp_path)
    evaluator = NluEvaluator(repo, tmp_path / "cache", bot_venv=venv, log=lambda _: None)
    nlu = section(check(repo, tmp_path, nlu_evaluator=evaluator), "nlu")
    assert nlu["status"] == "fail"
    assert [g["detail"] for g in nlu["gates"] if not g["passed"] and "intent" in g["gate"]] == [
        "en ask_fees: 1.0 -> 0.0",
        "zh ask_fees: 1.0 -> 0.0",
    ]
    assert {k: v["how"] for k, v in nlu["data"]["runs"].items()} == {"candidate": "trained", "base": "trained"}
    assert sorted(_calls(venv)) == ["evaluate", "evaluate", "train", "train"]
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<td>base</td>" in page and "<td>trained</td>" in page
    assert "release-base" not in _git_out(repo, "worktree", "list")  # the temporary worktree is gone
    again = section(check(repo, tmp_path, nlu_evaluator=evaluator), "nlu")
    assert {k: v["how"] for k, v in again["data"]["runs"].items()} == {"candidate": "cached", "base": "cached"}
    assert len(_calls(venv)) == 4  # nothing trained or evaluated again
    assert again["gates"] == nlu["gates"]


def test_a_model_file_as_the_base_is_evaluated_as_it_is(repo, tmp_path):
    from ledger.release_nlu import NluEvaluator

    venv = _fake_venv(tmp_path)
    model = tmp_path / "prod.tar.gz"
    model.write_text("- intent: greet\n- intent: ask_fees\n", encoding="utf-8")
    (repo / "bot/nlu_eval/results").mkdir(parents=True)
    same = {"macro_f1": 1.0, "per_intent": [{"intent": "ask_fees", "f1": 1.0}], "confusions": [], "errors": []}
    (repo / "bot/nlu_eval/results/results.json").write_text(json.dumps({"zh": same, "en": same}), encoding="utf-8")
    evaluator = NluEvaluator(repo, tmp_path / "cache", bot_venv=venv, log=lambda _: None)
    nlu = section(check(repo, tmp_path, nlu_evaluator=evaluator, nlu_base_model=model), "nlu")
    assert nlu["data"]["runs"] == {"base": nlu["data"]["runs"]["base"]}  # the candidate's results are current
    assert nlu["data"]["runs"]["base"]["how"] == "model file"
    assert _calls(venv) == ["evaluate"]
    assert nlu["status"] == "pass", nlu["gates"]


def test_a_missing_model_file_or_bot_environment_is_named(repo, tmp_path):
    from ledger.release_nlu import NluEvaluator

    evaluator = NluEvaluator(repo, tmp_path / "cache", bot_venv=tmp_path / "none", log=lambda _: None)
    nlu = section(check(repo, tmp_path, nlu_evaluator=evaluator), "nlu")
    assert nlu["status"] == "fail"
    assert "is missing: run `make setup`" in nlu["gates"][0]["detail"]
    env = {**os.environ, "ID_HASH_SALT": "s"}
    res = ledger_in_process(["release-check", "--base", str(tmp_path / "nope.tar.gz")], env)
    assert res.returncode == 2 and "--base: no such model file" in res.stderr
