"""web admin users

Admin users of the web admin (`memeloop users add`): a name and a salted scrypt hash of the
password (never the password). And an index in the review order, so any page of the review board
(and `queue list --offset`) walks an index instead of sorting every pending candidate; NULL scores
sort last as the query asks (SQLite's DESC does that already, PostgreSQL's needs NULLS LAST).
And posts by (account, state, scheduled_at): an account's latest scheduled post (where approve and
the board's free slots start) is one seek; without it SQLite walked every post by scheduled_at.
A new table and a plain CREATE INDEX: no table is rebuilt, so the v_* views of 0002 stay as they are.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 10:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=256), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_login_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_users')),
        sa.UniqueConstraint('name', name=op.f('uq_web_users_name')),
    )
    last = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.create_index('ix_candidates_review_order', 'candidates',
                    ['status', sa.text(f'predicted_score DESC{last}'), sa.text(f'beam_score DESC{last}'),
                     'created_at', 'id'], unique=False)
    op.create_index('ix_posts_account_state_scheduled', 'posts', ['account_id', 'state', 'scheduled_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_posts_account_state_scheduled', table_name='posts')
    op.drop_index('ix_candidates_review_order', table_name='candidates')
    op.drop_table('web_users')
