"""content gates

candidates.filter_gate names the pipeline gate that refused a candidate (preflight, truth,
internals, fluency, siblings, safety; NULL for every candidate stored before, and for those no
gate refused): `approve` refuses one the platform's preflight refused, with its stored reason.
candidates.offers_used holds the brand profile's offers a promotional caption carries (JSON list;
NULL = none). Plain ADD COLUMN: existing rows keep their status and reason; no table is rebuilt.

Revision ID: i23a
Revises: i25
Create Date: 2026-12-06 03:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'i23a'
down_revision = 'i28a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('candidates', sa.Column('filter_gate', sa.String(16), nullable=True))
    op.add_column('candidates', sa.Column('offers_used', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('candidates', 'offers_used')  # plain DROP COLUMN (SQLite >= 3.35): no rebuild
    op.drop_column('candidates', 'filter_gate')
