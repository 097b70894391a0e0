"""Request and response models of the HTTP API (pydantic v2).

The handlers validate every request body with these models and build every response through
them; the OpenAPI document is generated from the same classes, so it says what the handlers
really accept and return. Money is a string with two decimals (docs/contracts.md), parsed to
Decimal by the handlers: never a float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

MONEY_IN_PATTERN = r"^\d{1,9}(\.\d{1,2})?$"
MoneyIn = Annotated[str, StringConstraints(pattern=MONEY_IN_PATTERN)]
MoneyOut = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["1250.00"])]
RateOut = Annotated[str, Field(pattern=r"^\d+(\.\d+)?$", examples=["0.18"])]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)]
Channel = Literal["sms", "phone", "wechat", "telegram", "email", "app", "web"]
Language = Literal["zh", "en"]
HardshipReason = Literal[
    "job_loss", "illness", "income_drop", "business_failure", "family_emergency", "irregular_income", "other"
]
HardshipDuration = Literal["temporary", "long_term"]
EscalationReason = Literal[
    "request_human", "complaint", "fallback", "hardship_review", "backend_unavailable", "verification_locked", "other"
]
PlanType = Literal["fee_waiver", "deferral", "term_extension", "reduced_rate", "quarterly", "settlement"]


def money(text: str) -> Decimal:
    """A validated request amount -> Decimal (exact; the pattern already bounds it)."""
    return Decimal(text)


def fmt(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):f}"


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- requests


class VerificationRequest(Request):
    conversation_id: Identifier
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{5,20}$")] | None = None
    loan_number: Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True)] | None = None
    date_of_birth: date
    id_last4: Annotated[str, StringConstraints(pattern=r"^[0-9Xx]{4}$")]
    # Opaque reference of the borrower's device/address from the gateway (an HMAC, never the
    # address): failed attempts are limited per client_ref across all borrowers.
    client_ref: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")] | None = None

    @model_validator(mode="after")
    def exactly_one_identifier(self) -> VerificationRequest:
        if (self.phone is None) == (self.loan_number is None):
            raise ValueError("give exactly one of phone or loan_number")
        return self


class PaymentRequest(Request):
    external_ref: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")]
    amount: MoneyIn
    received_on: date
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")] = "bank_transfer"

    @field_validator("amount")
    @classmethod
    def positive(cls, v: str) -> str:
        if Decimal(v) <= 0:
            raise ValueError("amount must be greater than 0")
        return v


class HardshipCaseRequest(Request):
    reason: HardshipReason
    duration: HardshipDuration
    monthly_income: MoneyIn
    essential_expenses: MoneyIn
    other_debt_payments: MoneyIn
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = None


class EvaluationRequest(Request):
    hardship_case_id: Identifier


class AcceptanceRequest(Request):
    pass


class PromiseRequest(Request):
    amount: MoneyIn
    promised_date: date
    # the open promise of this loan that the new one replaces (it becomes "replaced")
    replaces: Identifier | None = None


class DisputeRequest(Request):
    reason: ShortText
    details: Annotated[str, StringConstraints(max_length=4000)] | None = None


WithdrawalReason = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]


class DisputeWithdrawalRequest(Request):
    reason: WithdrawalReason | None = None


class ComplaintWithdrawalRequest(Request):
    conversation_id: Identifier
    reason: WithdrawalReason | None = None


PaymentReference = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


class PaymentTraceRequest(Request):
    """A payment the borrower says was made: the day, the amount (at least one of the two), the
    transfer reference and how it was paid, as far as the borrower knows them."""

    paid_on: date | None = None
    amount: MoneyIn | None = None
    reference: PaymentReference | None = None
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")] | None = None

    @field_validator("amount")
    @classmethod
    def positive(cls, v: str | None) -> str | None:
        if v is not None and Decimal(v) <= 0:
            raise ValueError("amount must be greater than 0")
        return v

    @model_validator(mode="after")
    def day_or_amount(self) -> PaymentTraceRequest:
        if self.paid_on is None and self.amount is None:
            raise ValueError("give paid_on, amount or both")
        return self


class ContactPreferencesRequest(Request):
    stop_all: bool
    opted_out_channels: list[Channel] = Field(default_factory=list, max_length=7)


class StopReplyRequest(Request):
    """A borrower's reply on an outbound channel, passed on as received (the ledger decides
    whether it is a STOP). ``phone``: the sender's number, for sms and phone replies; other
    channels need the verified conversation's headers."""

    channel: Channel
    text: Annotated[str, StringConstraints(max_length=500)]
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{5,20}$")] | None = None


class EscalationRequest(Request):
    conversation_id: Identifier
    reason: EscalationReason
    summary: Annotated[str, StringConstraints(max_length=4000)]
    language: Language | None = None


