"""Load and validate the contact cadence file (which reminders, when, on which channels, with
which text) into a frozen ``Cadence``.

Same rules as the policy file (ledger.policy_file): unknown keys refused, strict types, and any
problem raises ``PolicyError`` whose message starts with the dotted key path at fault, e.g.
``reasons.before_due.channels[1]: ...``. Checked against the policy: channels must be channels
of ``contact.channels``, bucket names and their DPDs those of ``buckets``. Every template must
say who sends it ({sender}) and how to stop ({stop}) and may name only the fields its reason
has.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .domain.contact_plan import (
    COMMON_FIELDS,
    REASON_FIELDS,
    REASONS,
    REQUIRED_FIELDS,
    Cadence,
    ReasonCadence,
    template_fields,
)
from .domain.errors import PolicyError
from .domain.policy import LocalizedText, Policy
from .policy_file import validated_yaml

DEFAULT_CADENCE_FILE = "default_cadence.yaml"

Text = Annotated[str, Field(min_length=1)]
Days = Annotated[int, Field(ge=0, le=366)]


def _day(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError("must be a date YYYY-MM-DD") from exc
    return value


Day = Annotated[date, BeforeValidator(_day)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LocalizedModel(_Model):
    zh: Text
    en: Text


class QuietDaysModel(_Model):
    weekdays: list[Annotated[int, Field(ge=1, le=7)]]
    dates: list[Day]


class ReasonModel(_Model):
    enabled: bool = True
    channels: list[Text] = Field(min_length=1)
    template: LocalizedModel


class DaysReasonModel(ReasonModel):
    days: list[Days] = Field(min_length=1)


class OfferReasonModel(ReasonModel):
    hours: Annotated[int, Field(ge=1, le=24 * 30)]


class MilestoneReasonModel(ReasonModel):
    buckets: dict[str, list[Annotated[int, Field(ge=1)]]]


class ReasonsModel(_Model):
    before_due: DaysReasonModel
    due_today: ReasonModel
    dpd_milestone: MilestoneReasonModel
    promise_due_tomorrow: ReasonModel
    promise_broken: ReasonModel
    arrangement_instalment_due: DaysReasonModel
    offer_expiring: OfferReasonModel


class CadenceModel(_Model):
    version: Annotated[int, Field(ge=1, le=1)]
    sender: LocalizedModel
    stop: LocalizedModel
    stop_confirmation: LocalizedModel
    priority: list[Text]
    quiet_days: QuietDaysModel
    reasons: ReasonsModel


def _fail(key: str, message: str) -> None:
    raise PolicyError(f"{key}: {message}", key=key)


def _check(m: CadenceModel, policy: Policy) -> None:
    if sorted(m.priority) != sorted(REASONS):
        _fail("priority", f"must name each reason exactly once: {', '.join(REASONS)}")
    buckets = {b.name: b for b in policy.buckets}
    for reason in REASONS:
        r: ReasonModel = getattr(m.reasons, reason)
        base = f"reasons.{reason}"
        for i, ch in enumerate(r.channels):
            if ch not in policy.contact.channels:
                _fail(f"{base}.channels[{i}]", f"{ch!r} is not a channel of the policy's contact.channels")
        if len(set(r.channels)) != len(r.channels):
            _fail(f"{base}.channels", "a channel is named twice")
        allowed = COMMON_FIELDS | REASON_FIELDS[reason]
        for language in ("zh", "en"):
            key = f"{base}.template.{language}"
            text = getattr(r.template, language)
            try:
                names = template_fields(text)
            except ValueError as exc:
                _fail(key, f"not a valid template: {exc}")
            unknown = sorted(names - allowed)
            if unknown:
                _fail(key, f"unknown field {{{unknown[0]}}}; this reason may use {', '.join(sorted(allowed))}")
            missing = sorted(REQUIRED_FIELDS - names)
            if missing:
                _fail(key, f"must contain {{{missing[0]}}} (who sends it, and how to stop it)")
    for name, dpds in m.reasons.dpd_milestone.buckets.items():
        key = f"reasons.dpd_milestone.buckets.{name}"
        bucket = buckets.get(name)
        if bucket is None:
            _fail(key, f"not a bucket of the policy ({', '.join(buckets)})")
            continue
        for i, dpd in enumerate(dpds):
            if dpd < bucket.min_dpd or (bucket.max_dpd is not None and dpd > bucket.max_dpd):
                top = "" if bucket.max_dpd is None else f" to {bucket.max_dpd}"
                _fail(f"{key}[{i}]", f"{dpd} is outside the bucket's days past due ({bucket.min_dpd}{top})")


def _lt(t: LocalizedModel) -> LocalizedText:
    return LocalizedText(zh=t.zh, en=t.en)


def parse_cadence(text: str, policy: Policy) -> Cadence:
    """Validate cadence YAML text against ``policy``; PolicyError naming the key on any problem."""
    m = validated_yaml(text, CadenceModel, "cadence file")
    _check(m, policy)
    rs = m.reasons
    reasons: dict[str, ReasonCadence] = {}
    for reason in REASONS:
        r = getattr(rs, reason)
        reasons[reason] = ReasonCadence(
            enabled=r.enabled,
            channels=tuple(r.channels),
            template=_lt(r.template),
            days=tuple(getattr(r, "days", ())),
            hours=getattr(r, "hours", 0),
        )
    return Cadence(
        sender=_lt(m.sender),
        stop=_lt(m.stop),
        stop_confirmation=_lt(m.stop_confirmation),
        priority=tuple(m.priority),
        quiet_weekdays=frozenset(m.quiet_days.weekdays),
        quiet_dates=frozenset(m.quiet_days.dates),
        reasons=reasons,
        dpd_milestones={name: frozenset(d) for name, d in rs.dpd_milestone.buckets.items()},
    )


def load_cadence(path: Path | None, policy: Policy) -> Cadence:
    """The cadence of ``path``, or of the packaged default_cadence.yaml when None."""
    if path is None:
        text = resources.files("ledger").joinpath(DEFAULT_CADENCE_FILE).read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read cadence file {path}: {exc}") from exc
    return parse_cadence(text, policy)
