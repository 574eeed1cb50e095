"""The agents' desk: a role per agent account, internal notes, canned answers, callback outcomes for the figures.

Revision ID: 0003
Revises: 0002
Created: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database made before migrations gets its baseline tables from today's models, role included.
    if "role" not in {column["name"] for column in sa.inspect(op.get_bind()).get_columns("handoff_agents")}:
        with op.batch_alter_table("handoff_agents") as batch:
            batch.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default="agent"))
    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["handoff_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_handoff_notes_request_id"), "handoff_notes", ["request_id"], unique=False)
    op.create_table(
        "handoff_canned_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "handoff_callback_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("handoff_callback_outcomes")
    op.drop_table("handoff_canned_answers")
    op.drop_index(op.f("ix_handoff_notes_request_id"), table_name="handoff_notes")
    op.drop_table("handoff_notes")
    with op.batch_alter_table("handoff_agents") as batch:
        batch.drop_column("role")
