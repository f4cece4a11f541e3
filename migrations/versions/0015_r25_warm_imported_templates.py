"""imported posts: the template their picture was made on

imported_posts.template: the slug of the library template an imported post's picture was recognised
as (generator/image_match.py), NULL when it has no picture, the picture could not be read or it is no
template; imported_posts.template_score: the recognition's score for the best template (NULL when no
picture was compared), so a later, stricter threshold can be applied without reading the pictures
again. Posts imported before this revision keep NULL (unknown). Plain ADD COLUMN: no table is rebuilt.

Revision ID: r25_warm (alembic refuses '-' in a revision id: the branch name with '_')
Revises: i27b
Create Date: 2026-12-06 10:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'r25_warm'
down_revision = 'i27b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("imported_posts", sa.Column("template", sa.String(128), nullable=True))
    op.add_column("imported_posts", sa.Column("template_score", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imported_posts") as batch:
        batch.drop_column("template_score")
        batch.drop_column("template")
