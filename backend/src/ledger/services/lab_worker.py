"""The policy lab's work in a worker process: rows of one batch -> a partial report.

Imports only the domain and the core's loader (a spawned worker starts quickly); the core
(services.lab_core: compiled when its build matches the sources, else ledger.domain), the
policies, the day and the profiles are set once per process by ``init``. What goes back to
the parent process is ledger.domain's records, whichever core ran."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..domain.lab import Change, HardshipProfile, LabReport
from ..domain.policy import Policy
from . import lab_core

_STATE: dict[str, Any] = {}


def init(
    current: Policy, candidate: Policy, as_of: date, profiles: tuple[HardshipProfile, ...], core: str | None = None
) -> None:
    """Load the core (``core``: a HUANXIN_LAB_CORE mode, None for the environment's) and keep
    the policies, the day and the profiles as its records."""
    chosen = lab_core.load(core)
    _STATE.update(
        core=chosen,
        args=(chosen.to_core(current), chosen.to_core(candidate), as_of, chosen.to_core(profiles)),
    )


def core_note() -> str:
    return str(_STATE["core"].note)


def evaluate_batch(rows: list[tuple[Any, ...]]) -> tuple[LabReport, list[Change]]:
    chosen: lab_core.LabCore = _STATE["core"]
    report, changes = chosen.lab_rows.evaluate_rows(rows, *_STATE["args"])
    return chosen.to_plain(report), chosen.to_plain(changes)
