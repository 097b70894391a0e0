"""Slot and form names that several modules share (declared in bot/domain/slots.yml and forms.yml)."""

from __future__ import annotations

VERIFICATION_FORM = "verification_form"
HARDSHIP_FORM = "hardship_form"

# The verification form's questions: they only ever hold the vault's mask, and the messages that
# answer them never reach an escalation summary.
IDENTITY_SLOTS = ("identity_phone", "identity_dob", "identity_id_last4")
# The hardship form's questions, in the order the form asks them.
HARDSHIP_SLOTS = ("hardship_reason", "hardship_duration", "monthly_income", "essential_expenses", "other_debt_payments")
# The borrower's loans once verified: [{loan_number, product, overdue}] (actions/loans.py).
BORROWER_LOANS = "borrower_loans"
