"""content systems: photo captions, text memes and story threads

- candidates.generator and generations.generator also take 'photo' (captions in a tone for a
  user's photo), 'textmeme' (a text placed on the template it is most like) and 'story' (a thread);
- thread_parts: the ordered parts of a story candidate as the writer wrote them, with what
  regenerates each (seed, steer); the thread as reviewed is the candidate's text;
- post_parts: per post, each part's own publishing state, marker and remote id, so a thread goes
  out exactly once per part and resumes at the next part after a crash.

Widening the CHECK constraint changes no stored row, so nothing is rebuilt: PostgreSQL drops and
adds the constraint; SQLite edits the constraint's text in the table's stored definition (the
procedure SQLite's ALTER TABLE documentation gives for changes that leave the on-disk content
alone), so 0008's triggers on candidates and the v_* views stay exactly as they are. A batch
rebuild would drop those triggers and need every view re-created.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OLD_GENERATORS = ("meme", "post", "manual")
NEW_GENERATORS = (*OLD_GENERATORS, "photo", "textmeme", "story")


def _generators(values: tuple[str, ...]) -> str:
    return f"generator IN ({', '.join(repr(v) for v in values)})"


def _set_generators(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    for table in ("generations", "candidates"):
        name = f"ck_{table}_generator"
        if bind.dialect.name != "sqlite":
            op.drop_constraint(op.f(name), table, type_="check")
            op.create_check_constraint(op.f(name), table, _generators(new))
            continue
        sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                           {"t": table}).scalar()
        before = f"CONSTRAINT {name} CHECK ({_generators(old)})"
        if sql is None or sql.count(before) != 1:
            raise RuntimeError(f"{table}: cannot find its constraint {name} as {before!r}")
        version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
        bind.execute(sa.text("PRAGMA writable_schema = ON"))
        bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
                     {"sql": sql.replace(before, f"CONSTRAINT {name} CHECK ({_generators(new)})"), "t": table})
        bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))  # connections re-read the schema
        bind.execute(sa.text("PRAGMA writable_schema = OFF"))
    if bind.dialect.name == "sqlite":
        problems = bind.execute(sa.text("PRAGMA integrity_check")).scalars().all()
        if problems != ["ok"]:
            raise RuntimeError(f"integrity check after widening the generator constraint: {problems[:3]}")


def upgrade() -> None:
    _set_generators(OLD_GENERATORS, NEW_GENERATORS)
    op.create_table(
        'thread_parts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('original_text', sa.Text(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                                name=op.f('fk_thread_parts_candidate_id_candidates')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_parts')),
        sa.UniqueConstraint('candidate_id', 'position', name='uq_thread_parts_candidate_position'),
    )
    op.create_table(
        'post_parts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('marker', sa.String(length=80), nullable=False),
        sa.Column('remote_id', sa.String(length=128), nullable=True),
        sa.Column('remote_url', sa.Text(), nullable=True),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'sending', 'published')", name=op.f('ck_post_parts_state')),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_parts_post_id_posts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_post_parts')),
        sa.UniqueConstraint('marker', name=op.f('uq_post_parts_marker')),
        sa.UniqueConstraint('post_id', 'position', name='uq_post_parts_post_position'),
    )


def downgrade() -> None:
    op.drop_table('post_parts')
    op.drop_table('thread_parts')
    new = ", ".join(repr(g) for g in NEW_GENERATORS[len(OLD_GENERATORS):])
    for table in ("candidates", "generations"):  # never drop someone's rows to fit the old constraint
        count = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {table} WHERE generator IN ({new})")).scalar()
        if count:
            raise RuntimeError(f"{table}: {count} rows use generators added by 0009 ({new}); delete them first")
    _set_generators(NEW_GENERATORS, OLD_GENERATORS)
