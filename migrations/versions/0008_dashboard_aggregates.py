"""dashboard aggregates

The dashboard reads pre-aggregated rows instead of folding every post on each query:
- post_facts: one row per published post with its breakdown keys (NULL keys stored as '' or -1 so
  every key column is NOT NULL and plain `=` finds it in an index), the raw counters of its newest
  snapshot (0 when unknown), whether it was measured, and its engagement under the current weights;
- engagement_rollup: per breakdown (dimension), account and key: posts, measured and the SUM of each
  raw counter, plus the best post's engagement;
- approval_rollup: reviewer decisions per account/generator/model version and per account/day.
Weights apply at read time to the summed counters, so `ranking.weights` stays configurable; only
post_facts.engagement (top posts) and the rollups' `best` depend on them, and a trigger on
engagement_weights recomputes both when a weight changes (a full pass, but only on a config change).

Triggers keep everything in step with any writer (SQLite and PostgreSQL): posts entering or leaving
'published', post_metrics_latest rows (kept by 0002's trigger), candidates' keys and statuses.
Nothing here rebuilds a table, so migration 0002's triggers stay; a later batch migration that
recreates posts, candidates or post_metrics_latest on SQLite must recreate this revision's triggers.
The SQL is written out here so this revision keeps meaning what it meant when it was applied;
downgrade restores 0003's views.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:30:00
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COUNTERS = ("likes", "reposts", "replies", "quotes", "bookmarks", "comments")  # the weighted ones
# dimension -> (k_int, k_text, k_text2) expressions over a post_facts row (alias f)
DIMENSIONS = {
    "account": ("0", "''", "''"), "generator": ("0", "f.generator", "''"),
    "template": ("f.template_id", "''", "''"), "beam_rank": ("f.beam_rank", "''", "''"),
    "tone": ("0", "f.tone", "''"), "audience": ("0", "f.audience", "''"), "hour": ("f.hour", "''", "''"),
    "day": ("0", "f.day", "''"), "model": ("0", "f.generator", "f.model_version"),
}
FACT_INDEXES = {"account": [], "generator": ["generator"], "template": ["template_id"],
                "beam_rank": ["beam_rank"], "tone": ["tone"], "audience": ["audience"], "hour": ["hour"],
                "day": ["day"], "model": ["generator", "model_version"]}
VIEWS = ("v_post_engagement", *(f"v_engagement_by_{d}" for d in
                                ("generator", "template", "beam_rank", "tone", "audience", "hour", "account")),
         "v_engagement_daily", "v_approval", "v_approval_daily", "v_model_versions")
ROLLUP_KEY = ("dimension", "account_id", "k_int", "k_text", "k_text2")
APPROVAL_KEY = ("kind", "account_id", "generator", "model_version", "day")
DECISIONS = ("candidates", "approved", "rejected", "pending", "filtered", "duplicate")
TRIGGERS = {  # name -> table
    "trg_posts_facts_insert": "posts", "trg_posts_facts_update": "posts", "trg_posts_facts_delete": "posts",
    "trg_latest_facts_insert": "post_metrics_latest", "trg_latest_facts_update": "post_metrics_latest",
    "trg_candidates_facts_keys": "candidates", "trg_facts_rollup_insert": "post_facts",
    "trg_facts_rollup_update": "post_facts", "trg_facts_rollup_counts": "post_facts",
    "trg_facts_rollup_fell": "post_facts",
    "trg_facts_rollup_delete": "post_facts",
    "trg_candidates_approval_insert": "candidates", "trg_candidates_approval_update": "candidates",
    "trg_candidates_approval_delete": "candidates", "trg_reviews_approval_edited": "reviews",
    **{f"trg_weights_refresh_{e}": "engagement_weights" for e in ("insert", "update", "delete")},
}


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _day(col: str) -> str:
    return f"to_char({col}, 'YYYY-MM-DD')" if _pg() else f"substr({col}, 1, 10)"


def _hour(col: str) -> str:
    return f"CAST(EXTRACT(HOUR FROM {col}) AS INTEGER)" if _pg() else f"CAST(substr({col}, 12, 2) AS INTEGER)"


def _weighted(row: str) -> str:
    """Engagement of one row's counters under the weights in engagement_weights."""
    return " + ".join(f"COALESCE({row}.{n}, 0) * COALESCE((SELECT w.weight FROM engagement_weights w "
                      f"WHERE w.name = '{n}'), 0)" for n in COUNTERS)


