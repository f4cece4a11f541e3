"""learning state

Incremental learning (no read of all history per run): post_outcomes holds each published post's
engagement reading at the learning age, kept as snapshots arrive; learning_state holds the ranker's
sufficient statistics, folded into as outcomes and review decisions come in.

Backfill: every published post with snapshots gets its reading: the first snapshot at or after
24 h (the default `ranking.engagement_age`; a different configured age makes the code rebuild the
readings once, as does any change of weights), else its newest. learning_state starts empty and is
built from post_outcomes on first use. New tables only: no batch operation on existing tables, so
the v_* views of 0002 are untouched.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COUNTS = ("likes", "reposts", "replies", "quotes", "impressions", "bookmarks", "comments", "views")
BACKFILL_AGE_S = 24 * 3600


def upgrade() -> None:
    op.create_table(
        'post_outcomes',
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=False),
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('age_s', sa.Integer(), nullable=False),
        sa.Column('final', sa.Boolean(), nullable=False),
        sa.Column('features', sa.JSON(), nullable=True),
        sa.Column('target', sa.Float(), nullable=True),
        sa.Column('weight', sa.Float(), nullable=True),
        sa.Column('applied_step', sa.Float(), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=True) for name in COUNTS),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_post_outcomes_account_id_accounts')),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_outcomes_post_id_posts')),
        sa.ForeignKeyConstraint(['snapshot_id'], ['metric_snapshots.id'],
                                name=op.f('fk_post_outcomes_snapshot_id_metric_snapshots')),
        sa.PrimaryKeyConstraint('post_id', name=op.f('pk_post_outcomes')),
    )
    op.create_index('ix_post_outcomes_account_published', 'post_outcomes', ['account_id', 'published_at'],
                    unique=False)
    op.create_table(
        'learning_state',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('state', sa.LargeBinary(), nullable=False),
        sa.Column('last_review_id', sa.Integer(), nullable=False),
        sa.Column('observations', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_learning_state')),
    )
    counts = ", ".join(COUNTS)
    picked = ", ".join(f"s.{c}" for c in COUNTS)
    # A post's reading: the youngest snapshot at or past the age, else the newest one; a single
    # ORDER BY expresses both.
    op.execute(sa.text(f"""
        INSERT INTO post_outcomes (post_id, account_id, published_at, snapshot_id, age_s, final, {counts})
        SELECT p.id, p.account_id, p.published_at, s.id, s.age_s, s.age_s >= :age, {picked}
        FROM posts p JOIN metric_snapshots s ON s.id = (
            SELECT s2.id FROM metric_snapshots s2 WHERE s2.post_id = p.id
            ORDER BY CASE WHEN s2.age_s >= :age THEN s2.age_s ELSE 2000000000 - s2.age_s END, s2.id
            LIMIT 1)
        WHERE p.state = 'published' AND p.published_at IS NOT NULL
    """).bindparams(age=BACKFILL_AGE_S))


def downgrade() -> None:
    op.drop_table('learning_state')
    op.drop_index('ix_post_outcomes_account_published', table_name='post_outcomes')
    op.drop_table('post_outcomes')
