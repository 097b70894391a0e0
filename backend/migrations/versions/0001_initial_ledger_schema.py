"""initial ledger schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 00:55:00.440904
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_api_clients_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_clients_token_hash")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("borrower_id", sa.String(length=36), nullable=True),
        sa.Column("loan_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_borrower_at", ["borrower_id", "at"], unique=False)

    op.create_table(
        "borrowers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("national_id_hash", sa.String(length=128), nullable=False),
        sa.Column("national_id_last4", sa.String(length=4), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("demo_key", sa.String(length=8), nullable=True),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("language IN ('zh', 'en')", name=op.f("ck_borrowers_language_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_borrowers")),
        sa.UniqueConstraint("demo_key", name=op.f("uq_borrowers_demo_key")),
        sa.UniqueConstraint("phone", name=op.f("uq_borrowers_phone")),
    )
    op.create_table(
        "verification_subjects",
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", ledger.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_verification_subjects")),
    )
    op.create_table(
        "contact_preferences",
        sa.Column("borrower_id", sa.String(length=36), nullable=False),
        sa.Column("stop_all", sa.Boolean(), nullable=False),
        sa.Column("opted_out_channels", sa.JSON(), nullable=False),
        sa.Column("updated_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.id"],
            name=op.f("fk_contact_preferences_borrower_id_borrowers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("borrower_id", name=op.f("pk_contact_preferences")),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("borrower_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_escalations_borrower_id_borrowers"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalations_conversation_id"), ["conversation_id"], unique=False)

    op.create_table(
        "loans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("loan_number", sa.String(length=32), nullable=False),
        sa.Column("borrower_id", sa.String(length=36), nullable=False),
        sa.Column("product", sa.String(length=32), nullable=False),
        sa.Column("principal", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("apr", ledger.db.types.ExactDecimal(8, 6), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("disbursed_on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("CAST(apr AS NUMERIC) < 1", name=op.f("ck_loans_apr_below_one")),
        sa.CheckConstraint("CAST(apr AS NUMERIC) >= 0", name=op.f("ck_loans_apr_non_negative")),
        sa.CheckConstraint("CAST(principal AS NUMERIC) > 0", name=op.f("ck_loans_principal_positive")),
        sa.CheckConstraint("term > 0 AND term <= 120", name=op.f("ck_loans_term_range")),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_loans_borrower_id_borrowers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("loan_number", name=op.f("uq_loans_loan_number")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_borrower_id"), ["borrower_id"], unique=False)

    op.create_table(
        "verification_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("borrower_id", sa.String(length=36), nullable=True),
        sa.Column("identifier_kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.id"],
            name=op.f("fk_verification_attempts_borrower_id_borrowers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_attempts")),
    )
    op.create_table(
        "verification_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("borrower_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.id"],
            name=op.f("fk_verification_sessions_borrower_id_borrowers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_verification_sessions_token_hash")),
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("borrower_id", sa.String(length=36), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("escalation_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_complaints_borrower_id_borrowers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_complaints_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column("borrower_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("reply_due_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_disputes_status_known")),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_disputes_borrower_id_borrowers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_disputes_loan_id_loans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint("case_number", name=op.f("uq_disputes_case_number")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "hardship_cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column("borrower_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("duration", sa.String(length=16), nullable=False),
        sa.Column("monthly_income", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("essential_expenses", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("other_debt_payments", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "CAST(essential_expenses AS NUMERIC) >= 0", name=op.f("ck_hardship_cases_essential_expenses_non_negative")
        ),
        sa.CheckConstraint(
            "CAST(monthly_income AS NUMERIC) >= 0", name=op.f("ck_hardship_cases_monthly_income_non_negative")
        ),
        sa.CheckConstraint(
            "CAST(other_debt_payments AS NUMERIC) >= 0", name=op.f("ck_hardship_cases_other_debt_payments_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.id"], name=op.f("fk_hardship_cases_borrower_id_borrowers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_hardship_cases_loan_id_loans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hardship_cases")),
    )
    with op.batch_alter_table("hardship_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hardship_cases_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "instalments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("principal", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("interest", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.CheckConstraint("CAST(amount AS NUMERIC) > 0", name=op.f("ck_instalments_amount_positive")),
        sa.CheckConstraint("CAST(interest AS NUMERIC) >= 0", name=op.f("ck_instalments_interest_non_negative")),
        sa.CheckConstraint("CAST(principal AS NUMERIC) >= 0", name=op.f("ck_instalments_principal_non_negative")),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_instalments_loan_id_loans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
        sa.UniqueConstraint("loan_id", "number", name=op.f("uq_instalments_loan_id")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=False),
        sa.Column("amount", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("CAST(amount AS NUMERIC) > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_payments_loan_id_loans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_payments_external_ref")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "promises",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column("amount", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("CAST(amount AS NUMERIC) > 0", name=op.f("ck_promises_amount_positive")),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_promises_loan_id_loans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises")),
    )
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promises_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "evaluations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column("hardship_case_id", sa.String(length=36), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hardship_case_id"],
            ["hardship_cases.id"],
            name=op.f("fk_evaluations_hardship_case_id_hardship_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_evaluations_loan_id_loans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluations_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "offers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("evaluation_id", sa.String(length=36), nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column("plan_type", sa.String(length=32), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("superseded_at", ledger.db.types.UTCDateTime(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluations.id"], name=op.f("fk_offers_evaluation_id_evaluations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_offers_loan_id_loans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_evaluation_id"), ["evaluation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "arrangements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("loan_id", sa.String(length=36), nullable=False),
        sa.Column("offer_id", sa.String(length=36), nullable=True),
        sa.Column("evaluation_id", sa.String(length=36), nullable=True),
        sa.Column("plan_type", sa.String(length=32), nullable=False),
        sa.Column("accepted_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=False),
        sa.Column("replaces", sa.JSON(), nullable=False),
        sa.Column("payment_frequency", sa.String(length=16), nullable=False),
        sa.Column("total_to_repay", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("waived_late_fees", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("waived_penalty_interest", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("waived_interest", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("holiday_months", sa.Integer(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "CAST(total_to_repay AS NUMERIC) >= 0", name=op.f("ck_arrangements_total_to_repay_non_negative")
        ),
        sa.CheckConstraint(
            "CAST(waived_interest AS NUMERIC) >= 0", name=op.f("ck_arrangements_waived_interest_non_negative")
        ),
        sa.CheckConstraint(
            "CAST(waived_late_fees AS NUMERIC) >= 0", name=op.f("ck_arrangements_waived_late_fees_non_negative")
        ),
        sa.CheckConstraint(
            "CAST(waived_penalty_interest AS NUMERIC) >= 0",
            name=op.f("ck_arrangements_waived_penalty_interest_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_arrangements_evaluation_id_evaluations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_arrangements_loan_id_loans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_arrangements_offer_id_offers"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrangements")),
        sa.UniqueConstraint("evaluation_id", name=op.f("uq_arrangements_evaluation_id")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_arrangements_offer_id")),
    )
    with op.batch_alter_table("arrangements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_arrangements_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "arrangement_instalments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("arrangement_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("principal", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("interest", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("penalty_interest", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.Column("late_fees", ledger.db.types.ExactDecimal(14, 2), nullable=False),
        sa.CheckConstraint(
            "CAST(late_fees AS NUMERIC) >= 0", name=op.f("ck_arrangement_instalments_late_fees_non_negative")
        ),
        sa.CheckConstraint(
            "CAST(penalty_interest AS NUMERIC) >= 0",
            name=op.f("ck_arrangement_instalments_penalty_interest_non_negative"),
        ),
        sa.CheckConstraint("CAST(amount AS NUMERIC) >= 0", name=op.f("ck_arrangement_instalments_amount_non_negative")),
        sa.CheckConstraint(
            "CAST(interest AS NUMERIC) >= 0", name=op.f("ck_arrangement_instalments_interest_non_negative")
        ),
        sa.CheckConstraint(
            "CAST(principal AS NUMERIC) >= 0", name=op.f("ck_arrangement_instalments_principal_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["arrangement_id"],
            ["arrangements.id"],
            name=op.f("fk_arrangement_instalments_arrangement_id_arrangements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrangement_instalments")),
        sa.UniqueConstraint("arrangement_id", "number", name=op.f("uq_arrangement_instalments_arrangement_id")),
    )

    if op.get_bind().dialect.name == "postgresql":
        # The audit log is append-only: the database itself refuses to change history.
        op.execute(
            """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
            END;
            $$;
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("arrangement_instalments")
    with op.batch_alter_table("arrangements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_arrangements_loan_id"))

    op.drop_table("arrangements")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_loan_id"))
        batch_op.drop_index(batch_op.f("ix_offers_evaluation_id"))

    op.drop_table("offers")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_loan_id"))

    op.drop_table("evaluations")
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promises_loan_id"))

    op.drop_table("promises")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_loan_id"))

    op.drop_table("payments")
    op.drop_table("instalments")
    with op.batch_alter_table("hardship_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hardship_cases_loan_id"))

    op.drop_table("hardship_cases")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_loan_id"))

    op.drop_table("disputes")
    op.drop_table("complaints")
    op.drop_table("verification_sessions")
    op.drop_table("verification_attempts")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loans_borrower_id"))

    op.drop_table("loans")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_conversation_id"))

    op.drop_table("escalations")
    op.drop_table("contact_preferences")
    op.drop_table("verification_subjects")
    op.drop_table("borrowers")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_borrower_at")

    op.drop_table("audit_log")
    op.drop_table("api_clients")
