"""content systems: photo captions, text memes and story threads

- candidates.generator and generations.generator also take 'photo' (captions in a tone for a
  user's photo), 'textmeme' (a text placed on the template it is most like) and 'story' (a thread);
- thread_parts: the ordered parts of a story candidate as the writer wrote them, with what
  regenerates each (seed, steer); the thread as reviewed is the candidate's text;
- post_parts: per post, each part's own publishing state, marker and remote id, so a thread goes
  out exactly once per part and resumes at the next part after a crash.

Widening a CHECK constraint rebuilds candidates and generations on SQLite (batch mode), so the v_*
views are dropped first and created again. Their SQL is written out here as it stood at 0003 (a
snapshot, not an import), so this revision keeps meaning what it meant when it was applied.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 10:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None

OLD_GENERATORS = ("meme", "post", "manual")
NEW_GENERATORS = (*OLD_GENERATORS, "photo", "textmeme", "story")

WEIGHT_NAMES = ("likes", "reposts", "replies", "quotes", "bookmarks", "comments")
DIMENSIONS = ("generator", "template", "beam_rank", "tone", "audience", "hour", "account")
# Created in this order, dropped in reverse (later views read earlier ones).
VIEWS = ("v_post_engagement", *(f"v_engagement_by_{d}" for d in DIMENSIONS), "v_engagement_daily",
         "v_approval", "v_approval_daily", "v_model_versions")


def _expr(dialect: str) -> dict[str, str]:
    if dialect == "postgresql":
        return {"day": "to_char(p.published_at, 'YYYY-MM-DD')",
                "hour": "CAST(EXTRACT(HOUR FROM p.published_at) AS INTEGER)",
                "cday": "to_char(created_at, 'YYYY-MM-DD')"}
    # SQLite keeps DateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' text: slicing it is cheaper than date()
    return {"day": "substr(p.published_at, 1, 10)", "hour": "CAST(substr(p.published_at, 12, 2) AS INTEGER)",
            "cday": "substr(created_at, 1, 10)"}


def _post_engagement(e: dict[str, str]) -> str:
    return f"""
CREATE VIEW v_post_engagement AS
SELECT p.id AS post_id, a.name AS account, c.id AS candidate_id, c.generator, c.model_version,
       t.slug AS template, c.beam_rank, c.tone, c.audience, c.text, p.remote_url,
       p.published_at, {e['day']} AS day, {e['hour']} AS hour,
       m.taken_at AS measured_at, m.age_s, m.likes, m.reposts, m.replies, m.quotes, m.comments,
       m.impressions, m.views,
       {ENGAGEMENT} AS engagement
FROM posts p
JOIN accounts a ON a.id = p.account_id
JOIN candidates c ON c.id = p.candidate_id
LEFT JOIN templates t ON t.id = c.template_id
LEFT JOIN post_metrics_latest m ON m.post_id = p.id
WHERE p.state = 'published'
"""


# The configured engagement formula (engagement_weights), as 0003 wrote it.
WEIGHTED = ("CASE WHEN m.post_id IS NULL THEN NULL ELSE "
            + " + ".join(f"COALESCE(m.{n}, 0) * COALESCE((SELECT w.weight FROM engagement_weights w "
                         f"WHERE w.name = '{n}'), 0)" for n in WEIGHT_NAMES) + " END")
ENGAGEMENT = WEIGHTED  # rebound by _create_views


def _grouped(keys: list[str], *, candidates: bool) -> str:
    """Posts folded by account id and ``keys`` (integer and short keys; names are joined after)."""
    join = "JOIN candidates c ON c.id = p.candidate_id " if candidates else ""
    cols = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
    positions = ", ".join(str(i + 2) for i in range(len(keys)))
    # +p.account_id: keep SQLite scanning the table (the account index would cost a lookup per row)
    return f"""(SELECT +p.account_id AS account_id{', ' + cols if cols else ''}, COUNT(*) AS posts,
              COUNT({ENGAGEMENT}) AS measured, SUM({ENGAGEMENT}) AS total_engagement,
              MAX({ENGAGEMENT}) AS best
       FROM posts p {join}LEFT JOIN post_metrics_latest m ON m.post_id = p.id
       WHERE p.state = 'published' GROUP BY 1{', ' + positions if positions else ''}) g"""


MEASURES = ("g.posts, g.measured, g.total_engagement, "
            "g.total_engagement * 1.0 / NULLIF(g.measured, 0) AS mean_engagement, g.best")


def _by(dimension: str, e: dict[str, str]) -> str:
    if dimension == "account":
        return (f"CREATE VIEW v_engagement_by_account AS SELECT a.name AS account, {MEASURES} "
                f"FROM {_grouped([], candidates=False)} JOIN accounts a ON a.id = g.account_id")
    if dimension == "template":
        return (f"CREATE VIEW v_engagement_by_template AS SELECT a.name AS account, t.slug AS template, "
                f"{MEASURES} FROM {_grouped(['c.template_id'], candidates=True)} "
                "JOIN accounts a ON a.id = g.account_id LEFT JOIN templates t ON t.id = g.k0")
    key = e["hour"] if dimension == "hour" else f"c.{dimension}"
    return (f"CREATE VIEW v_engagement_by_{dimension} AS SELECT a.name AS account, g.k0 AS {dimension}, "
            f"{MEASURES} FROM {_grouped([key], candidates=dimension != 'hour')} "
            "JOIN accounts a ON a.id = g.account_id")


def _daily(e: dict[str, str]) -> str:
    return (f"CREATE VIEW v_engagement_daily AS SELECT a.name AS account, g.k0 AS day, {MEASURES} "
            f"FROM {_grouped([e['day']], candidates=False)} JOIN accounts a ON a.id = g.account_id")


DECISIONS = """COUNT(*) AS candidates,
       SUM(CASE WHEN status IN ('approved', 'posted') THEN 1 ELSE 0 END) AS approved,
       SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS rejected,
       SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
       SUM(CASE WHEN status = 'filtered' THEN 1 ELSE 0 END) AS filtered,
       SUM(CASE WHEN status = 'duplicate' THEN 1 ELSE 0 END) AS duplicate"""

# Aggregate first, name the account after: the join then touches a handful of rows, not every candidate.
APPROVAL = f"""
CREATE VIEW v_approval AS
SELECT a.name AS account, g.generator, g.model_version, g.candidates, g.approved, g.rejected, g.pending,
       g.filtered, g.duplicate, COALESCE(x.edited, 0) AS edited
