"""`ledger simulate` end to end on SQLite: the report files, and bad input files refused
with the key named, exit status 2 and nothing written."""

from __future__ import annotations

import csv
import json
import os
import socket
from pathlib import Path

import ledger
from huanxin_testkit.ledger_cli import ledger_in_process, ledger_process
from ledger.policy_file import DEFAULT_POLICY_FILE

from .conftest import copy_sqlite

DEFAULT_POLICY = (Path(ledger.__file__).parent / DEFAULT_POLICY_FILE).read_text(encoding="utf-8")


def run(env, *args):
    """`ledger ARGS`: main() in this process (this file's one real process is the lab run below)."""
    return ledger_in_process(args, env)


def _env(tmp_path, migrated_sqlite):
    """A fresh migrated SQLite ledger of the test's own (a copy of the session's)."""
    db = copy_sqlite(migrated_sqlite, tmp_path / "lab.sqlite3")
    return {**os.environ, "ID_HASH_SALT": "s", "DATABASE_URL": f"sqlite+aiosqlite:///{db}"}


def test_simulate_end_to_end_on_sqlite(tmp_path, migrated_sqlite):
    env = _env(tmp_path, migrated_sqlite)
    for args in (["seed-demo"], ["generate", "200"]):
        assert run(env, *args).returncode == 0
    # Candidate: the fee waiver only from 200 DPD on (default: from 1 DPD).
    assert "  fee_waiver:\n    min_dpd: 1\n" in DEFAULT_POLICY
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(
        DEFAULT_POLICY.replace("  fee_waiver:\n    min_dpd: 1\n", "  fee_waiver:\n    min_dpd: 200\n"), "utf-8"
    )
    out = tmp_path / "report"
    # A real `ledger` process, its two lab workers spawned from it.
    result = ledger_process(
        ["simulate", "--policy", str(candidate), "--out", str(out), "--workers", "2", "--batch-size", "50"], env
    )
    assert result.returncode == 0, result.stderr
    assert "209 loans" in result.stdout
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report["loans"] == 209
    fee = next(p for p in report["plans"] if p["plan_type"] == "fee_waiver")
    now = sum(r["current"]["affordable"] for r in fee["by_bucket"])
    cand = sum(r["candidate"]["affordable"] for r in fee["by_bucket"])
    assert now > 0
    with (out / "changes.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # Every loan offered the fee waiver today is under 200 DPD here, so every one loses it, by that rule.
    assert cand == 0 and len(rows) == now
    assert {(r["plan_type"], r["direction"], r["rule"]) for r in rows} == {("fee_waiver", "loses", "dpd_too_low")}
    assert report["changes"]["counts"] == [
        {"plan_type": "fee_waiver", "direction": "loses", "rule": "dpd_too_low", "loans": now}
    ]
    assert Path(out / "report.csv").read_text("utf-8").startswith("plan_type,bucket,current_eligible")
    page = (out / "report.html").read_text("utf-8")
    assert "<h1>Policy lab report</h1>" in page and "dpd_too_low" in page
    # The workers ran the compiled core (built by `make setup`); the pure core, in this process,
    # gives the same report but for the run's own figures.
    assert report["run"]["core"] == "compiled (mypyc)" and "core: compiled (mypyc)" in result.stdout
    pure_out = tmp_path / "pure"
    args = ["simulate", "--policy", str(candidate), "--out", str(pure_out), "--workers", "1"]
    assert run({**env, "HUANXIN_LAB_CORE": "pure"}, *args).returncode == 0
    pure = json.loads((pure_out / "report.json").read_text("utf-8"))
    assert pure.pop("run")["core"] == "pure Python: HUANXIN_LAB_CORE=pure"
    report.pop("run")
    assert pure == report
    assert (pure_out / "changes.csv").read_bytes() == (out / "changes.csv").read_bytes()


def test_an_unknown_lab_core_mode_is_refused_and_nothing_is_written(tmp_path, migrated_sqlite):
    env = {**_env(tmp_path, migrated_sqlite), "HUANXIN_LAB_CORE": "fast"}
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(DEFAULT_POLICY, "utf-8")
    out = tmp_path / "report"
    result = run(env, "simulate", "--policy", str(candidate), "--out", str(out), "--workers", "1")
    assert result.returncode == 2
    assert "HUANXIN_LAB_CORE must be one of auto, compiled, pure, not 'fast'" in result.stderr
    assert not out.exists()


def test_a_bad_candidate_is_refused_naming_the_key_and_nothing_is_written(tmp_path, migrated_sqlite):
    env = _env(tmp_path, migrated_sqlite)
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(DEFAULT_POLICY.replace("lock_minutes:", "lock_minutez:", 1), "utf-8")
    out = tmp_path / "report"
    result = run(env, "simulate", "--policy", str(candidate), "--out", str(out))
    assert result.returncode == 2
    assert "PolicyError" in result.stderr and "(key: verification.lock_minutes)" in result.stderr
    assert not out.exists()
    # Same message and status as start-up gives for the same file.
    # Its port is taken: should start-up go past the policy file, serving fails at once (no hang).
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        serving = {"LEDGER_API_TOKEN": "t", "LEDGER_POLICY_FILE": str(candidate), "LEDGER_HOST": "127.0.0.1"}
        serve = run({**env, **serving, "LEDGER_PORT": port}, "serve")
    assert serve.returncode == 2 and serve.stderr.strip().splitlines()[-1] == result.stderr.strip().splitlines()[-1]


def test_a_bad_scenario_file_is_refused_naming_the_key(tmp_path, migrated_sqlite):
    env = _env(tmp_path, migrated_sqlite)
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(DEFAULT_POLICY, "utf-8")
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(
        "profiles:\n  - {name: a, reason: job_loss, duration: forever, monthly_income: 1.00,"
        " essential_expenses: 0.00, other_debt_payments: 0.00, weight: 1}\n",
        "utf-8",
    )
    out = tmp_path / "report"
    result = run(env, "simulate", "--policy", str(candidate), "--scenarios", str(scenarios), "--out", str(out))
    assert result.returncode == 2 and "(key: profiles[0].duration)" in result.stderr
    assert not out.exists()
