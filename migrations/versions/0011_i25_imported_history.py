"""imported history: an account's own past posts and where their import stands

- imported_posts: one row per (account, remote id) read by `memeloop accounts import-history`, with
  the public counters at ``read_at`` (NULL = not reported). Not candidates and not in the post
  state machine: the ranker folds them in as a warm start and the best-time model reads when they
  went out. The unique (account_id, remote_id) makes a second import add nothing.
- history_imports: per account, the cursor of an unfinished run (limit, rate limit, error) and how
  far a finished pass reached, so a run resumes where the last one stopped.

New tables only: nothing existing is rebuilt, 0008's triggers and views stay as they are.

Revision ID: i25
Revises: 0010
Create Date: 2026-12-06 03:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'i25'
down_revision = '0010'
branch_labels = None
depends_on = None

COUNTS = ("likes", "reposts", "replies", "quotes", "impressions", "bookmarks", "comments", "views")


def upgrade() -> None:
    op.create_table(
        'imported_posts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('remote_id', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('media_count', sa.Integer(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=False),
        sa.Column('imported_at', sa.DateTime(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=True) for name in COUNTS),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_imported_posts_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_posts')),
        sa.UniqueConstraint('account_id', 'remote_id', name='uq_imported_posts_account_remote'),
    )
    op.create_index('ix_imported_posts_account_created', 'imported_posts', ['account_id', 'created_at'])
    op.create_table(
        'history_imports',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('cursor', sa.Text(), nullable=True),
        sa.Column('since', sa.DateTime(), nullable=True),
        sa.Column('newest_at', sa.DateTime(), nullable=True),
        sa.Column('done_until', sa.DateTime(), nullable=True),
        sa.Column('imported', sa.Integer(), nullable=False),
        sa.Column('skipped_own', sa.Integer(), nullable=False),
        sa.Column('resume_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_history_imports_account_id_accounts')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_history_imports')),
    )


def downgrade() -> None:
    op.drop_table('history_imports')
    op.drop_index('ix_imported_posts_account_created', table_name='imported_posts')
    op.drop_table('imported_posts')
