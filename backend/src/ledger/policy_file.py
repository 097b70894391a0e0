"""Load and validate the policy YAML into a frozen ``Policy``.

The file is parsed with decimals read exactly from their text (no binary floats), then
validated by pydantic models (extra keys forbidden, strict types, range checks), then checked
for consistency across keys (min <= max, contiguous buckets, ...). Any problem raises
``PolicyError`` whose message starts with the dotted key path at fault, e.g.
``plans.deferral.max_holiday_months: must be >= 1``; nothing is half-loaded.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from .domain import policy as p
from .domain.errors import PolicyError

DEFAULT_POLICY_FILE = "default_policy.yaml"


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader that reads YAML floats as exact Decimals."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _exact_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("must be a finite number")
    return value


def _clock(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError("must be a time HH:MM") from exc
    return value


Rate = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, le=1)]
Factor = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, le=10)]
Amount = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, decimal_places=2)]
Days = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
Clock = Annotated[time, BeforeValidator(_clock)]
Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ChargesModel(_Model):
    grace_days: Days
    penalty_rate_multiplier: Factor
    penalty_rate_cap: Rate
    day_count: Annotated[int, Field(ge=360, le=366)]
    late_fee_at_dpd: Positive
    late_fee_rate: Rate
    late_fee_min: Amount
    late_fee_max: Amount


class BucketModel(_Model):
    name: Text
    min_dpd: Days
    max_dpd: Days | None


class ReliefModel(_Model):
    affordability_ratio: Rate
    hardship_reasons: list[Text] = Field(min_length=1)
    long_term_reasons: list[Text]
    restructure_plans: list[Text]
    max_restructures: Days
    restructure_window_months: Days
    offer_expiry_hours: Positive


class FeeWaiverModel(_Model):
    min_dpd: Days
    lookback_months: Days
    late_fee_waiver_share: Rate
    penalty_waiver_share_m1: Rate
    penalty_waiver_share_later: Rate
    pay_within_days: Positive


class DeferralModel(_Model):
    min_holiday_months: Positive
    max_holiday_months: Positive
    max_dpd: Days
    durations: list[Text] = Field(min_length=1)


class TermExtensionModel(_Model):
    max_dpd: Days
    max_extension_months: Days
    max_total_term_months: Positive


class ReducedRateModel(_Model):
    min_dpd: Days
    max_dpd: Days
    apr_factor: Rate
    min_apr: Rate
    max_extension_months: Days
    max_total_term_months: Positive


class QuarterlyModel(_Model):
    max_dpd: Days
    reasons: list[Text] = Field(min_length=1)
    period_months: Annotated[int, Field(ge=2, le=12)]
    max_payment_to_disposable: Factor


class SettlementModel(_Model):
    min_dpd: Days
    overdue_interest_share: Rate
    pay_within_days: Positive


class PlansModel(_Model):
    fee_waiver: FeeWaiverModel
    deferral: DeferralModel
    term_extension: TermExtensionModel
    reduced_rate: ReducedRateModel
    quarterly: QuarterlyModel
    settlement: SettlementModel


class PromisesModel(_Model):
    window_days_m1: Days
    window_days_later: Days
    max_open: Positive
    max_broken: Positive
    broken_window_days: Positive


class DisputesModel(_Model):
    reply_days: Positive


class WithdrawalsModel(_Model):
    window_hours: Positive


class PaymentTracesModel(_Model):
    reply_working_days: Positive


class VerificationModel(_Model):
    max_failures: Positive
    lock_minutes: Positive
    token_idle_minutes: Positive
    max_failures_per_client: Positive
    client_window_minutes: Positive


class ContactModel(_Model):
    timezone: Text
    window_start: Clock
    window_end: Clock
    max_per_day: Days
    max_per_7_days: Days
    channels: list[Text] = Field(min_length=1)


class LocalizedModel(_Model):
    zh: Text
    en: Text


class TextsModel(_Model):
    fee_rules: LocalizedModel
    consequences: LocalizedModel
    arrangement_terms: LocalizedModel
    dispute_paused: LocalizedModel


class PolicyModel(_Model):
    version: Annotated[int, Field(ge=1, le=1)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    charges: ChargesModel
    buckets: list[BucketModel] = Field(min_length=1)
    relief: ReliefModel
    plans: PlansModel
    promises: PromisesModel
    disputes: DisputesModel
    withdrawals: WithdrawalsModel
    payment_traces: PaymentTracesModel
    verification: VerificationModel
    contact: ContactModel
    texts: TextsModel


def _loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] = f"{parts[-1]}[{item}]"
        elif isinstance(item, str) and item.startswith("function-"):
            continue
        else:
            parts.append(str(item))
    return ".".join(parts)


def _check(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise PolicyError(f"{key}: {message}", key=key)


def _check_consistency(m: PolicyModel) -> None:
    c = m.charges
    _check(c.late_fee_min <= c.late_fee_max, "charges.late_fee_min", "must be <= charges.late_fee_max")
    expected = 0
    for i, b in enumerate(m.buckets):
        key = f"buckets[{i}]"
        _check(b.min_dpd == expected, f"{key}.min_dpd", f"must be {expected} (buckets must be contiguous from 0)")
        last = i == len(m.buckets) - 1
        if b.max_dpd is None:
            _check(last, f"{key}.max_dpd", "only the last bucket may be open-ended")
        else:
            _check(b.max_dpd >= b.min_dpd, f"{key}.max_dpd", "must be >= min_dpd")
            _check(not last, f"{key}.max_dpd", "the last bucket must be open-ended (null)")
            expected = b.max_dpd + 1
    names = [b.name for b in m.buckets]
    _check(len(set(names)) == len(names), "buckets", "bucket names must be unique")
    r = m.relief
    for field in ("long_term_reasons",):
        for i, reason in enumerate(getattr(r, field)):
            _check(reason in r.hardship_reasons, f"relief.{field}[{i}]", f"unknown hardship reason {reason!r}")
    for i, reason in enumerate(m.plans.quarterly.reasons):
        _check(reason in r.hardship_reasons, f"plans.quarterly.reasons[{i}]", f"unknown hardship reason {reason!r}")
    plan_names = set(PlansModel.model_fields)
    for i, plan in enumerate(r.restructure_plans):
        _check(plan in plan_names, f"relief.restructure_plans[{i}]", f"unknown plan {plan!r}")
    d = m.plans.deferral
    _check(
        d.min_holiday_months <= d.max_holiday_months,
        "plans.deferral.min_holiday_months",
        "must be <= plans.deferral.max_holiday_months",
    )
    for i, duration in enumerate(d.durations):
        _check(
            duration in ("temporary", "long_term"), f"plans.deferral.durations[{i}]", "must be temporary or long_term"
        )
    rr = m.plans.reduced_rate
    _check(rr.min_dpd <= rr.max_dpd, "plans.reduced_rate.min_dpd", "must be <= plans.reduced_rate.max_dpd")
    ct = m.contact
    _check(ct.window_start < ct.window_end, "contact.window_start", "must be before contact.window_end")
    _check(ct.max_per_day <= ct.max_per_7_days, "contact.max_per_day", "must be <= contact.max_per_7_days")


def _lt(t: LocalizedModel) -> p.LocalizedText:
    return p.LocalizedText(zh=t.zh, en=t.en)


def _to_policy(m: PolicyModel) -> p.Policy:
    c, r, pl = m.charges, m.relief, m.plans
    return p.Policy(
        currency=m.currency,
        charges=p.ChargeRules(**c.model_dump()),
        buckets=tuple(p.Bucket(b.name, b.min_dpd, b.max_dpd) for b in m.buckets),
        relief=p.ReliefRules(
            affordability_ratio=r.affordability_ratio,
            hardship_reasons=tuple(r.hardship_reasons),
            long_term_reasons=tuple(r.long_term_reasons),
            restructure_plans=tuple(r.restructure_plans),
            max_restructures=r.max_restructures,
            restructure_window_months=r.restructure_window_months,
            offer_expiry_hours=r.offer_expiry_hours,
        ),
        plans=p.PlanRules(
            fee_waiver=p.FeeWaiverRule(**pl.fee_waiver.model_dump()),
            deferral=p.DeferralRule(**{**pl.deferral.model_dump(), "durations": tuple(pl.deferral.durations)}),
            term_extension=p.TermExtensionRule(**pl.term_extension.model_dump()),
            reduced_rate=p.ReducedRateRule(**pl.reduced_rate.model_dump()),
            quarterly=p.QuarterlyRule(**{**pl.quarterly.model_dump(), "reasons": tuple(pl.quarterly.reasons)}),
            settlement=p.SettlementRule(**pl.settlement.model_dump()),
        ),
        promises=p.PromiseRules(**m.promises.model_dump()),
        disputes=p.DisputeRules(**m.disputes.model_dump()),
        withdrawals=p.WithdrawalRules(**m.withdrawals.model_dump()),
        payment_traces=p.PaymentTraceRules(**m.payment_traces.model_dump()),
        verification=p.VerificationRules(**m.verification.model_dump()),
        contact=p.ContactRules(
            timezone=m.contact.timezone,
            window_start=m.contact.window_start,
            window_end=m.contact.window_end,
            max_per_day=m.contact.max_per_day,
            max_per_7_days=m.contact.max_per_7_days,
            channels=tuple(m.contact.channels),
        ),
        texts=p.PolicyTexts(
            fee_rules=_lt(m.texts.fee_rules),
            consequences=_lt(m.texts.consequences),
            arrangement_terms=_lt(m.texts.arrangement_terms),
            dispute_paused=_lt(m.texts.dispute_paused),
        ),
    )


ModelT = TypeVar("ModelT", bound=BaseModel)


def validated_yaml(text: str, model: type[ModelT], what: str) -> ModelT:
    """YAML text (decimals kept exact) validated by ``model``; PolicyError naming the key path on
    any problem. Shared by the policy file and the policy lab's scenario file."""
    try:
        data = yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - SafeLoader subclass
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a scalar YAML cannot build (date 2027-13-01)
        raise PolicyError(f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"the {what} must be a mapping of keys")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _loc(tuple(first["loc"]))
        msg = {"missing": "is missing", "extra_forbidden": "is not a known key"}.get(first["type"], first["msg"])
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise PolicyError(f"{key}: {msg}{more}", key=key) from exc


def parse_policy(text: str) -> p.Policy:
    """Validate policy YAML text; raise PolicyError naming the key path on any problem."""
    model = validated_yaml(text, PolicyModel, "policy file")
    _check_consistency(model)
    return _to_policy(model)


def load_policy(path: Path | None = None) -> p.Policy:
    """Load the policy from ``path``, or the packaged default_policy.yaml when None."""
    if path is None:
        text = resources.files("ledger").joinpath(DEFAULT_POLICY_FILE).read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc}") from exc
    return parse_policy(text)