FROM (SELECT account_id, generator, model_version, {DECISIONS}
      FROM candidates GROUP BY account_id, generator, model_version) g
LEFT JOIN accounts a ON a.id = g.account_id
LEFT JOIN (SELECT c.account_id, c.generator, c.model_version, COUNT(DISTINCT r.candidate_id) AS edited
           FROM reviews r JOIN candidates c ON c.id = r.candidate_id WHERE r.action = 'edit'
           GROUP BY c.account_id, c.generator, c.model_version) x
  ON x.account_id IS NOT DISTINCT FROM g.account_id AND x.generator = g.generator
 AND x.model_version = g.model_version
"""


def _approval_daily(e: dict[str, str]) -> str:
    return f"""
CREATE VIEW v_approval_daily AS
SELECT a.name AS account, g.day, g.candidates, g.approved, g.rejected, g.pending, g.filtered, g.duplicate
FROM (SELECT account_id, {e['cday']} AS day, {DECISIONS} FROM candidates GROUP BY account_id, {e['cday']}) g
LEFT JOIN accounts a ON a.id = g.account_id
"""


# One pass over each source, stacked and folded (a join on three nullable keys would need a
# temporary index per query).
def _model_versions() -> str:
    return f"""
CREATE VIEW v_model_versions AS
SELECT account, generator, model_version, SUM(candidates) AS candidates, SUM(approved) AS approved,
       SUM(rejected) AS rejected, SUM(edited) AS edited, SUM(posts) AS posts, SUM(measured) AS measured,
       SUM(total_engagement) AS total_engagement,
       SUM(total_engagement) * 1.0 / NULLIF(SUM(measured), 0) AS mean_engagement
FROM (SELECT account, generator, model_version, candidates, approved, rejected, edited,
             0 AS posts, 0 AS measured, NULL AS total_engagement
      FROM v_approval
      UNION ALL
      SELECT a.name, g.k0, g.k1, 0, 0, 0, 0, g.posts, g.measured, g.total_engagement
      FROM {_grouped(["c.generator", "c.model_version"], candidates=True)}
      JOIN accounts a ON a.id = g.account_id) u
GROUP BY account, generator, model_version
"""



def _drop_views() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")


def _create_views(engagement: str) -> None:
    global ENGAGEMENT  # the view builders above read it, as in 0002
    ENGAGEMENT = engagement
    e = _expr(op.get_bind().dialect.name)
    op.execute(_post_engagement(e))
    for dimension in DIMENSIONS:
        op.execute(_by(dimension, e))
    op.execute(_daily(e))
    op.execute(APPROVAL)
    op.execute(_approval_daily(e))
    op.execute(_model_versions())


def _generators(values: tuple[str, ...]) -> str:
    return f"generator IN ({', '.join(repr(v) for v in values)})"


def _set_generators(values: tuple[str, ...]) -> None:
    # SQLite: a batch rebuild drops the old table while posts and reviews point at it; feedback.migrate
    # runs migrations with foreign keys off and checks them all before committing.
    for table in ("generations", "candidates"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_generator"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_generator"), _generators(values))


def upgrade() -> None:
    _drop_views()
    _set_generators(NEW_GENERATORS)
    _create_views(WEIGHTED)
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
    _drop_views()
    new = ", ".join(repr(g) for g in NEW_GENERATORS[len(OLD_GENERATORS):])
    for table in ("candidates", "generations"):  # never drop someone's rows to fit the old constraint
        count = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {table} WHERE generator IN ({new})")).scalar()
        if count:
            raise RuntimeError(f"{table}: {count} rows use generators added by 0006 ({new}); delete them first")
    _set_generators(OLD_GENERATORS)
    _create_views(WEIGHTED)
