"""configured engagement weights in the views, scheduler job state

One definition of engagement: the dashboard views compute it from the table engagement_weights,
which the service fills from `ranking.weights` at start (as it does accounts), so the views and the
ranker agree. Seeded with the old fixed weights, so a database read by another tool before the
next start shows what it showed before. job_state keeps each periodic scheduler job's trigger
signature and last/next run (the daemon no longer pickles jobs into APScheduler's own table,
which is dropped).

The view SQL is written out here (not imported) so this revision keeps meaning what it meant when
it was applied; downgrade restores 0002's views with their fixed formula.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

WEIGHT_NAMES = ("likes", "reposts", "replies", "quotes", "bookmarks", "comments")
DEFAULT_WEIGHTS = {"likes": 1.0, "reposts": 2.0, "replies": 1.0, "quotes": 1.0, "comments": 1.0}
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


# 0002's fixed formula (what downgrade restores) and the configured one (engagement_weights).
FIXED = ("CASE WHEN m.post_id IS NULL THEN NULL ELSE COALESCE(m.likes, 0) + 2 * COALESCE(m.reposts, 0)"
         " + COALESCE(m.replies, 0) + COALESCE(m.quotes, 0) + COALESCE(m.comments, 0) END")
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


def upgrade() -> None:
    weights = op.create_table(
        'engagement_weights',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_engagement_weights')),
    )
    op.bulk_insert(weights, [{"name": k, "weight": v} for k, v in DEFAULT_WEIGHTS.items()])
    op.create_table(
        'job_state',
        sa.Column('id', sa.String(length=128), nullable=False),
        sa.Column('signature', sa.String(length=512), nullable=False),
        sa.Column('last_run_at', sa.DateTime(), nullable=True),
        sa.Column('next_run_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_state')),
    )
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")
    _drop_views()
    _create_views(WEIGHTED)


def downgrade() -> None:
    _drop_views()
    _create_views(FIXED)
    op.drop_table('job_state')
    op.drop_table('engagement_weights')
