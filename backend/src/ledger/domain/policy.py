"""The policy: every number and text of the policy file (docs/policy.md) as frozen dataclasses.

The domain reads rules only from a ``Policy`` passed in; ``ledger.policy_file.load_policy``
builds one from YAML (the packaged default_policy.yaml holds the documented defaults).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from .money import round_fen


@dataclass(frozen=True)
class Bucket:
    """A delinquency bucket: DPD from min_dpd to max_dpd inclusive (None = no upper bound)."""

    name: str
    min_dpd: int
    max_dpd: int | None


@dataclass(frozen=True)
class ChargeRules:
    """Grace, penalty interest (罚息) and late fee (违约金)."""

    grace_days: int
    penalty_rate_multiplier: Decimal
    penalty_rate_cap: Decimal
    day_count: int
    late_fee_at_dpd: int
    late_fee_rate: Decimal
    late_fee_min: Decimal
    late_fee_max: Decimal

    def penalty_annual_rate(self, apr: Decimal) -> Decimal:
        """min(APR * multiplier, cap), unrounded."""
        return min(Decimal(apr) * self.penalty_rate_multiplier, self.penalty_rate_cap)

    def late_fee(self, instalment_amount: Decimal) -> Decimal:
        """rate * instalment amount rounded half-up, clamped to [min, max]."""
        fee = round_fen(Decimal(instalment_amount) * self.late_fee_rate)
        return min(max(fee, self.late_fee_min), self.late_fee_max)


@dataclass(frozen=True)
class FeeWaiverRule:
    min_dpd: int
    lookback_months: int
    late_fee_waiver_share: Decimal
    penalty_waiver_share_m1: Decimal
    penalty_waiver_share_later: Decimal
    pay_within_days: int


@dataclass(frozen=True)
class DeferralRule:
    min_holiday_months: int
    max_holiday_months: int
    max_dpd: int
    durations: tuple[str, ...]


@dataclass(frozen=True)
class TermExtensionRule:
    max_dpd: int
    max_extension_months: int
    max_total_term_months: int


@dataclass(frozen=True)
class ReducedRateRule:
    min_dpd: int
    max_dpd: int
    apr_factor: Decimal
    min_apr: Decimal
    max_extension_months: int
    max_total_term_months: int


@dataclass(frozen=True)
class QuarterlyRule:
    max_dpd: int
    reasons: tuple[str, ...]
    period_months: int
    max_payment_to_disposable: Decimal


@dataclass(frozen=True)
class SettlementRule:
    min_dpd: int
    overdue_interest_share: Decimal
    pay_within_days: int


@dataclass(frozen=True)
class PlanRules:
    fee_waiver: FeeWaiverRule
    deferral: DeferralRule
    term_extension: TermExtensionRule
    reduced_rate: ReducedRateRule
    quarterly: QuarterlyRule
    settlement: SettlementRule


@dataclass(frozen=True)
class ReliefRules:
    """Rules over all plans."""

    affordability_ratio: Decimal
    hardship_reasons: tuple[str, ...]
    long_term_reasons: tuple[str, ...]
    restructure_plans: tuple[str, ...]
    max_restructures: int
    restructure_window_months: int
    offer_expiry_hours: int


@dataclass(frozen=True)
class PromiseRules:
    window_days_m1: int
    window_days_later: int
    max_open: int
    max_broken: int
    broken_window_days: int

    def window_days(self, days_past_due: int) -> int:
        """``window_days_m1`` while DPD <= 30 (M0/M1), ``window_days_later`` from 31 DPD on."""
        return self.window_days_m1 if days_past_due <= 30 else self.window_days_later


@dataclass(frozen=True)
class DisputeRules:
    reply_days: int


@dataclass(frozen=True)
class WithdrawalRules:
    """How long after filing a dispute or complaint the borrower may withdraw it in the chat."""

    window_hours: int


@dataclass(frozen=True)
class PaymentTraceRules:
    """Payment traces: a payment the borrower says was made and the ledger does not show."""

    reply_working_days: int


@dataclass(frozen=True)
class VerificationRules:
    max_failures: int
    lock_minutes: int
    token_idle_minutes: int
    max_failures_per_client: int = 10
    client_window_minutes: int = 60


@dataclass(frozen=True)
class ContactRules:
    timezone: str
    window_start: time
    window_end: time
    max_per_day: int
    max_per_7_days: int
    channels: tuple[str, ...]


@dataclass(frozen=True)
class LocalizedText:
    zh: str
    en: str

    def get(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True)
class PolicyTexts:
    """Factual statements the assistant may say; never threatening, never invented."""

    fee_rules: LocalizedText
    consequences: LocalizedText
    arrangement_terms: LocalizedText
    dispute_paused: LocalizedText


@dataclass(frozen=True)
class Policy:
    currency: str
    charges: ChargeRules
    buckets: tuple[Bucket, ...]
    relief: ReliefRules
    plans: PlanRules
    promises: PromiseRules
    disputes: DisputeRules
    withdrawals: WithdrawalRules
    payment_traces: PaymentTraceRules
    verification: VerificationRules
    contact: ContactRules
    texts: PolicyTexts

    def bucket_for(self, days_past_due: int) -> str:
        """Name of the policy bucket whose DPD range holds ``days_past_due``."""
        for b in self.buckets:
            if days_past_due >= b.min_dpd and (b.max_dpd is None or days_past_due <= b.max_dpd):
                return b.name
        raise ValueError(f"no bucket for {days_past_due} days past due")

    def in_first_overdue_bucket(self, days_past_due: int) -> bool:
        """True up to the end of the second bucket (M1 in the default policy), the first one a
        late loan enters; a policy with fewer buckets has no later bucket, so always True."""
        first_overdue = self.buckets[min(1, len(self.buckets) - 1)]
        return first_overdue.max_dpd is None or days_past_due <= first_overdue.max_dpd
