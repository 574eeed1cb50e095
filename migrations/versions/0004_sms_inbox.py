"""The SMS inbox: every accepted SMS is stored before the webhook answers, so a killed process loses none.

The sender is the pseudonym (the number needed to reply stays in sms_contacts); the provider's message id is
kept hashed and unique, so a retried webhook is refused; claimed_by/claimed_at are the lease another process
takes over when the one holding the row dies.

Revision ID: 0004
Revises: 0003
Created: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_key"),
    )
    op.create_index("ix_sms_inbox_pseudonym", "sms_inbox", ["pseudonym"], unique=False)
    op.create_index("ix_sms_inbox_state_claimed_at", "sms_inbox", ["state", "claimed_at"], unique=False)
    op.create_index("ix_sms_inbox_accepted_at", "sms_inbox", ["accepted_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sms_inbox_accepted_at", table_name="sms_inbox")
    op.drop_index("ix_sms_inbox_state_claimed_at", table_name="sms_inbox")
    op.drop_index("ix_sms_inbox_pseudonym", table_name="sms_inbox")
    op.drop_table("sms_inbox")
