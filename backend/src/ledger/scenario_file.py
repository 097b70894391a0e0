"""Load and validate the policy lab's scenario file (hardship profiles and their mix).

Same rules as the policy file (ledger.policy_file): decimals read exactly, unknown keys
refused, and any problem raises ``PolicyError`` whose message starts with the dotted key path
at fault, e.g. ``profiles[2].duration: ...``. Reasons must be hardship reasons of the policy.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .domain.errors import PolicyError
from .domain.lab import HardshipProfile
from .domain.policy import Policy
from .policy_file import Amount, validated_yaml

DEFAULT_SCENARIO_FILE = "default_scenarios.yaml"


class ProfileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Annotated[str, Field(min_length=1)]
    reason: Annotated[str, Field(min_length=1)]
    duration: Literal["temporary", "long_term"]
    monthly_income: Amount
    essential_expenses: Amount
    other_debt_payments: Amount
    weight: Annotated[int, Field(ge=0)]


class ScenarioModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    profiles: list[ProfileModel] = Field(min_length=1)


def parse_scenarios(text: str, policy: Policy) -> tuple[HardshipProfile, ...]:
    model = validated_yaml(text, ScenarioModel, "scenario file")
    names = set()
    for i, prof in enumerate(model.profiles):
        if prof.reason not in policy.relief.hardship_reasons:
            key = f"profiles[{i}].reason"
            raise PolicyError(f"{key}: must be one of relief.hardship_reasons", key=key)
        if prof.name in names:
            key = f"profiles[{i}].name"
            raise PolicyError(f"{key}: names must be unique", key=key)
        names.add(prof.name)
    if sum(p.weight for p in model.profiles) <= 0:
        raise PolicyError("profiles: the weights must add up to more than 0", key="profiles")
    return tuple(
        HardshipProfile(
            p.name, p.reason, p.duration, p.monthly_income, p.essential_expenses, p.other_debt_payments, p.weight
        )
        for p in model.profiles
    )


def load_scenarios(path: Path | None, policy: Policy) -> tuple[HardshipProfile, ...]:
    """The profiles of ``path``, or of the packaged default_scenarios.yaml when None."""
    if path is None:
        text = resources.files("ledger").joinpath(DEFAULT_SCENARIO_FILE).read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read scenario file {path}: {exc}") from exc
    return parse_scenarios(text, policy)