FACT_COLUMNS = ("post_id", "account_id", "generator", "model_version", "template_id", "beam_rank", "tone",
                "audience", "day", "hour", "measured", *COUNTERS, "engagement")


def _fact_select(p: str) -> str:
    """post_facts values of post ``p`` (a row alias or NEW), from candidates c and post_metrics_latest m."""
    return (f"SELECT {p}.id, {p}.account_id, COALESCE(c.generator, ''), COALESCE(c.model_version, ''), "
            f"COALESCE(c.template_id, -1), COALESCE(c.beam_rank, -1), COALESCE(c.tone, ''), "
            f"COALESCE(c.audience, ''), COALESCE({_day(p + '.published_at')}, ''), "
            f"COALESCE({_hour(p + '.published_at')}, -1), CASE WHEN m.post_id IS NULL THEN 0 ELSE 1 END, "
            + ", ".join(f"COALESCE(m.{n}, 0)" for n in COUNTERS)
            + f", CASE WHEN m.post_id IS NULL THEN NULL ELSE {_weighted('m')} END")


def _create_tables() -> None:
    keys = [sa.Column(n, sa.String(64), nullable=False) for n in ("generator", "model_version")]
    op.create_table(
        'post_facts',
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        *keys,
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('beam_rank', sa.Integer(), nullable=False),
        sa.Column('tone', sa.String(32), nullable=False),
        sa.Column('audience', sa.String(32), nullable=False),
        sa.Column('day', sa.String(10), nullable=False),
        sa.Column('hour', sa.Integer(), nullable=False),
        sa.Column('measured', sa.Integer(), nullable=False),
        *(sa.Column(n, sa.BigInteger(), nullable=False) for n in COUNTERS),
        sa.Column('engagement', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('post_id', name=op.f('pk_post_facts')),
    )
    op.create_table(
        'engagement_rollup',
        sa.Column('dimension', sa.String(16), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('k_int', sa.Integer(), nullable=False),
        sa.Column('k_text', sa.String(64), nullable=False),
        sa.Column('k_text2', sa.String(64), nullable=False),
        sa.Column('posts', sa.BigInteger(), nullable=False),
        sa.Column('measured', sa.BigInteger(), nullable=False),
        *(sa.Column(n, sa.BigInteger(), nullable=False) for n in COUNTERS),
        sa.Column('best', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint(*ROLLUP_KEY, name=op.f('pk_engagement_rollup')),
    )
    op.create_table(
        'approval_rollup',
        sa.Column('kind', sa.String(8), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('generator', sa.String(16), nullable=False),
        sa.Column('model_version', sa.String(64), nullable=False),
        sa.Column('day', sa.String(10), nullable=False),
        *(sa.Column(n, sa.BigInteger(), nullable=False) for n in DECISIONS),
        sa.Column('edited', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*APPROVAL_KEY, name=op.f('pk_approval_rollup')),
    )


def _create_fact_indexes() -> None:
    op.create_index('ix_post_facts_engagement', 'post_facts', ['engagement'], unique=False)
    for dimension, cols in FACT_INDEXES.items():
        op.create_index(f'ix_post_facts_{dimension}', 'post_facts', ['account_id', *cols, 'engagement'],
                        unique=False)


def _backfill() -> None:
    op.execute(f"INSERT INTO post_facts ({', '.join(FACT_COLUMNS)}) {_fact_select('p')} "
               "FROM posts p JOIN candidates c ON c.id = p.candidate_id "
               "LEFT JOIN post_metrics_latest m ON m.post_id = p.id WHERE p.state = 'published'")
    sums = ", ".join(f"SUM(f.{n})" for n in COUNTERS)
    for dimension, (k_int, k_text, k_text2) in DIMENSIONS.items():
        op.execute(f"INSERT INTO engagement_rollup ({', '.join(ROLLUP_KEY)}, posts, measured, "
                   f"{', '.join(COUNTERS)}, best) SELECT '{dimension}', f.account_id, {k_int}, {k_text}, "
                   f"{k_text2}, COUNT(*), SUM(f.measured), {sums}, MAX(f.engagement) FROM post_facts f "
                   "GROUP BY 2, 3, 4, 5")
    for grouping, (gen, ver, day) in _approval_keys("c").items():
        edited = f"SUM({_edited('c')})" if grouping == "model" else "0"
        op.execute(f"INSERT INTO approval_rollup ({', '.join(APPROVAL_KEY)}, {', '.join(DECISIONS)}, edited) "
                   f"SELECT '{grouping}', COALESCE(c.account_id, 0), {gen}, {ver}, {day}, "
                   + ", ".join(_decision_sums("c")) + f", {edited} FROM candidates c GROUP BY 2, 3, 4, 5")


def _approval_keys(c: str) -> dict[str, tuple[str, str, str]]:
    return {"model": (f"{c}.generator", f"COALESCE({c}.model_version, '')", "''"),
            "day": ("''", "''", f"COALESCE({_day(c + '.created_at')}, '')")}


def _decision_flags(c: str) -> list[str]:
    statuses = {"approved": "IN ('approved', 'posted')", "rejected": "= 'rejected'", "pending": "= 'pending'",
                "filtered": "= 'filtered'", "duplicate": "= 'duplicate'"}
    return ["1"] + [f"CASE WHEN {c}.status {cond} THEN 1 ELSE 0 END" for cond in statuses.values()]


def _decision_sums(c: str) -> list[str]:
    return ["COUNT(*)"] + [f"SUM({flag})" for flag in _decision_flags(c)[1:]]


def _edited(c: str) -> str:
    return (f"CASE WHEN EXISTS (SELECT 1 FROM reviews r WHERE r.candidate_id = {c}.id AND r.action = 'edit') "
            "THEN 1 ELSE 0 END")


# --- triggers ------------------------------------------------------------------------------------

def _trigger(name: str, event: str, table: str, when: str | None, body: list[str]) -> None:
    """One AFTER ... FOR EACH ROW trigger, as SQLite writes it or as a PL/pgSQL function."""
    if _pg():
        # PostgreSQL allows no subquery in WHEN: the condition goes inside the function
        statements = " ".join(f"{b};" for b in body)
        if when:
            statements = f"IF {when} THEN {statements} END IF;"
        op.execute(f"CREATE FUNCTION {name}_fn() RETURNS trigger AS $$ BEGIN {statements} RETURN NULL; "
                   "END $$ LANGUAGE plpgsql")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()")
    else:
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} " + (f"WHEN {when} " if when else "")
                   + "BEGIN " + " ".join(f"{b};" for b in body) + " END")


def _keys(dimension: str, row: str) -> list[str]:
    return [e.replace("f.", f"{row}.") for e in DIMENSIONS[dimension]]


def _rollup_match(dimension: str, row: str) -> str:
    k_int, k_text, k_text2 = _keys(dimension, row)
    return (f"dimension = '{dimension}' AND account_id = {row}.account_id AND k_int = {k_int} "
            f"AND k_text = {k_text} AND k_text2 = {k_text2}")


def _rollup_add(dimension: str) -> str:
    cols = (*ROLLUP_KEY, "posts", "measured", *COUNTERS, "best")
    values = (f"'{dimension}'", "NEW.account_id", *_keys(dimension, "NEW"), "1", "NEW.measured",
              *(f"NEW.{n}" for n in COUNTERS), "NEW.engagement")
    sums = ", ".join(f"{n} = engagement_rollup.{n} + excluded.{n}" for n in ("posts", "measured", *COUNTERS))
    best = ("CASE WHEN excluded.best IS NULL THEN engagement_rollup.best WHEN engagement_rollup.best IS NULL "
            "OR excluded.best > engagement_rollup.best THEN excluded.best ELSE engagement_rollup.best END")
    return (f"INSERT INTO engagement_rollup ({', '.join(cols)}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT ({', '.join(ROLLUP_KEY)}) DO UPDATE SET {sums}, best = {best}")


def _rollup_subtract(dimension: str) -> list[str]:
    match = _rollup_match(dimension, "OLD")
    minus = ", ".join(f"{n} = {n} - OLD.{n}" for n in ("measured", *COUNTERS))
    same = " AND ".join(f"f.{c} = OLD.{c}" for c in ("account_id", *FACT_INDEXES[dimension]))
    return [f"UPDATE engagement_rollup SET posts = posts - 1, {minus} WHERE {match}",
            f"DELETE FROM engagement_rollup WHERE {match} AND posts = 0",
            # the post that leaves may have been the best: ask the index for the new best
            (f"UPDATE engagement_rollup SET best = (SELECT MAX(f.engagement) FROM post_facts f WHERE {same}) "
            f"WHERE {match} AND OLD.engagement IS NOT NULL AND best <= OLD.engagement")]


def _rollup_delta(dimension: str) -> list[str]:
    match = _rollup_match(dimension, "NEW")
    sums = ", ".join(f"{n} = {n} + NEW.{n} - OLD.{n}" for n in ("measured", *COUNTERS))
    return [(f"UPDATE engagement_rollup SET {sums}, best = CASE WHEN NEW.engagement IS NOT NULL AND "
             f"(best IS NULL OR NEW.engagement > best) THEN NEW.engagement ELSE best END WHERE {match}")]


def _rollup_rebest(dimension: str) -> list[str]:
    """A post's engagement fell: where it was its group's best, ask the index for the new best."""
    match = _rollup_match(dimension, "NEW")
    same = " AND ".join(f"f.{c} = NEW.{c}" for c in ("account_id", *FACT_INDEXES[dimension]))
    return [(f"UPDATE engagement_rollup SET best = (SELECT MAX(f.engagement) FROM post_facts f WHERE {same}) "
             f"WHERE {match} AND best <= OLD.engagement")]


def _approval_change(row: str, sign: int) -> list[str]:
    out = []
    flags = _decision_flags(row) + [_edited(row)]
    for grouping, (gen, ver, day) in _approval_keys(row).items():
        account = f"COALESCE({row}.account_id, 0)"
        row_flags = flags if grouping == "model" else flags[:-1] + ["0"]
        if sign > 0:
            sums = ", ".join(f"{n} = approval_rollup.{n} + excluded.{n}" for n in (*DECISIONS, "edited"))
            out.append(f"INSERT INTO approval_rollup ({', '.join(APPROVAL_KEY)}, {', '.join(DECISIONS)}, edited) "
                       f"VALUES ('{grouping}', {account}, {gen}, {ver}, {day}, {', '.join(row_flags)}) "
                       f"ON CONFLICT ({', '.join(APPROVAL_KEY)}) DO UPDATE SET {sums}")
        else:
            match = (f"kind = '{grouping}' AND account_id = {account} AND generator = {gen} "
                     f"AND model_version = {ver} AND day = {day}")
            minus = ", ".join(f"{n} = {n} - ({f})" for n, f in zip((*DECISIONS, "edited"), row_flags))
            out += [f"UPDATE approval_rollup SET {minus} WHERE {match}",
                    f"DELETE FROM approval_rollup WHERE {match} AND candidates = 0"]
    return out


def _create_triggers() -> None:
    facts = (f"INSERT INTO post_facts ({', '.join(FACT_COLUMNS)}) {_fact_select('NEW')} FROM candidates c "
             "LEFT JOIN post_metrics_latest m ON m.post_id = NEW.id WHERE c.id = NEW.candidate_id")
    _trigger("trg_posts_facts_insert", "INSERT", "posts", "NEW.state = 'published'", [facts])
    _trigger("trg_posts_facts_update", "UPDATE OF state, published_at, account_id, candidate_id", "posts",
             "OLD.state = 'published' OR NEW.state = 'published'",
             ["DELETE FROM post_facts WHERE post_id = OLD.id", facts + " AND NEW.state = 'published'"])
    _trigger("trg_posts_facts_delete", "DELETE", "posts", None, ["DELETE FROM post_facts WHERE post_id = OLD.id"])
    counters = ", ".join(f"{n} = COALESCE(NEW.{n}, 0)" for n in COUNTERS)
    measured = (f"UPDATE post_facts SET measured = 1, {counters}, engagement = {_weighted('NEW')} "
                "WHERE post_id = NEW.post_id")
    _trigger("trg_latest_facts_insert", "INSERT", "post_metrics_latest", None, [measured])
    _trigger("trg_latest_facts_update", "UPDATE", "post_metrics_latest", None, [measured])
    keys = ", ".join(f"{k} = COALESCE(NEW.{k}, {d})" for k, d in (
        ("generator", "''"), ("model_version", "''"), ("template_id", "-1"), ("beam_rank", "-1"),
        ("tone", "''"), ("audience", "''")))
    _trigger("trg_candidates_facts_keys", "UPDATE OF generator, model_version, template_id, beam_rank, tone, "
             "audience", "candidates", None,
             [(f"UPDATE post_facts SET {keys} WHERE post_id IN (SELECT p.id FROM posts p "
              "WHERE p.candidate_id = NEW.id)")])
    _trigger("trg_facts_rollup_insert", "INSERT", "post_facts", None, [_rollup_add(d) for d in DIMENSIONS])
    fact_keys = FACT_COLUMNS[1:10]  # account_id .. hour
    moved = " OR ".join(f"OLD.{k} <> NEW.{k}" for k in fact_keys)
    _trigger("trg_facts_rollup_update", "UPDATE OF " + ", ".join(FACT_COLUMNS[1:-1]), "post_facts", moved,
             [s for d in DIMENSIONS for s in _rollup_subtract(d)] + [_rollup_add(d) for d in DIMENSIONS])
    # the common case, a newer reading of a post: its groups stay, only their sums move
    _trigger("trg_facts_rollup_counts", "UPDATE OF " + ", ".join(FACT_COLUMNS[10:-1]), "post_facts",
             " AND ".join(f"OLD.{k} = NEW.{k}" for k in fact_keys), [s for d in DIMENSIONS for s in _rollup_delta(d)])
    fell = ("OLD.engagement IS NOT NULL AND (NEW.engagement IS NULL OR NEW.engagement < OLD.engagement) AND "
            + " AND ".join(f"OLD.{k} = NEW.{k}" for k in fact_keys))
    # on the counters, not engagement: the weight refresh (engagement only) recomputes every best itself
    _trigger("trg_facts_rollup_fell", "UPDATE OF " + ", ".join(FACT_COLUMNS[10:-1]), "post_facts", fell,
             [s for d in DIMENSIONS for s in _rollup_rebest(d)])
    _trigger("trg_facts_rollup_delete", "DELETE", "post_facts", None,
             [s for d in DIMENSIONS for s in _rollup_subtract(d)])
    _trigger("trg_candidates_approval_insert", "INSERT", "candidates", None, _approval_change("NEW", 1))
    _trigger("trg_candidates_approval_update", "UPDATE OF status, account_id, generator, model_version, "
             "created_at", "candidates", None, _approval_change("OLD", -1) + _approval_change("NEW", 1))
    _trigger("trg_candidates_approval_delete", "DELETE", "candidates", None, _approval_change("OLD", -1))
    first_edit = ("NEW.action = 'edit' AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.candidate_id = "
                  "NEW.candidate_id AND r.action = 'edit' AND r.id <> NEW.id)")
    _trigger("trg_reviews_approval_edited", "INSERT", "reviews", first_edit,
             [("UPDATE approval_rollup SET edited = edited + 1 WHERE kind = 'model' AND EXISTS (SELECT 1 "
              "FROM candidates c WHERE c.id = NEW.candidate_id AND COALESCE(c.account_id, 0) = "
              "approval_rollup.account_id AND c.generator = approval_rollup.generator AND "
              "COALESCE(c.model_version, '') = approval_rollup.model_version)")])

    for event in ("INSERT", "UPDATE", "DELETE"):
        _trigger(f"trg_weights_refresh_{event.lower()}", event, "engagement_weights", None, _refresh())


def _refresh() -> list[str]:
    """New weights: every post's engagement and every group's best again (rare: a config change)."""
    out = [f"UPDATE post_facts SET engagement = CASE WHEN measured = 0 THEN NULL ELSE {_weighted('post_facts')} END"]
    for dimension, exprs in DIMENSIONS.items():
        same = "".join(f" AND {e} = engagement_rollup.{k}" for k, e in zip(("k_int", "k_text", "k_text2"), exprs)
                       if e.startswith("f."))
        out.append(f"UPDATE engagement_rollup SET best = (SELECT MAX(f.engagement) FROM post_facts f WHERE "
                   f"f.account_id = engagement_rollup.account_id{same}) WHERE dimension = '{dimension}'")
    return out


def _drop_triggers() -> None:
    for name, table in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if _pg() else ""))
        if _pg():
            op.execute(f"DROP FUNCTION IF EXISTS {name}_fn()")


