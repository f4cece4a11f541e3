"""hot path indexes

Indexes that keep the daemon's per-tick queries flat in history size:
- ix_posts_published_at: `posts_to_poll` reads only posts inside the poll horizon, and the duplicate
  guard finds posts published in its window;
- ix_posts_scheduled_at: the duplicate guard's "due to post in the window" arm;
- ix_metric_snapshots_post_age: a post's last (or first-after-an-age) snapshot age is one index seek.

Plain CREATE INDEX: no table is rebuilt, so the v_* views of 0002 stay as they are (SQLite too).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_posts_published_at", "posts", ["published_at"]),
    ("ix_posts_scheduled_at", "posts", ["scheduled_at"]),
    ("ix_metric_snapshots_post_age", "metric_snapshots", ["post_id", "age_s"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