class ComplaintRequest(Request):
    conversation_id: Identifier
    text: LongText


ManualVerificationMethod = Literal["callback_on_record", "video_call", "in_person", "id_document"]
DigitFreeNote = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True, pattern=r"^[^0-9０-９]*$")]


class ManualVerificationRequest(Request):
    """An agent verified the borrower by other means. The note is free text for the audit and
    so may hold no digits: a date of birth, ID digits or a phone never reach the audit log."""

    agent: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
    method: ManualVerificationMethod
    note: DigitFreeNote | None = None
    conversation_id: Identifier | None = None


class StatusQuery(Request):
    model_config = ConfigDict(extra="forbid", strict=False)
    as_of: date | None = None


# ---------------------------------------------------------------- responses


class Health(Response):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


class OpenAPIDocument(BaseModel):
    """This OpenAPI 3.1 document."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str
    errors: list[dict[str, Any]] | None = None
    attempts_left: int | None = None
    locked_until: datetime | None = None
    reason: str | None = None
    key: str | None = None
    retry_after: int | None = None
    earliest_date: date | None = None  # promise_rejected, date_out_of_window: the dates allowed
    latest_date: date | None = None
    max_days: int | None = None  # ... the latest date is that many days after today


class BorrowerSummary(Response):
    borrower_id: str
    name: str
    language: Language


class VerificationResponse(Response):
    token: str
    expires_at: datetime
    borrower: BorrowerSummary


class ContactPreferences(Response):
    stop_all: bool
    opted_out_channels: list[Channel]


class StopReplyResult(Response):
    stop: bool  # the reply was a STOP: the opt-out of this channel is recorded
    channel: Channel
    confirmation: str | None  # the text to send back (None when it was not a STOP)


class DeliveredReminder(Response):
    loan_number: str
    reason: str
    channel: Channel
    subject: dict[str, str]  # instalment and due date, promise date, or offer id and expiry
    delivered_at: str  # ISO 8601, UTC
    ref: str  # the reminder's reference, as its link carried it (docs/outbound.md)


class RecentReminders(Response):
    reminders: list[DeliveredReminder]


class LoanSummary(Response):
    loan_number: str
    product: str


class BorrowerProfile(Response):
    borrower_id: str
    name: str
    language: Language
    timezone: str
    contact_preferences: ContactPreferences
    loans: list[LoanSummary]


class OverdueBreakdown(Response):
    principal: MoneyOut
    interest: MoneyOut
    penalty_interest: MoneyOut
    late_fees: MoneyOut
    total: MoneyOut


class NextDue(Response):
    due_date: date
    amount: MoneyOut


class InstalmentStatus(Response):
    number: int
    due_date: date
    amount: MoneyOut
    principal: MoneyOut
    interest: MoneyOut
    paid: MoneyOut
    state: Literal["paid", "overdue", "due", "upcoming", "replaced"]
    days_past_due: int
    penalty_interest: MoneyOut
    late_fee: MoneyOut


class OpenDispute(Response):
    case_number: str
    reply_due_by: date


class PromiseOut(Response):
    promise_id: str
    loan_number: str
    amount: MoneyOut
    promised_date: date
    made_on: date
    state: Literal["open", "kept", "broken", "replaced"]
    paid_toward: MoneyOut
    replaces: str | None = None


class ScheduleRow(Response):
    number: int
    due_date: date
    amount: MoneyOut
    principal: MoneyOut
    interest: MoneyOut


class Waived(Response):
    late_fees: MoneyOut
    penalty_interest: MoneyOut
    interest: MoneyOut
    total: MoneyOut


class ArrangementOut(Response):
    arrangement_id: str
    loan_number: str
    offer_id: str | None
    evaluation_id: str | None
    plan_type: PlanType
    accepted_at: datetime
    accepted_on: date
    payment_frequency: Literal["monthly", "quarterly", "once"]
    total_to_repay: MoneyOut
    waived: Waived
    holiday_months: int
    replaces: list[int]
    state: Literal["active", "kept", "broken"]
    schedule: list[ScheduleRow]


class LoanStatus(Response):
    loan_number: str
    product: str
    currency: str
    as_of: date
    principal: MoneyOut
    apr: RateOut
    term: int
    disbursed_on: date
    days_past_due: int
    bucket: Literal["M0", "M1", "M2", "M3", "M3+"]
    overdue: OverdueBreakdown
    amount_to_bring_current: MoneyOut
    payoff_amount: MoneyOut
    next_due: NextDue | None
    instalments: list[InstalmentStatus]
    open_dispute: OpenDispute | None
    open_promise: PromiseOut | None
    active_arrangement: ArrangementOut | None
    closed: bool
    refund_owed: MoneyOut


class PaymentOut(Response):
    payment_id: str
    external_ref: str
    loan_number: str
    amount: MoneyOut
    received_on: date
    channel: str


class PaymentList(Response):
    loan_number: str
    payments: list[PaymentOut]


class HardshipCaseOut(Response):
    case_id: str
    loan_number: str
    reason: HardshipReason
    duration: HardshipDuration
    monthly_income: MoneyOut
    essential_expenses: MoneyOut
    other_debt_payments: MoneyOut
    disposable_income: MoneyOut
    notes: str | None
    created_at: datetime


class Reason(Response):
    code: str
    zh: str
    en: str


class OfferComparison(Response):
    """The offer on the basis of today's schedule (docs/policy.md, "Plans compared with today's
    schedule"): every payment from today until the loan is repaid under the plan."""

    payment_amount: MoneyOut = Field(description="the headline: the plan's first payment")
    payment_frequency: Literal["monthly", "quarterly", "once"]
    later_payment_amount: MoneyOut | None = Field(
        description="the regular amount of the payments after the first, when it differs from the first"
    )
    payment_count: int = Field(description="payments from today until the loan is repaid under the plan")
    first_payment_date: date
    last_payment_date: date
    total_to_repay: MoneyOut = Field(description="everything paid for the whole loan under the plan")
    payment_change: MoneyOut | None = Field(
        description="the regular payment minus what today's schedule asks for the same period; null for one-off plans"
    )
    total_change: MoneyOut = Field(description="total_to_repay minus today's schedule's total (negative: saves)")


