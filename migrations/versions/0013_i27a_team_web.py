"""web admin team: roles, database sessions, review links

web_users.role: admin, editor or viewer; every existing web user becomes an admin (they could do
everything before). web_sessions: logged-in sessions survive a restart of `memeloop web`; only the
SHA-256 of the cookie's token is stored. review_links: a link for one candidate, thread or post
that approves or rejects once without an account; only the SHA-256 of its token is stored.
Plain ADD COLUMN and two new tables: no table is rebuilt, so triggers and views stay as they are.

Revision ID: i27a
Revises: i24a
Create Date: 2026-12-06 06:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'i27a'
down_revision = 'i24a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('web_users', sa.Column('role', sa.String(length=16), server_default='admin', nullable=False))
    op.create_table(
        'web_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('flash', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['web_users.id'], name=op.f('fk_web_sessions_user_id_web_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash')),
    )
    op.create_index(op.f('ix_web_sessions_user_id'), 'web_sessions', ['user_id'], unique=False)
    op.create_table(
        'review_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=48), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('decision', sa.String(length=16), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('candidate', 'thread', 'post')", name=op.f('ck_review_links_kind')),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                                name=op.f('fk_review_links_candidate_id_candidates')),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_review_links_post_id_posts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_review_links_token_hash')),
    )
    op.create_index(op.f('ix_review_links_candidate_id'), 'review_links', ['candidate_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_review_links_candidate_id'), table_name='review_links')
    op.drop_table('review_links')
    op.drop_index(op.f('ix_web_sessions_user_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_column('web_users', 'role')  # SQLite >= 3.35 drops a column in place
