"""gateway: remember that the bot asked an identity question; redact what was stored before

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00

Earlier versions stored the borrower's identity answers (phone, date of birth, ID digits) in
``messages`` as typed. This revision masks them in place with the same rule the gateway now
applies when it stores a message (huanxin_redaction); a message that is nothing but an ID's
last four characters is replaced whole, since out of context it can only be that answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from huanxin_redaction import IDENTITY_ANSWER, mask_identity_numbers

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BARE_ID_DIGITS = re.compile(r"^\s*\d{3}[\dXx]\s*$")


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("awaiting_identity", sa.Boolean(), nullable=False, server_default=sa.false()))
    conn = op.get_bind()
    messages = sa.table(
        "messages", sa.column("id", sa.Integer), sa.column("sender", sa.String), sa.column("text", sa.Text)
    )
    rows = conn.execute(sa.select(messages.c.id, messages.c.text).where(messages.c.sender.in_(("borrower", "agent"))))
    for row_id, text in rows.fetchall():
        redacted = IDENTITY_ANSWER if _BARE_ID_DIGITS.match(text or "") else mask_identity_numbers(text)
        if redacted != text:
            conn.execute(messages.update().where(messages.c.id == row_id).values(text=redacted))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("awaiting_identity")
