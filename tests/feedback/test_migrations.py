"""Migrations: no drift between models and revisions, and every earlier revision holding rows
upgrades to head (SQLite always; PostgreSQL where a server answers)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from feedback import migrate
from feedback.db import make_engine
from feedback.models import SCHEMA_HEAD

NOW = datetime(2026, 1, 1, 12, 0)


def _seed_0001(conn: Connection) -> None:
    conn.execute(text("INSERT INTO accounts (id, name, platform, handle, hashtag_cap, created_at) "
                      "VALUES (1, 'demo', 'outbox', 'h', 5, :t)"), {"t": NOW})
    conn.execute(text("INSERT INTO templates (id, slug, name, image_path, image_sha256, boxes, created_at) "
                      "VALUES (1, 'cat', 'Cat', 'cat.jpg', 'ab', '[]', :t)"), {"t": NOW})
    conn.execute(text("INSERT INTO generations (id, account_id, generator, model_version, params, seed, status,"
                      " timings, started_at) VALUES (1, 1, 'meme', 'v1', '{}', 3, 'ok', '{}', :t)"), {"t": NOW})
    conn.execute(text(
        "INSERT INTO candidates (id, generation_id, account_id, template_id, generator, model_version, "
        "beam_rank, beam_score, text, original_text, params, status, created_at, updated_at, version) "
        "VALUES (1, 1, 1, 1, 'meme', 'v1', 0, -1.5, 'hi', 'hi', '{}', 'approved', :t, :t, 1)"), {"t": NOW})
    conn.execute(text("INSERT INTO reviews (candidate_id, action, actor, created_at) "
                      "VALUES (1, 'approve', 'tester', :t)"), {"t": NOW})
    conn.execute(text(
        "INSERT INTO posts (id, candidate_id, account_id, state, scheduled_at, next_attempt_at, attempts, "
        "marker, created_at, updated_at) VALUES (1, 1, 1, 'published', :t, :t, 1, 'm1', :t, :t)"), {"t": NOW})
    conn.execute(text("INSERT INTO metric_snapshots (post_id, taken_at, age_s, likes) VALUES (1, :t, 3600, 4)"),
                 {"t": NOW})


def _seed_0002(conn: Connection) -> None:
    _seed_0001(conn)  # 0002 only adds views; the same rows must show through them after upgrades
    assert conn.execute(text("SELECT engagement FROM v_post_engagement WHERE post_id = 1")).scalar() == 4
    assert conn.execute(text("SELECT approved FROM v_approval")).scalar() == 1


def _seed_0003(conn: Connection) -> None:
    _seed_0002(conn)  # the views now read engagement_weights, seeded with 0002's fixed weights
    conn.execute(text("UPDATE engagement_weights SET weight = 3 WHERE name = 'likes'"))
    assert conn.execute(text("SELECT engagement FROM v_post_engagement WHERE post_id = 1")).scalar() == 12
    conn.execute(text("INSERT INTO job_state (id, signature, updated_at) VALUES ('poll', 'x', :t)"), {"t": NOW})
def _seed_0005(conn: Connection) -> None:
    _seed_0004(conn)  # 0005 adds the learning tables: the backfill must have read the snapshot
    conn.execute(text("INSERT INTO post_outcomes (post_id, account_id, published_at, snapshot_id, age_s, final, "
                      "likes) VALUES (1, 1, :t, 1, 3600, false, 4)"), {"t": NOW})


# Every revision gets a seeder that fills the tables as they are at that revision; a new migration
# without one fails test_every_revision_has_a_seeder.
def _seed_0004(conn: Connection) -> None:
    _seed_0003(conn)  # 0004 only adds indexes
    plan = conn.execute(text("EXPLAIN QUERY PLAN SELECT max(age_s) FROM metric_snapshots WHERE post_id = 1"))
    assert "ix_metric_snapshots_post_age" in " ".join(str(r) for r in plan) or conn.dialect.name != "sqlite"


def _seed_0007(conn: Connection) -> None:
    _seed_0005(conn)  # 0007 adds the web admin's users and an index in the review order
    plan = conn.execute(text("EXPLAIN QUERY PLAN SELECT id FROM candidates WHERE status = 'pending' ORDER BY "
                             "predicted_score DESC NULLS LAST, beam_score DESC NULLS LAST, created_at, id "
                             "LIMIT 24 OFFSET 100"))
    assert "ix_candidates_review_order" in " ".join(str(r) for r in plan) or conn.dialect.name != "sqlite"
    conn.execute(text("INSERT INTO web_users (name, password_hash, created_at) VALUES ('ann', 'scrypt$x', :t)"),
                 {"t": NOW})


def _seed_0008(conn: Connection) -> None:
    _seed_0007(conn)  # 0008 adds pre-aggregates kept by triggers; the views read them
    one = "SELECT {} FROM {} WHERE account = 'demo'"
    assert conn.execute(text(one.format("total_engagement, best", "v_engagement_by_account"))).one() == (12, 12)
    conn.execute(text("INSERT INTO metric_snapshots (post_id, taken_at, age_s, likes, reposts) "
                      "VALUES (1, :t, 7200, 5, 1)"), {"t": NOW.replace(hour=13)})
    assert conn.execute(text(one.format("total_engagement", "v_engagement_by_template"))).scalar() == 17
    assert conn.execute(text(one.format("posts, measured", "v_engagement_daily"))).one() == (1, 1)
    assert conn.execute(text(one.format("approved, edited", "v_approval"))).one() == (1, 0)


def _seed_0009(conn: Connection) -> None:
    _seed_0008(conn)  # 0009 widens the generator checks (triggers and views untouched) and adds thread parts
    conn.execute(text(
        "INSERT INTO candidates (id, account_id, generator, model_version, text, original_text, params, status, "
        "created_at, updated_at, version) VALUES (2, 1, 'story', 'w', 'a\n\nb', 'a\n\nb', '{}', 'approved', "
        ":t, :t, 1)"), {"t": NOW})
    for pos, part in enumerate("ab"):
        conn.execute(text("INSERT INTO thread_parts (candidate_id, position, original_text, params, "
                          "created_at, updated_at) VALUES (2, :p, :x, '{}', :t, :t)"), {"p": pos, "x": part, "t": NOW})
    conn.execute(text(
        "INSERT INTO posts (id, candidate_id, account_id, state, scheduled_at, next_attempt_at, attempts, "
        "marker, created_at, updated_at) VALUES (2, 2, 1, 'publishing', :t, :t, 1, 'm2', :t, :t)"), {"t": NOW})
    conn.execute(text("INSERT INTO post_parts (post_id, position, state, marker, remote_id, updated_at) "
                      "VALUES (2, 0, 'published', 'm2-0', 'r1', :t)"), {"t": NOW})
    assert conn.execute(text("SELECT approved FROM v_approval WHERE generator = 'story'")).scalar() == 1
    conn.execute(text("INSERT INTO metric_snapshots (post_id, taken_at, age_s, likes) VALUES (1, :t, 9000, 9)"),
                 {"t": NOW.replace(hour=14)})  # the aggregate triggers on candidates/posts still fire
    total = conn.execute(text("SELECT total_engagement FROM v_engagement_by_account WHERE account = 'demo'")).scalar()
    assert total is not None and total > 12
    conn.execute(text("DELETE FROM post_parts"))  # the common checks expect one post (id 1)
    conn.execute(text("DELETE FROM posts WHERE id = 2"))


def _seed_0010(conn: Connection) -> None:
    _seed_0009(conn)  # 0010 adds the duplicate guard's fingerprints, backfilled; a raw text change drops one
    from feedback.fingerprint import fingerprint

    fp = "SELECT text_norm, text_tokens FROM candidates WHERE id = 1"
    assert tuple(conn.execute(text(fp)).one()) == (None, None)  # inserted without one: the guard computes it
    write = text("UPDATE candidates SET text = :x, text_norm = :n, text_tokens = :t WHERE id = 1")
    conn.execute(write, {"x": "hi", "n": "hi", "t": fingerprint("hi")[1]})
    assert tuple(conn.execute(text(fp)).one()) == fingerprint("hi")  # written with the text: kept
    conn.execute(text("UPDATE candidates SET text = 'Hi there' WHERE id = 1"))
    assert tuple(conn.execute(text(fp)).one()) == (None, None)  # changed without it: not left stale
    conn.execute(write, {"x": "hi", "n": "hi", "t": fingerprint("hi")[1]})


def _seed_i25(conn: Connection) -> None:
    _seed_0010(conn)  # i25 adds imported history: one remote id per account, whatever runs import it
    insert = text("INSERT INTO imported_posts (account_id, remote_id, created_at, text, media_count, read_at, "
                  "imported_at, likes) VALUES (1, 'r9', :t, 'old post', 0, :t, :t, 7)")
    conn.execute(insert, {"t": NOW})
    with pytest.raises(Exception, match="(?i)unique"), conn.begin_nested():
        conn.execute(insert, {"t": NOW})
    conn.execute(text("INSERT INTO history_imports (account_id, cursor, imported, skipped_own, updated_at) "
                      "VALUES (1, 'c1', 1, 0, :t)"), {"t": NOW})


def _seed_i28a(conn: Connection) -> None:
    _seed_i25(conn)  # i28a widens accounts.platform: Mastodon and Bluesky accounts can be stored
    for name, platform in (("md", "mastodon"), ("bsky", "bluesky")):
        conn.execute(text("INSERT INTO accounts (name, platform, hashtag_cap, created_at) VALUES (:n, :p, 5, :t)"),
                     {"n": name, "p": platform, "t": NOW})
    with pytest.raises(IntegrityError), conn.begin_nested():
        conn.execute(text("INSERT INTO accounts (name, platform, hashtag_cap, created_at) "
                          "VALUES ('tt', 'tiktok', 5, :t)"), {"t": NOW})


def _seed_i23a(conn: Connection) -> None:
    _seed_i28a(conn)  # i23a adds the gate that refused a candidate and the offers it carries: NULL before
    conn.execute(text("UPDATE candidates SET status = 'filtered', status_reason = 'not forwarded' WHERE id = 1"))
    row = conn.execute(text("SELECT filter_gate, offers_used FROM candidates WHERE id = 1")).one()
    assert tuple(row) == (None, None)
    conn.execute(text("UPDATE candidates SET status = 'approved', status_reason = NULL WHERE id = 1"))


def _seed_i24a(conn: Connection) -> None:
    _seed_i23a(conn)  # i24a adds a photo's reading (class or topic, how sure) to candidates
    conn.execute(text("UPDATE candidates SET read_as = 'bobsleigh', read_confidence = 0.29 WHERE id = 1"))
    assert conn.execute(text("SELECT read_as FROM candidates WHERE id = 1")).scalar() == "bobsleigh"
    conn.execute(text("UPDATE candidates SET read_as = NULL, read_confidence = NULL WHERE id = 1"))


def _seed_i27a(conn: Connection) -> None:
    _seed_i24a(conn)  # i27a: roles (0007's user became an admin), database sessions, review links
    assert conn.execute(text("SELECT role FROM web_users WHERE name = 'ann'")).scalar() == "admin"
    conn.execute(text("INSERT INTO web_sessions (token_hash, user_id, created_at, seen_at, expires_at) "
                      "SELECT 'h1', id, :t, :t, :t FROM web_users WHERE name = 'ann'"), {"t": NOW})
    conn.execute(text("INSERT INTO review_links (token_hash, label, kind, candidate_id, created_by, created_at, "
                      "expires_at) VALUES ('h2', 'client', 'candidate', 1, 'ann', :t, :t)"), {"t": NOW})
    with pytest.raises(IntegrityError), conn.begin_nested():
        conn.execute(text("INSERT INTO review_links (token_hash, label, kind, candidate_id, created_by, "
                          "created_at, expires_at) VALUES ('h3', 'x', 'album', 1, 'ann', :t, :t)"), {"t": NOW})


def _seed_i27b(conn: Connection) -> None:
    _seed_i27a(conn)  # i27b adds the webhook outbox (one row per webhook and event key) and accounts.paused_at
    insert = text("INSERT INTO notifications (webhook, event, key, payload, state, attempts, next_attempt_at, "
                  "created_at) VALUES ('ops', 'post_failed', 'post_failed:1', '{}', 'pending', 0, :t, :t)")
    conn.execute(insert, {"t": NOW})
    with pytest.raises(IntegrityError), conn.begin_nested():
        conn.execute(insert, {"t": NOW})
    conn.execute(text("UPDATE accounts SET paused_at = :t WHERE id = 1"), {"t": NOW})
    conn.execute(text("UPDATE accounts SET paused_at = NULL WHERE id = 1"))


def _seed_r25_warm(conn: Connection) -> None:
    _seed_i27b(conn)  # r25_warm adds the template an imported post's picture was recognised as: NULL before
    assert tuple(conn.execute(text("SELECT template, template_score FROM imported_posts")).one()) == (None, None)
    conn.execute(text("INSERT INTO imported_posts (account_id, remote_id, created_at, text, media_count, read_at, "
                      "imported_at, template, template_score) VALUES (1, 'r10', :t, 'a meme', 1, :t, :t, 'cat', 0.9)"),
                 {"t": NOW})


def _seed_r25_style(conn: Connection) -> None:
    _seed_r25_warm(conn)  # r25_style adds the tone and audience an imported caption reads as: NULL before
    assert set(conn.execute(text("SELECT tone, audience FROM imported_posts")).all()) == {(None, None)}
    conn.execute(text("UPDATE imported_posts SET tone = 'funny', audience = 'general' WHERE remote_id = 'r10'"))


SEEDERS: dict[str, Callable[[Connection], None]] = {"0001": _seed_0001, "0002": _seed_0002, "0003": _seed_0003,
                                                    "0004": _seed_0004, "0005": _seed_0005, "0007": _seed_0007,
                                                    "0008": _seed_0008, "0009": _seed_0009, "0010": _seed_0010,
                                                    "i25": _seed_i25, "i28a": _seed_i28a, "i23a": _seed_i23a,
                                                    "i24a": _seed_i24a, "i27a": _seed_i27a, "i27b": _seed_i27b,
                                                    "r25_warm": _seed_r25_warm, "r25_style": _seed_r25_style}


def test_schema_head_constant_matches_migrations():
    assert migrate.head_revision() == SCHEMA_HEAD


def test_every_revision_has_a_seeder():
    assert set(migrate.revisions_oldest_first()) == set(SEEDERS)


def test_models_and_migrations_do_not_drift(migrated_db):
    migrate.check(migrated_db)  # raises AutogenerateDiffsDetected on drift


def _upgrade_from_each_revision(url_factory: Callable[[], str]) -> None:
    for rev in migrate.revisions_oldest_first():
        engine = make_engine(url_factory())
        migrate.upgrade(engine, rev)
        with engine.begin() as conn:
            SEEDERS[rev](conn)
        migrate.upgrade(engine, "head")
        assert migrate.current_revision(engine) == SCHEMA_HEAD
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM posts")).scalar() == 1
            # the pre-aggregates of 0008 were backfilled from the rows seeded before it
            assert conn.execute(text("SELECT posts, measured FROM v_engagement_by_account")).one() == (1, 1)
            assert conn.execute(text("SELECT candidates FROM v_approval")).scalar() == 1
            assert conn.execute(text("SELECT text FROM candidates WHERE id = 1")).scalar() == "hi"
            # i23a: a candidate stored before the gates keeps its status, and no gate is named for it
            assert conn.execute(text("SELECT filter_gate FROM candidates WHERE id = 1")).scalar() is None
            # 0010's backfill: every earlier candidate has the duplicate guard's fingerprint
            assert conn.execute(text("SELECT text_norm FROM candidates WHERE id = 1")).scalar() == "hi"
            assert conn.execute(text("SELECT engagement FROM v_post_engagement WHERE post_id = 1")).scalar() is not None
            # i27a: every web user made before roles is an admin (they could do everything)
            assert set(conn.execute(text("SELECT role FROM web_users")).scalars()) <= {"admin"}
        engine.dispose()


def test_upgrade_empty_and_every_earlier_revision_with_rows_sqlite(tmp_path):
    counter = iter(range(1000))
    _upgrade_from_each_revision(lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}")
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    migrate.upgrade(empty)
    assert migrate.current_revision(empty) == SCHEMA_HEAD


@pytest.mark.postgres
def test_upgrade_and_no_drift_on_postgres(pg_url):
    engine = make_engine(pg_url)
    migrate.upgrade(engine, migrate.revisions_oldest_first()[0])
    with engine.begin() as conn:
        SEEDERS[migrate.revisions_oldest_first()[0]](conn)
    migrate.upgrade(engine)
    migrate.check(engine)
    engine.dispose()


def test_downgrade_to_base_and_back(migrated_db):
    migrate.downgrade(migrated_db, "base")
    assert migrate.current_revision(migrated_db) is None
    migrate.upgrade(migrated_db)
    assert migrate.current_revision(migrated_db) == SCHEMA_HEAD
