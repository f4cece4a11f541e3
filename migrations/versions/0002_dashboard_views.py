"""dashboard views

The `memeloop stats` queries as SQL views, so any SQLite (or PostgreSQL) tool can read them.
Views are not in the ORM metadata, so autogenerate ignores them. The SQL is written out here (not
imported) so this revision keeps meaning what it meant when it was applied.

Engagement of a post = likes + 2*reposts + replies + quotes + comments of its newest snapshot
(the default ranking weights; unknown counts count as 0; NULL when never polled).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:40:00
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

DIMENSIONS = {
    "generator": "generator",
    "template": "template",
    "beam_rank": "beam_rank",
    "tone": "tone",
    "audience": "audience",
    "hour": "hour",
    "account": "account",
}
VIEWS = ["v_post_engagement", "v_engagement_daily", "v_approval", "v_model_versions",
         *(f"v_engagement_by_{d}" for d in DIMENSIONS)]


def _expr(dialect: str) -> dict[str, str]:
    if dialect == "postgresql":
        return {"day": "to_char(p.published_at, 'YYYY-MM-DD')",
                "hour": "CAST(EXTRACT(HOUR FROM p.published_at) AS INTEGER)",
                "cday": "to_char(c.created_at, 'YYYY-MM-DD')"}
    return {"day": "date(p.published_at)", "hour": "CAST(strftime('%H', p.published_at) AS INTEGER)",
            "cday": "date(c.created_at)"}


def _post_engagement(e: dict[str, str]) -> str:
    return f"""
CREATE VIEW v_post_engagement AS
SELECT p.id AS post_id, a.name AS account, c.id AS candidate_id, c.generator, c.model_version,
       t.slug AS template, c.beam_rank, c.tone, c.audience, c.text, p.remote_url,
       p.published_at, {e['day']} AS day, {e['hour']} AS hour,
       s.taken_at AS measured_at, s.age_s, s.likes, s.reposts, s.replies, s.quotes, s.comments,
       s.impressions, s.views,
       CASE WHEN s.id IS NULL THEN NULL ELSE
         COALESCE(s.likes, 0) + 2 * COALESCE(s.reposts, 0) + COALESCE(s.replies, 0)
         + COALESCE(s.quotes, 0) + COALESCE(s.comments, 0) END AS engagement
FROM posts p
JOIN accounts a ON a.id = p.account_id
JOIN candidates c ON c.id = p.candidate_id
LEFT JOIN templates t ON t.id = c.template_id
LEFT JOIN metric_snapshots s ON s.id = (
    SELECT s2.id FROM metric_snapshots s2 WHERE s2.post_id = p.id
    ORDER BY s2.taken_at DESC, s2.id DESC LIMIT 1)
WHERE p.state = 'published'
"""


def _by(dimension: str) -> str:
    keys = "account" if dimension == "account" else f"account, {dimension}"
    return f"""
CREATE VIEW v_engagement_by_{dimension} AS
SELECT {keys}, COUNT(*) AS posts, COUNT(engagement) AS measured,
       SUM(engagement) AS total_engagement, AVG(engagement * 1.0) AS mean_engagement,
       MAX(engagement) AS best
FROM v_post_engagement GROUP BY {keys}
"""


DAILY = """
CREATE VIEW v_engagement_daily AS
SELECT account, day, COUNT(*) AS posts, COUNT(engagement) AS measured,
       SUM(engagement) AS total_engagement, AVG(engagement * 1.0) AS mean_engagement, MAX(engagement) AS best
FROM v_post_engagement GROUP BY account, day
"""


def _approval(e: dict[str, str]) -> str:
    return f"""
CREATE VIEW v_approval AS
SELECT a.name AS account, c.generator, c.model_version, {e['cday']} AS day, COUNT(*) AS candidates,
       SUM(CASE WHEN c.status IN ('approved', 'posted') THEN 1 ELSE 0 END) AS approved,
       SUM(CASE WHEN c.status = 'rejected' THEN 1 ELSE 0 END) AS rejected,
       SUM(CASE WHEN c.status = 'pending' THEN 1 ELSE 0 END) AS pending,
       SUM(CASE WHEN c.status = 'filtered' THEN 1 ELSE 0 END) AS filtered,
       SUM(CASE WHEN c.status = 'duplicate' THEN 1 ELSE 0 END) AS duplicate,
       SUM(CASE WHEN c.text <> c.original_text THEN 1 ELSE 0 END) AS edited
FROM candidates c LEFT JOIN accounts a ON a.id = c.account_id
GROUP BY a.name, c.generator, c.model_version, {e['cday']}
"""


MODEL_VERSIONS = """
CREATE VIEW v_model_versions AS
SELECT q.account, q.generator, q.model_version, q.candidates, q.approved, q.rejected, q.edited,
       COALESCE(e.posts, 0) AS posts, COALESCE(e.measured, 0) AS measured,
       e.total_engagement, e.mean_engagement
FROM (SELECT account, generator, model_version, SUM(candidates) AS candidates, SUM(approved) AS approved,
             SUM(rejected) AS rejected, SUM(edited) AS edited
      FROM v_approval GROUP BY account, generator, model_version) q
LEFT JOIN (SELECT account, generator, model_version, COUNT(*) AS posts, COUNT(engagement) AS measured,
                  SUM(engagement) AS total_engagement, AVG(engagement * 1.0) AS mean_engagement
           FROM v_post_engagement GROUP BY account, generator, model_version) e
  ON e.account IS NOT DISTINCT FROM q.account AND e.generator = q.generator
 AND e.model_version = q.model_version
"""


def upgrade() -> None:
    e = _expr(op.get_bind().dialect.name)
    op.execute(_post_engagement(e))
    for dimension in DIMENSIONS:
        op.execute(_by(dimension))
    op.execute(DAILY)
    op.execute(_approval(e))
    op.execute(MODEL_VERSIONS)


def downgrade() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")
