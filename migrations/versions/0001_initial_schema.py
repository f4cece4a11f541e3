"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:17:54.736342
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('handle', sa.String(length=128), nullable=True),
    sa.Column('hashtag_cap', sa.Integer(), nullable=False),
    sa.Column('paused_until', sa.DateTime(), nullable=True),
    sa.Column('pause_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("platform IN ('outbox', 'x', 'instagram')", name=op.f('ck_accounts_platform')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('name', name=op.f('uq_accounts_name'))
    )
    op.create_table('heartbeats',
    sa.Column('process', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=128), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('beat_at', sa.DateTime(), nullable=False),
    sa.Column('jobs', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('process', name=op.f('pk_heartbeats'))
    )
    op.create_table('templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('image_path', sa.Text(), nullable=False),
    sa.Column('image_sha256', sa.String(length=64), nullable=False),
    sa.Column('boxes', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_templates')),
    sa.UniqueConstraint('slug', name=op.f('uq_templates_slug'))
    )
    op.create_table('generations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('generator', sa.String(length=16), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('timings', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("generator IN ('meme', 'post', 'manual')", name=op.f('ck_generations_generator')),
    sa.CheckConstraint("status IN ('running', 'ok', 'failed')", name=op.f('ck_generations_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_generations_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_generations'))
    )
    op.create_table('rate_limits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=128), nullable=False),
    sa.Column('limit', sa.Integer(), nullable=True),
    sa.Column('remaining', sa.Integer(), nullable=True),
    sa.Column('reset_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_rate_limits_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_limits')),
    sa.UniqueConstraint('account_id', 'endpoint', name='uq_rate_limits_account_endpoint')
    )
    op.create_table('candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('generator', sa.String(length=16), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('group_key', sa.String(length=64), nullable=True),
    sa.Column('beam_rank', sa.Integer(), nullable=True),
    sa.Column('beam_score', sa.Float(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('original_text', sa.Text(), nullable=False),
    sa.Column('tone', sa.String(length=32), nullable=True),
    sa.Column('audience', sa.String(length=32), nullable=True),
    sa.Column('gan_seed', sa.BigInteger(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('image_path', sa.Text(), nullable=True),
    sa.Column('source_image_path', sa.Text(), nullable=True),
    sa.Column('image_sha256', sa.String(length=64), nullable=True),
    sa.Column('image_phash', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('predicted_score', sa.Float(), nullable=True),
    sa.Column('predicted_explain', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("generator IN ('meme', 'post', 'manual')", name=op.f('ck_candidates_generator')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'filtered', 'duplicate', 'posted')", name=op.f('ck_candidates_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_candidates_account_id_accounts')),
    sa.ForeignKeyConstraint(['generation_id'], ['generations.id'], name=op.f('fk_candidates_generation_id_generations')),
    sa.ForeignKeyConstraint(['template_id'], ['templates.id'], name=op.f('fk_candidates_template_id_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidates'))
    )
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.create_index('ix_candidates_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_candidates_group_key', ['group_key'], unique=False)
        batch_op.create_index('ix_candidates_status_score', ['status', 'predicted_score'], unique=False)

    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('marker', sa.String(length=64), nullable=False),
    sa.Column('remote_id', sa.String(length=128), nullable=True),
    sa.Column('remote_url', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('error_class', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state IN ('scheduled', 'publishing', 'published', 'failed', 'unconfirmed', 'cancelled')", name=op.f('ck_posts_state')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_posts_account_id_accounts')),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_posts_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts')),
    sa.UniqueConstraint('candidate_id', 'account_id', name='uq_posts_candidate_account'),
    sa.UniqueConstraint('marker', name=op.f('uq_posts_marker'))
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_account_state', ['account_id', 'state'], unique=False)
        batch_op.create_index('ix_posts_state_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('before_text', sa.Text(), nullable=True),
    sa.Column('after_text', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_reviews_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('metric_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.Column('age_s', sa.Integer(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=True),
    sa.Column('reposts', sa.Integer(), nullable=True),
    sa.Column('replies', sa.Integer(), nullable=True),
    sa.Column('quotes', sa.Integer(), nullable=True),
    sa.Column('impressions', sa.Integer(), nullable=True),
    sa.Column('bookmarks', sa.Integer(), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=True),
    sa.Column('views', sa.Integer(), nullable=True),
    sa.Column('raw', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_metric_snapshots_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_snapshots'))
    )
    with op.batch_alter_table('metric_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_metric_snapshots_post_taken', ['post_id', 'taken_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('metric_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_metric_snapshots_post_taken')

    op.drop_table('metric_snapshots')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_candidate_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_state_due')
        batch_op.drop_index('ix_posts_account_state')

    op.drop_table('posts')
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_candidates_status_score')
        batch_op.drop_index('ix_candidates_group_key')
        batch_op.drop_index('ix_candidates_created_at')

    op.drop_table('candidates')
    op.drop_table('rate_limits')
    op.drop_table('generations')
    op.drop_table('templates')
    op.drop_table('heartbeats')
    op.drop_table('accounts')