# --- views ---------------------------------------------------------------------------------------

def _post_engagement() -> str:
    # post_facts holds exactly the published posts and drives the join, so "top N by engagement"
    # walks ix_post_facts_engagement (rowid = post_id breaks ties in index order)
    return f"""
CREATE VIEW v_post_engagement AS
SELECT f.post_id AS post_id, a.name AS account, c.id AS candidate_id, c.generator, c.model_version,
       t.slug AS template, c.beam_rank, c.tone, c.audience, c.text, p.remote_url,
       p.published_at, {_day('p.published_at')} AS day, {_hour('p.published_at')} AS hour,
       m.taken_at AS measured_at, m.age_s, m.likes, m.reposts, m.replies, m.quotes, m.comments,
       m.impressions, m.views, f.engagement AS engagement
FROM post_facts f
JOIN posts p ON p.id = f.post_id
JOIN accounts a ON a.id = p.account_id
JOIN candidates c ON c.id = p.candidate_id
LEFT JOIN templates t ON t.id = c.template_id
LEFT JOIN post_metrics_latest m ON m.post_id = p.id
"""


TOTAL = "CASE WHEN r.measured = 0 THEN NULL ELSE " + " + ".join(f"r.{n} * w.{n}" for n in COUNTERS) + " END"
# The configured weights as one row, read once per query (not once per group and counter).
WEIGHTS = ("(SELECT " + ", ".join(f"COALESCE(MAX(CASE WHEN name = '{n}' THEN weight END), 0) AS {n}"
                                  for n in COUNTERS) + " FROM engagement_weights) w")
