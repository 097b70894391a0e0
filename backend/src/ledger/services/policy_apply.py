"""Applying a candidate policy after a policy lab run: the audited step (docs/policy-lab.md).

The candidate replaces the live policy file (LEDGER_POLICY_FILE) only when a lab report shows
a run on that exact file (the sha256 of its bytes) against the live policy as it is now. The
old file is kept beside it (``policy-history/<UTC time>-<sha256[:12]>.yaml``) so it stays
available for comparison, and the audit log gets one ``policy_applied`` entry: who, when,
the two hashes, the diff, where the old file went and the lab report's figures. The ledger
reads the policy at start-up: the new one takes effect when it restarts.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..db import repositories as repo
from ..db.session import create_engine, create_session_factory
from ..domain.errors import PolicyError
from ..policy_file import parse_policy

DIFF_LIMIT = 60_000  # characters of the diff kept in the audit entry (a policy file is ~10,000)


@dataclass(frozen=True)
class Applied:
    previous_sha256: str
    sha256: str
    kept_as: Path
    diff: str


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read {what} {path}: {exc}") from exc


def lab_report_for(report_path: Path, candidate_sha: str, live_sha: str) -> dict[str, Any]:
    """The lab report if it is a run on this candidate against this live policy; else PolicyError."""
    path = report_path / "report.json" if report_path.is_dir() else report_path
    try:
        report = json.loads(_read(path, "lab report").decode("utf-8"))
        policies = report["policies"]
        ran_on, ran_against = policies.get("candidate_sha256"), policies.get("current_sha256")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PolicyError(f"{path} is not a policy lab report (report.json of ledger simulate)") from exc
    if ran_on != candidate_sha:
        raise PolicyError(
            f"no policy lab run on this file: {path} was run on sha256 {ran_on or '(none)'}, the file is "
            f"{candidate_sha}; run `ledger simulate --policy FILE` on the file as it is now"
        )
    if ran_against != live_sha:
        raise PolicyError(
            f"the lab run compared with another live policy (sha256 {ran_against or '(none)'}; live is "
            f"{live_sha}): run `ledger simulate` again against the live policy"
        )
    report["_path"] = str(path)
    return report


async def apply_policy(
    database_url: str, live: Path, candidate: Path, lab_report: Path, actor: str, now: datetime | None = None
) -> Applied:
    """Check, keep the old file, replace the live file, write the audit entry. Any refusal raises
    PolicyError before anything is written."""
    if not actor.strip():
        raise PolicyError("--by: name who applies the policy")
    new = _read(candidate, "candidate policy file")
    try:
        parse_policy(new.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{candidate}: not UTF-8 text") from exc
    old = _read(live, "live policy file")
    new_sha, old_sha = sha256_bytes(new), sha256_bytes(old)
    if new_sha == old_sha:
        raise PolicyError(f"{candidate} is the live policy already (sha256 {new_sha})")
    report = lab_report_for(lab_report, new_sha, old_sha)
    now = now or datetime.now(UTC)
    history = live.parent / "policy-history"
    history.mkdir(exist_ok=True)
    kept_as = history / f"{now:%Y%m%dT%H%M%SZ}-{old_sha[:12]}.yaml"
    kept_as.write_bytes(old)
    diff = "".join(
        difflib.unified_diff(
            old.decode("utf-8").splitlines(keepends=True),
            new.decode("utf-8").splitlines(keepends=True),
            f"live ({old_sha[:12]})",
            f"candidate ({new_sha[:12]})",
        )
    )
    staged = live.with_name(live.name + ".applying")
    staged.write_bytes(new)
    os.replace(staged, live)
    detail = {
        "file": str(live),
        "previous_sha256": old_sha,
        "sha256": new_sha,
        "previous_kept_as": str(kept_as),
        "diff": diff[:DIFF_LIMIT],
        "diff_truncated": len(diff) > DIFF_LIMIT,
        "lab_report": {
            "path": report["_path"],
            "as_of": report.get("as_of"),
            "loans": report.get("loans"),
            "loans_gaining_a_plan": report.get("loans_gaining_a_plan"),
            "loans_losing_a_plan": report.get("loans_losing_a_plan"),
            "changes": report.get("changes", {}).get("counts"),
        },
    }
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await repo.add_audit(session, at=now, actor=actor, action="policy_applied", detail=detail)
    except BaseException:
        os.replace(kept_as, live)  # no audit entry, no change: the live file is the old one again
        raise
    finally:
        await engine.dispose()
    return Applied(old_sha, new_sha, kept_as, diff)
