"""`ledger apply-policy`: the audited step after a policy lab run (SQLite, through the CLI).
Refused, with nothing changed, without a lab run on that exact file or against another live
policy; applied, the old file is kept and the audit log says who, when, which diff, which report."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import ledger
from huanxin_testkit.ledger_cli import ledger_in_process, ledger_process
from ledger.policy_file import DEFAULT_POLICY_FILE

from .conftest import copy_sqlite

DEFAULT_POLICY = (Path(ledger.__file__).parent / DEFAULT_POLICY_FILE).read_text(encoding="utf-8")
FEE_WAIVER = "  fee_waiver:\n    min_dpd: 1\n"


def live_policy_env(where: Path, db: Path) -> dict[str, str]:
    """The environment of a ledger on ``db`` whose live policy file (under ``where``) holds the
    default policy."""
    live = where / "live" / "policy.yaml"
    live.parent.mkdir()
    live.write_text(DEFAULT_POLICY, encoding="utf-8")
    return {
        **os.environ,
        "ID_HASH_SALT": "s",
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "LEDGER_POLICY_FILE": str(live),
    }


@pytest.fixture(scope="module")
def seeded_lab(migrated_sqlite, tmp_path_factory) -> tuple[Path, str, Path]:
    """Made once for the file: the seeded demo ledger, the candidate (fee waiver from 30 DPD)
    and a policy lab run of it against the default live policy. Each test takes its own copy
    of the ledger and, where it ran the lab, of the report (the apply step checks the report
    against the files' sha256, which the copies share)."""
    where = tmp_path_factory.mktemp("seeded-lab")
    db = copy_sqlite(migrated_sqlite, where / "apply.sqlite3")
    env = live_policy_env(where, db)
    assert FEE_WAIVER in DEFAULT_POLICY
    candidate = DEFAULT_POLICY.replace(FEE_WAIVER, "  fee_waiver:\n    min_dpd: 30\n")
    (where / "candidate.yaml").write_text(candidate, encoding="utf-8")
    assert ledger_in_process(["seed-demo"], env).returncode == 0
    report = where / "report"
    ran = ledger_in_process(
        ["simulate", "--policy", str(where / "candidate.yaml"), "--out", str(report), "--workers", "1"], env
    )
    assert ran.returncode == 0, ran.stderr
    return db, candidate, report


@pytest.fixture
def lab(seeded_lab, tmp_path):
    seeded_db, candidate_text, report = seeded_lab
    db = copy_sqlite(seeded_db, tmp_path / "apply.sqlite3")
    env = live_policy_env(tmp_path, db)
    live = Path(env["LEDGER_POLICY_FILE"])

    def cli(*args, process=False):
        """`ledger ARGS`: main() in this process, or with process=True a real child process."""
        return ledger_process(args, env) if process else ledger_in_process(args, env)

    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(candidate_text, encoding="utf-8")

    def lab_run(out: Path) -> None:
        """The lab run of this candidate against this live policy (the one made for the file)."""
        shutil.copytree(report, out)

    return cli, db, live, candidate, lab_run


def audit(db: Path) -> list[tuple[str, dict]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'policy_applied'").fetchall()
    return [(actor, json.loads(detail)) for actor, detail in rows]


def test_refused_without_a_lab_run_on_that_exact_file(lab, tmp_path):
    cli, db, live, candidate, lab_run = lab
    out = tmp_path / "report"
    lab_run(out)
    # Edited after the lab run: another file, another hash.
    candidate.write_text(candidate.read_text("utf-8").replace("min_dpd: 30", "min_dpd: 45"), encoding="utf-8")
    result = cli("apply-policy", "--policy", str(candidate), "--lab-report", str(out), "--by", "risk-lead")
    assert result.returncode == 2
    assert "no policy lab run on this file" in result.stderr
    assert live.read_text("utf-8") == DEFAULT_POLICY
    assert not (live.parent / "policy-history").exists() and audit(db) == []
    # No report at all.
    result = cli("apply-policy", "--policy", str(candidate), "--lab-report", str(tmp_path / "none"), "--by", "x")
    assert result.returncode == 2 and "cannot read lab report" in result.stderr
    assert live.read_text("utf-8") == DEFAULT_POLICY and audit(db) == []


def test_refused_when_the_live_policy_changed_since_the_lab_run(lab, tmp_path):
    cli, db, live, candidate, lab_run = lab
    out = tmp_path / "report"
    lab_run(out)
    changed = DEFAULT_POLICY.replace("  affordability_ratio: 0.5", "  affordability_ratio: 0.45")
    assert changed != DEFAULT_POLICY
    live.write_text(changed, encoding="utf-8")
    result = cli("apply-policy", "--policy", str(candidate), "--lab-report", str(out), "--by", "risk-lead")
    assert result.returncode == 2 and "another live policy" in result.stderr
    assert live.read_text("utf-8") == changed and audit(db) == []


def test_a_bad_candidate_is_refused_with_the_key_named(lab, tmp_path):
    cli, db, live, candidate, lab_run = lab
    candidate.write_text(DEFAULT_POLICY.replace("  fee_waiver:\n    min_dpd: 1\n", "  fee_waiver:\n"), "utf-8")
    result = cli("apply-policy", "--policy", str(candidate), "--lab-report", str(tmp_path), "--by", "risk-lead")
    assert result.returncode == 2 and "plans.fee_waiver.min_dpd" in result.stderr
    assert live.read_text("utf-8") == DEFAULT_POLICY and audit(db) == []


def test_applied_after_the_lab_run_with_the_old_policy_kept_and_an_audit_entry(lab, tmp_path):
    cli, db, live, candidate, lab_run = lab
    out = tmp_path / "report"
    lab_run(out)
    report = json.loads((out / "report.json").read_text("utf-8"))
    # This file's one real `ledger` process.
    result = cli(
        "apply-policy", "--policy", str(candidate), "--lab-report", str(out), "--by", "risk-lead", process=True
    )
    assert result.returncode == 0, result.stderr
    assert live.read_bytes() == candidate.read_bytes()
    kept = list((live.parent / "policy-history").iterdir())
    assert len(kept) == 1 and kept[0].read_text("utf-8") == DEFAULT_POLICY
    [(actor, detail)] = audit(db)
    assert actor == "cli:risk-lead"
    assert detail["sha256"] == report["policies"]["candidate_sha256"]
    assert detail["previous_sha256"] == report["policies"]["current_sha256"]
    assert "-    min_dpd: 1\n" in detail["diff"] and "+    min_dpd: 30\n" in detail["diff"]
    assert detail["previous_kept_as"] == str(kept[0])
    assert detail["lab_report"]["changes"] == report["changes"]["counts"]
    assert detail["lab_report"]["path"] == str(out / "report.json")
    # Applying it again: it is the live policy already, refused, nothing more written.
    again = cli("apply-policy", "--policy", str(candidate), "--lab-report", str(out), "--by", "risk-lead")
    assert again.returncode == 2 and "live policy already" in again.stderr
    assert len(audit(db)) == 1
