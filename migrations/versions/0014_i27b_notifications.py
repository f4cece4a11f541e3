"""webhook notifications

notifications: the durable outbox of webhook notices (bot/service/notify.py), one row per webhook and
event key (unique: an event found twice is told once), with its delivery state, attempts, next
attempt and lease. accounts.paused_at: when the current pause began, so each pause is told once
(NULL for accounts paused before this revision: they are told once, keyed on their pause end).
Plain CREATE TABLE and ADD COLUMN: no table is rebuilt, so triggers and views stay as they are.

Revision ID: i27b
Revises: i27a
Create Date: 2026-12-06 06:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'i27b'
down_revision = 'i27a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("paused_at", sa.DateTime(), nullable=True))
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("webhook", sa.String(40), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name="ck_notifications_state"),
        sa.UniqueConstraint("webhook", "key", name="uq_notifications_webhook_key"),
    )
    op.create_index("ix_notifications_state_due", "notifications", ["state", "next_attempt_at"])
    op.create_index("ix_notifications_event_created", "notifications", ["event", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_event_created", table_name="notifications")
    op.drop_index("ix_notifications_state_due", table_name="notifications")
    op.drop_table("notifications")
    op.drop_column("accounts", "paused_at")
