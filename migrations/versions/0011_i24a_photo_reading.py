"""photo reading on candidates

candidates.read_as and candidates.read_confidence: what the photo classifier read a captioned
photo (or a story's image) as, and how sure it was (0..1), so the review card and `queue show` can
say it. NULL for every other generator and for rows made before. Plain ADD COLUMN: no table is
rebuilt, so 0008's triggers, 0010's fingerprint trigger and the v_* views stay as they are.

Revision ID: i24a
Revises: i25
Create Date: 2026-12-06 03:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'i24a'
down_revision = 'i23a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("candidates", sa.Column("read_as", sa.String(200), nullable=True))
    op.add_column("candidates", sa.Column("read_confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place; batch mode would rebuild the table and its triggers
    op.drop_column("candidates", "read_confidence")
    op.drop_column("candidates", "read_as")
