"""The policy lab's compiled core (services.lab_core, scripts/build_lab_core.py): built by
`make setup` for the sources on disk, never run when it no longer matches them, and carrying
records across field by field. (That it gives the pure core's figures: the lab tests of
test_replay_golden.py and test_lab_properties.py run with both cores.)"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ledger.domain import lab_rows
from ledger.domain.lab import Change, HardshipProfile, LabReport
from ledger.policy_file import load_policy
from ledger.scenario_file import load_scenarios
from ledger.services import lab_core, lab_worker


def test_make_setup_built_the_compiled_core_for_these_sources():
    core = lab_core.load("compiled")  # raises, saying why, when the build is missing or stale
    assert core.compiled and core.note == "compiled (mypyc)"
    assert core.lab_rows.__name__ == "huanxin_labcore.lab_rows"
    assert Path(core.lab_rows.__file__).suffix == ".so"  # compiled, not the copied source
    built = json.loads((lab_core.BUILD_DIR / "manifest.json").read_text())
    assert built == lab_core.manifest()


@pytest.fixture
def build_copy(tmp_path):
    """A copy of the build whose manifest a test may change."""
    copy = tmp_path / "labcore"
    shutil.copytree(lab_core.BUILD_DIR, copy)
    return copy


def _rewrite(build: Path, change) -> None:
    path = build / "manifest.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_a_build_of_other_sources_is_not_run(build_copy):
    _rewrite(build_copy, lambda m: m["sources"].update(relief="0" * 64))
    core = lab_core.load("auto", build_copy)
    assert not core.compiled and core.lab_rows is lab_rows
    assert core.note == (
        "pure Python: ledger/domain/relief.py changed since the compiled core was built; run `make setup`"
    )
    with pytest.raises(lab_core.LabCoreUnavailable, match="relief.py changed"):
        lab_core.load("compiled", build_copy)


def test_a_build_for_another_python_or_no_build_is_not_run(build_copy, tmp_path):
    _rewrite(build_copy, lambda m: m.update(python="3.11.0 (elsewhere)"))
    assert lab_core.load("auto", build_copy).note.endswith("built for another Python; run `make setup`")
    (build_copy / "manifest.json").write_text("{not json")
    assert "manifest is unreadable" in lab_core.load("auto", build_copy).note
    assert lab_core.load("auto", tmp_path / "nothing").note == (
        "pure Python: the compiled core is not built; run `make setup`"
    )
    with pytest.raises(lab_core.LabCoreUnavailable, match="not built"):
        lab_core.load("compiled", tmp_path / "nothing")


def test_a_build_whose_modules_are_missing_is_not_run(build_copy):
    """(In a process of its own: a compiled module, once imported, stays in sys.modules.)"""
    for so in build_copy.rglob("*.so"):
        so.unlink()
    code = "import sys; from pathlib import Path; from ledger.services import lab_core; "
    code += "print(lab_core.load('auto', Path(sys.argv[1])).note)"
    done = subprocess.run([sys.executable, "-c", code, str(build_copy)], capture_output=True, text=True, check=True)
    assert done.stdout.strip().startswith("pure Python: ") and "run `make setup`" in done.stdout


def test_the_mode_comes_from_the_environment_and_is_checked(monkeypatch):
    monkeypatch.setenv(lab_core.ENV, "pure")
    assert lab_core.load().note == "pure Python: HUANXIN_LAB_CORE=pure"
    monkeypatch.setenv(lab_core.ENV, "fast")
    with pytest.raises(lab_core.LabCoreUnavailable, match="must be one of auto, compiled, pure"):
        lab_core.load()


def test_records_cross_to_the_compiled_core_and_back_field_by_field():
    core = lab_core.load("compiled")
    policy = load_policy()
    profiles = load_scenarios(None, policy)
    moved = core.to_core((policy, profiles))
    assert type(moved[0]).__module__ == "huanxin_labcore.policy"
    assert type(moved[0].buckets[0]).__module__ == "huanxin_labcore.policy"
    assert type(moved[1][0]).__module__ == "huanxin_labcore.lab"
    back = core.to_plain(moved)
    assert back == (policy, profiles) and type(back[0]) is type(policy)
    report = LabReport(loans=2, by_bucket={("M1",): 2})
    assert core.to_plain(core.to_core(report)) == report


def test_the_worker_hands_back_plain_records_from_the_compiled_core():
    """What a worker sends to the parent process is ledger.domain's records (the parent merges
    them and writes every change's fields), whichever core evaluated the batch."""
    policy = load_policy()
    profiles: tuple[HardshipProfile, ...] = load_scenarios(None, policy)
    lab_worker.init(policy, policy, date(2026, 12, 1), profiles, "compiled")
    assert lab_worker.core_note() == "compiled (mypyc)"
    row = ("L-1", "3000.00", "0.18", 3, date(2026, 6, 10), "1,2026-07-10,975.00,45.00,1020.00", "", [], None, False)
    report, changes = lab_worker.evaluate_batch([row])
    assert type(report) is LabReport and report.loans == 1
    assert all(type(c) is Change for c in changes)
