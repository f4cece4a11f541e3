"""dashboard views

The `memeloop stats` queries as SQL views, so any SQLite (or PostgreSQL) tool can read them.
Views and triggers are not in the ORM metadata, so autogenerate ignores them. The SQL is written
out here (not imported) so this revision keeps meaning what it meant when it was applied.

post_metrics_latest holds each post's newest snapshot, kept by a trigger on metric_snapshots
inserts (any writer, any dialect): the dashboard reads one row per post instead of searching a
million snapshots per query. It is derived data; snapshots stay append-only.
Two covering indexes on candidates serve the approval views.

Engagement of a post = likes + 2*reposts + replies + quotes + comments of its newest snapshot
(the default ranking weights; unknown counts count as 0; NULL when never polled).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COUNTS = ("likes", "reposts", "replies", "quotes", "impressions", "bookmarks", "comments", "views")
DIMENSIONS = ("generator", "template", "beam_rank", "tone", "audience", "hour", "account")
# Created in this order, dropped in reverse (later views read earlier ones).
VIEWS = ("v_post_engagement", *(f"v_engagement_by_{d}" for d in DIMENSIONS), "v_engagement_daily",
         "v_approval", "v_approval_daily", "v_model_versions")
LATEST_COLUMNS = ("post_id", "snapshot_id", "taken_at", "age_s", *COUNTS)


def _expr(dialect: str) -> dict[str, str]:
    if dialect == "postgresql":
        return {"day": "to_char(p.published_at, 'YYYY-MM-DD')",
                "hour": "CAST(EXTRACT(HOUR FROM p.published_at) AS INTEGER)",
                "cday": "to_char(created_at, 'YYYY-MM-DD')"}
    # SQLite keeps DateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' text: slicing it is cheaper than date()
    return {"day": "substr(p.published_at, 1, 10)", "hour": "CAST(substr(p.published_at, 12, 2) AS INTEGER)",
            "cday": "substr(created_at, 1, 10)"}


def _create_latest() -> None:
    op.create_table(
        'post_metrics_latest',
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('taken_at', sa.DateTime(), nullable=False),
        sa.Column('age_s', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=True) for name in COUNTS),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_metrics_latest_post_id_posts')),
        sa.ForeignKeyConstraint(['snapshot_id'], ['metric_snapshots.id'],
                                name=op.f('fk_post_metrics_latest_snapshot_id_metric_snapshots')),
        sa.PrimaryKeyConstraint('post_id', name=op.f('pk_post_metrics_latest')),
    )
    cols = ", ".join(LATEST_COLUMNS)
    picked = ", ".join(f"s.{c}" for c in ("post_id", "id", "taken_at", "age_s", *COUNTS))
    op.execute(f"""
INSERT INTO post_metrics_latest ({cols})
SELECT {picked} FROM metric_snapshots s
WHERE s.id = (SELECT s2.id FROM metric_snapshots s2 WHERE s2.post_id = s.post_id
              ORDER BY s2.taken_at DESC, s2.id DESC LIMIT 1)
""")


def _upsert_latest() -> str:
    cols = ", ".join(LATEST_COLUMNS)
    values = ", ".join(f"NEW.{c}" for c in ("post_id", "id", "taken_at", "age_s", *COUNTS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in LATEST_COLUMNS[1:])
    return (f"INSERT INTO post_metrics_latest ({cols}) VALUES ({values}) "
            f"ON CONFLICT (post_id) DO UPDATE SET {updates} "
            "WHERE excluded.taken_at >= post_metrics_latest.taken_at;")


def _create_trigger(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(f"""
CREATE FUNCTION memeloop_post_metrics_latest() RETURNS trigger AS $$
BEGIN
  {_upsert_latest()}
  RETURN NEW;
END $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER trg_metric_snapshots_latest AFTER INSERT ON metric_snapshots "
                   "FOR EACH ROW EXECUTE FUNCTION memeloop_post_metrics_latest()")
    else:
        op.execute(f"CREATE TRIGGER trg_metric_snapshots_latest AFTER INSERT ON metric_snapshots "
                   f"BEGIN {_upsert_latest()} END")


def _post_engagement(e: dict[str, str]) -> str:
    return f"""
CREATE VIEW v_post_engagement AS
SELECT p.id AS post_id, a.name AS account, c.id AS candidate_id, c.generator, c.model_version,
       t.slug AS template, c.beam_rank, c.tone, c.audience, c.text, p.remote_url,
       p.published_at, {e['day']} AS day, {e['hour']} AS hour,
       m.taken_at AS measured_at, m.age_s, m.likes, m.reposts, m.replies, m.quotes, m.comments,
       m.impressions, m.views,
       CASE WHEN m.post_id IS NULL THEN NULL ELSE
         COALESCE(m.likes, 0) + 2 * COALESCE(m.reposts, 0) + COALESCE(m.replies, 0)
         + COALESCE(m.quotes, 0) + COALESCE(m.comments, 0) END AS engagement
FROM posts p
JOIN accounts a ON a.id = p.account_id
JOIN candidates c ON c.id = p.candidate_id
LEFT JOIN templates t ON t.id = c.template_id
LEFT JOIN post_metrics_latest m ON m.post_id = p.id
WHERE p.state = 'published'
"""


ENGAGEMENT = ("CASE WHEN m.post_id IS NULL THEN NULL ELSE COALESCE(m.likes, 0) + 2 * COALESCE(m.reposts, 0)"
              " + COALESCE(m.replies, 0) + COALESCE(m.quotes, 0) + COALESCE(m.comments, 0) END")


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
MODEL_VERSIONS = f"""
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


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    e = _expr(dialect)
    _create_latest()
    _create_trigger(dialect)
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.create_index('ix_candidates_stats', ['account_id', 'generator', 'model_version', 'status'],
                              unique=False)
        batch_op.create_index('ix_candidates_stats_day', ['account_id', 'created_at', 'status'], unique=False)
    op.execute(_post_engagement(e))
    for dimension in DIMENSIONS:
        op.execute(_by(dimension, e))
    op.execute(_daily(e))
    op.execute(APPROVAL)
    op.execute(_approval_daily(e))
    op.execute(MODEL_VERSIONS)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_candidates_stats_day')
        batch_op.drop_index('ix_candidates_stats')
    op.execute("DROP TRIGGER IF EXISTS trg_metric_snapshots_latest" +
               (" ON metric_snapshots" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS memeloop_post_metrics_latest()")
    op.drop_table('post_metrics_latest')
