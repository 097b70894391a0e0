"""Domain errors: one root (LedgerError), a few specific subclasses.

The web layer maps each class to one stable problem code (docs/contracts.md), so every
error a service may raise lives here. Eligibility never raises: it returns decisions with
reasons; these errors are for requests that cannot be carried out.
"""

from __future__ import annotations

from datetime import date, datetime


class LedgerError(Exception):
    """Root of every error raised by the ledger's domain and services."""

    code = "ledger_error"


class PolicyError(LedgerError):
    """The policy file is invalid; ``key`` is the dotted key path at fault (None if the whole file)."""

    code = "policy_error"

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class InvalidAmount(LedgerError, ValueError):
    """An amount is not an exact non-negative 2-place decimal (or is out of the allowed range)."""

    code = "invalid_request"


class PromiseRejected(LedgerError):
    """A promise to pay cannot be recorded; ``reason`` is one of PROMISE_REJECTION_REASONS. A date
    out of the window also names the latest date allowed (``latest_date``, ``max_days`` after today)."""

    code = "promise_rejected"

    def __init__(
        self,
        reason: str,
        detail: str = "",
        *,
        earliest: date | None = None,
        latest: date | None = None,
        max_days: int | None = None,
    ) -> None:
        super().__init__(detail or reason)
        self.reason = reason
        # date_out_of_window: the dates a promise may carry (the borrower is told the latest)
        self.earliest_date = earliest
        self.latest_date = latest
        self.max_days = max_days


PROMISE_REJECTION_REASONS = (
    "date_out_of_window",
    "amount_out_of_range",
    "open_promise_exists",
    "dispute_open",
    "too_many_broken_promises",
    "nothing_owed",
)


class OfferNotEligible(LedgerError):
    """An offer was asked for (or accepted) for a plan the borrower is not eligible for."""

    code = "offer_not_eligible"


class HardshipCaseMissing(LedgerError):
    """Plans were asked for on a loan whose borrower has given no hardship answers yet."""

    code = "no_hardship_case"


class NotFound(LedgerError):
    """The object does not exist or is not visible to the caller (existence is not revealed)."""

    code = "not_found"


class VerificationFailed(LedgerError):
    """Identity details did not match; ``attempts_left`` before the lock."""

    code = "verification_failed"

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"verification failed; {attempts_left} attempts left")
        self.attempts_left = attempts_left


class VerificationLocked(LedgerError):
    """Too many failed verifications; locked until ``locked_until``."""

    code = "verification_locked"

    def __init__(self, locked_until: datetime) -> None:
        super().__init__(f"verification locked until {locked_until.isoformat()}")
        self.locked_until = locked_until


class VerificationRateLimited(LedgerError):
    """Too many failed verifications from one client (client_ref), whichever borrowers they
    named; ``retry_after`` seconds until its window ends. No borrower's count was touched."""

    code = "verification_rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed verifications from this client; retry in {retry_after} s")
        self.retry_after = retry_after


class VerificationRequired(LedgerError):
    """A borrower-scoped call came without a valid, unexpired verification token."""

    code = "verification_required"


class OfferExpired(LedgerError):
    """The offer's validity (``relief.offer_expiry_hours`` after its evaluation) is over."""

    code = "offer_expired"


class OfferSuperseded(LedgerError):
    """A newer evaluation replaced this offer."""

    code = "offer_superseded"


class OfferAlreadyAccepted(LedgerError):
    """This offer (or another of the same evaluation) was already accepted."""

    code = "offer_already_accepted"


class ArrangementExists(LedgerError):
    """The loan already has an active arrangement; a second one cannot start."""

    code = "arrangement_exists"


class DisputeOpen(LedgerError):
    """An open dispute pauses collection: no offers, promises or outbound contact."""

    code = "dispute_open"

    def __init__(
        self,
        message: str = "an open dispute pauses collection",
        case_number: str | None = None,
        reply_due_by: date | None = None,
    ) -> None:
        super().__init__(message)
        self.case_number = case_number
        self.reply_due_by = reply_due_by


class DuplicatePaymentConflict(LedgerError):
    """A payment's external reference was already recorded with different data."""

    code = "duplicate_payment_conflict"


class PromiseNotOpen(LedgerError):
    """The promise to replace is kept, broken or already replaced: only an open one can be."""

    code = "promise_not_open"


class DisputeNotOpen(LedgerError):
    """The dispute to withdraw is not open (withdrawn or resolved already)."""

    code = "dispute_not_open"


class ComplaintNotOpen(LedgerError):
    """The complaint to withdraw was withdrawn already."""

    code = "complaint_not_open"


class WithdrawalWindowClosed(LedgerError):
    """A dispute or complaint is withdrawn by the borrower only from the conversation that filed
    it and within ``withdrawals.window_hours`` of filing; after that a person handles it."""

    code = "withdrawal_window_closed"


class LoanClosed(LedgerError):
    """The loan is paid off; the action is not possible any more."""

    code = "loan_closed"
