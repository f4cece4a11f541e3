"""imported posts: the tone and audience their captions were written in, as guessed

imported_posts.tone / imported_posts.audience: what generator/textgen/style.py (a classifier fitted
on the writer's corpus) makes of an imported caption, in the writer's labels (e.g. "funny",
"general"), so the ranker's tone and audience effects learn from the account's history too; NULL when
it was not sure, or for posts imported before this revision until the next import run reads them.
Plain ADD COLUMN: no table is rebuilt.

Revision ID: r25_style
Revises: r25_warm
Create Date: 2026-12-06 16:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'r25_style'
down_revision = 'r25_warm'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("imported_posts", sa.Column("tone", sa.String(32), nullable=True))
    op.add_column("imported_posts", sa.Column("audience", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imported_posts") as batch:
        batch.drop_column("audience")
        batch.drop_column("tone")