MEASURES = (f"r.posts, r.measured, {TOTAL} AS total_engagement, "
            f"({TOTAL}) * 1.0 / NULLIF(r.measured, 0) AS mean_engagement, r.best")
DECODED = {"generator": "r.k_text", "template": "t.slug", "beam_rank": "NULLIF(r.k_int, -1)",
           "tone": "NULLIF(r.k_text, '')", "audience": "NULLIF(r.k_text, '')", "hour": "NULLIF(r.k_int, -1)",
           "day": "NULLIF(r.k_text, '')"}


def _by(dimension: str) -> str:
    name = "v_engagement_daily" if dimension == "day" else f"v_engagement_by_{dimension}"
    key = "" if dimension == "account" else f"{DECODED[dimension]} AS {dimension}, "
    templates = "LEFT JOIN templates t ON t.id = r.k_int " if dimension == "template" else ""
    return (f"CREATE VIEW {name} AS SELECT a.name AS account, {key}{MEASURES} FROM engagement_rollup r "
            f"CROSS JOIN {WEIGHTS} JOIN accounts a ON a.id = r.account_id {templates}"
            f"WHERE r.dimension = '{dimension}'")


APPROVAL = """
CREATE VIEW v_approval AS
SELECT a.name AS account, g.generator, g.model_version, g.candidates, g.approved, g.rejected, g.pending,
       g.filtered, g.duplicate, g.edited
FROM approval_rollup g LEFT JOIN accounts a ON a.id = g.account_id
WHERE g.kind = 'model'
"""
APPROVAL_DAILY = """
CREATE VIEW v_approval_daily AS
SELECT a.name AS account, g.day, g.candidates, g.approved, g.rejected, g.pending, g.filtered, g.duplicate
FROM approval_rollup g LEFT JOIN accounts a ON a.id = g.account_id
WHERE g.kind = 'day'
"""
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
      SELECT a.name, r.k_text, r.k_text2, 0, 0, 0, 0, r.posts, r.measured, {TOTAL}
      FROM engagement_rollup r CROSS JOIN {WEIGHTS} JOIN accounts a ON a.id = r.account_id
      WHERE r.dimension = 'model') u
GROUP BY account, generator, model_version
"""


def _drop_views() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")


def _create_views() -> None:
    op.execute(_post_engagement())
    for dimension in ("generator", "template", "beam_rank", "tone", "audience", "hour", "account", "day"):
        op.execute(_by(dimension))
    op.execute(APPROVAL)
    op.execute(APPROVAL_DAILY)
    op.execute(MODEL_VERSIONS)


def upgrade() -> None:
    _create_tables()
    _backfill()
    _create_fact_indexes()
    _create_triggers()
    _drop_views()
    _create_views()


def _revision_0003():
    """Migration 0003's module, whose view builders downgrade restores."""
    path = Path(__file__).with_name("0003_weights_and_job_state.py")
    spec = importlib.util.spec_from_file_location("memeloop_migration_0003", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    _drop_views()
    _drop_triggers()
    old = _revision_0003()
    old._create_views(old.WEIGHTED)
    for index in ("engagement", *FACT_INDEXES):
        op.drop_index(f"ix_post_facts_{index}", table_name="post_facts")
    op.drop_table('approval_rollup')
    op.drop_table('engagement_rollup')
    op.drop_table('post_facts')