class CurrentSchedule(Response):
    """Today's schedule: the amount due now as one payment today, then every instalment to come."""

    payment_amount: MoneyOut = Field(description="today's instalment (the amount due now when none is to come)")
    payment_frequency: Literal["monthly"]
    amount_due_now: MoneyOut
    payment_count: int
    first_payment_date: date
    next_instalment_date: date
    last_payment_date: date
    total_to_repay: MoneyOut


class OfferOut(Response):
    offer_id: str
    expires_at: datetime
    payment_amount: MoneyOut
    payment_frequency: Literal["monthly", "quarterly", "once"]
    total_to_repay: MoneyOut
    waived: Waived
    payment_to_disposable_income: Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$")] | None
    holiday_months: int
    schedule: list[ScheduleRow]
    comparison: OfferComparison


class PlanOut(Response):
    plan_type: PlanType
    eligible: bool
    reasons: list[Reason]
    offer: OfferOut | None


class EvaluationOut(Response):
    evaluation_id: str
    loan_number: str
    as_of: date
    disposable_income: MoneyOut
    affordability_limit: MoneyOut
    needs_human_review: bool
    current_schedule: CurrentSchedule | None
    plans: list[PlanOut]


class ArrangementList(Response):
    loan_number: str
    arrangements: list[ArrangementOut]


class PromiseList(Response):
    loan_number: str
    promises: list[PromiseOut]


class DisputeOut(Response):
    case_number: str
    loan_number: str
    reply_due_by: date
    status: Literal["open", "resolved", "withdrawn"]
    withdrawn_at: datetime | None = None


class ComplaintWithdrawalOut(Response):
    complaint_id: str
    escalation_id: str
    status: Literal["withdrawn"]
    withdrawn_at: datetime


class PaymentTraceOut(Response):
    trace_id: str
    case_number: str
    loan_number: str
    paid_on: date | None
    amount: MoneyOut | None
    reference: str | None
    channel: str | None
    opened_on: date
    reply_due_by: date
    status: Literal["open", "resolved"]


class EscalationOut(Response):
    escalation_id: str
    case_number: str
    status: Literal["open"]
    borrower_linked: bool


class ComplaintOut(Response):
    complaint_id: str
    escalation_id: str
    case_number: str


class LastManualVerification(Response):
    agent: str
    method: str | None
    at: datetime


class VerificationState(Response):
    """A borrower's verification state as the desk sees it: the lock and the last manual verification."""

    borrower_id: str | None
    locked: bool
    locked_until: datetime | None
    failures: int
    attempts_left: int
    last_manual_verification: LastManualVerification | None


class ConversationVerificationState(VerificationState):
    """The verification state of the borrower a conversation verified as or last named."""

    conversation_id: str
    verified: bool


class ManualVerificationOut(Response):
    """The manual verification, recorded; the borrower's lock is cleared."""

    borrower_id: str
    agent: str
    method: str
    conversation_id: str | None
    verified_at: datetime
    lock_cleared: bool


class PolicyText(Response):
    key: str
    zh: str
    en: str


class PolicyTexts(Response):
    texts: list[PolicyText]


class PolicyTerms(Response):
    """The policy's figures a conversation says before any record exists."""

    dispute_reply_days: int
    contact_channels: list[Channel]
