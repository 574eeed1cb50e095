"""Conversation events written by Rasa's event broker (bot.event_broker), read by the usage figures.

Revision ID: 0002
Revises: 0001
Created: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("type_name", sa.String(length=255), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=True),
        sa.Column("intent_name", sa.String(length=255), nullable=True),
        sa.Column("action_name", sa.String(length=255), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_conversation_events_sender_id", "conversation_events", ["sender_id"], unique=False)
    op.create_index("ix_conversation_events_timestamp", "conversation_events", ["timestamp"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_conversation_events_timestamp", table_name="conversation_events")
    op.drop_index("ix_conversation_events_sender_id", table_name="conversation_events")
    op.drop_table("conversation_events")
