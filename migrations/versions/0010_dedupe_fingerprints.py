"""dedupe fingerprints

candidates.text_norm and candidates.text_tokens hold what the duplicate guard compares of a caption
(feedback.fingerprint): the normalised caption and its distinct token hashes, sorted, as int64
bytes. They are written with the text (the models' insert default, the review edit) and backfilled
here, so a run reads them instead of normalising and hashing every caption of the 30-day window.

NULL means "not known": the guard computes the fingerprint from the text then. A trigger keeps a
writer that changes the text without its fingerprint (raw SQL, a tool) from leaving a stale one:
it sets both to NULL (SQLite: AFTER UPDATE of the row; PostgreSQL: BEFORE UPDATE, on NEW).
Plain ADD COLUMN: no table is rebuilt, so 0008's triggers and the v_* views stay as they are.

The backfill uses feedback.fingerprint as it is now: a change to the normalisation or the hash
needs a new revision that recomputes the columns.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TRIGGER = "trg_candidates_fingerprint_stale"
BATCH = 5000
_TEXT_CHANGED_ALONE = ("NEW.text IS DISTINCT FROM OLD.text AND NEW.text_norm IS NOT DISTINCT FROM OLD.text_norm "
                       "AND NEW.text_tokens IS NOT DISTINCT FROM OLD.text_tokens")


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _backfill() -> None:
    from feedback.fingerprint import fingerprint

    bind = op.get_bind()
    select = sa.text("SELECT id, text FROM candidates WHERE id > :after ORDER BY id LIMIT :n")
    update = sa.text("UPDATE candidates SET text_norm = :norm, text_tokens = :tokens WHERE id = :id")
    update = update.bindparams(sa.bindparam("tokens", type_=sa.LargeBinary()))
    after = 0
    while rows := bind.execute(select, {"after": after, "n": BATCH}).all():
        values = []
        for cid, text in rows:
            norm, tokens = fingerprint(text)
            values.append({"id": cid, "norm": norm, "tokens": tokens})
        bind.execute(update, values)
        after = rows[-1][0]


def upgrade() -> None:
    op.add_column('candidates', sa.Column('text_norm', sa.Text(), nullable=True))
    op.add_column('candidates', sa.Column('text_tokens', sa.LargeBinary(), nullable=True))
    _backfill()
    if _pg():
        op.execute(f"CREATE FUNCTION {TRIGGER}_fn() RETURNS trigger AS $$ BEGIN IF {_TEXT_CHANGED_ALONE} THEN "
                   "NEW.text_norm := NULL; NEW.text_tokens := NULL; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
        op.execute(f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OF text ON candidates FOR EACH ROW "
                   f"EXECUTE FUNCTION {TRIGGER}_fn()")
    else:
        when = _TEXT_CHANGED_ALONE.replace("IS NOT DISTINCT FROM", "IS").replace("IS DISTINCT FROM", "IS NOT")
        op.execute(f"CREATE TRIGGER {TRIGGER} AFTER UPDATE OF text ON candidates WHEN {when} BEGIN "
                   "UPDATE candidates SET text_norm = NULL, text_tokens = NULL WHERE id = NEW.id; END")


def downgrade() -> None:
    op.execute(f"DROP TRIGGER {TRIGGER}" + (" ON candidates" if _pg() else ""))
    if _pg():
        op.execute(f"DROP FUNCTION {TRIGGER}_fn()")
    op.drop_column('candidates', 'text_tokens')
    op.drop_column('candidates', 'text_norm')
