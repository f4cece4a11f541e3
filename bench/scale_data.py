"""Synthetic history for bench/scale.py: accounts, candidates, posts and metric snapshots, seeded.

The history grows with the size; the "live" part does not: the same number of posts are young
enough to poll (POLLED posts in the 14-day horizon), and the recent candidates the duplicate guard
compares with follow the issue's sizes. Rows go in through executemany (SQLite) or COPY
(PostgreSQL), at the schema of migration 0002, so upgrading to head runs on a populated database.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

END = datetime(2026, 1, 1, 12, 0)  # naive UTC, as stored; "now" of every timed query
POLLED = 1000  # posts inside the poll horizon, at every size
AGES_H = (1, 6, 24, 72, 168)
ACCOUNTS = (("demo", "outbox"), ("x-main", "x"), ("ig-main", "instagram"))
TEMPLATES = 60
WORDS = [f"w{i}" for i in range(3000)] + ["when", "the", "me", "monday", "code", "cat", "coffee", "bug"]
CHUNK = 100_000


@dataclass(frozen=True)
class Size:
    posts: int
    snapshots_per_post: int
    recent: int  # candidates made inside the 30-day duplicate window

    @property
    def snapshots(self) -> int:
        return self.posts * self.snapshots_per_post

    @property
    def label(self) -> str:
        return f"p{self.posts}-s{self.snapshots_per_post}-r{self.recent}"


def caption(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))


Writer = Callable[[str, tuple[str, ...], Iterable[tuple]], None]


def fill(write: Writer, size: Size, *, seed: int = 1) -> None:
    """Every row of one synthetic history, handed to ``write(table, columns, rows)`` in chunks."""
    rng = random.Random(seed)
    write("accounts", ("id", "name", "platform", "hashtag_cap", "created_at"),
          [(i + 1, name, platform, 5, END - timedelta(days=4000)) for i, (name, platform) in enumerate(ACCOUNTS)])
    write("templates", ("id", "slug", "name", "image_path", "image_sha256", "boxes", "created_at"),
          [(i + 1, f"t{i}", f"T{i}", f"t{i}.jpg", "", "[]", END - timedelta(days=4000)) for i in range(TEMPLATES)])
    plan = list(_plan(size, rng))  # (candidate_id, created_at, published_at or None)
    cand_cols = ("id", "account_id", "template_id", "generator", "model_version", "beam_rank", "beam_score",
                 "text", "original_text", "tone", "audience", "params", "status", "created_at", "updated_at",
                 "version")
    _chunks(write, "candidates", cand_cols, (_candidate(rng, cid, made, published) for cid, made, published in plan))
    post_cols = ("id", "candidate_id", "account_id", "state", "scheduled_at", "next_attempt_at", "attempts",
                 "marker", "remote_id", "published_at", "created_at", "updated_at")
    posts = [(cid, published) for cid, _, published in plan if published is not None]
    _chunks(write, "posts", post_cols, ((cid, cid, 1 + cid % 3, "published", at, at, 1, f"m{cid}", f"r{cid}", at,
                                         at, at) for cid, at in posts))
    snap_cols = ("post_id", "taken_at", "age_s", "likes", "reposts", "replies", "quotes")
    _chunks(write, "metric_snapshots", snap_cols, _snapshots(rng, posts, size.snapshots_per_post))


def _plan(size: Size, rng: random.Random) -> Iterator[tuple[int, datetime, datetime | None]]:
    """Old posted history, old unposted candidates, then the live month: recent candidates and posts."""
    cid = 0
    polled = min(POLLED, size.posts)
    history = size.posts - polled
    old_start = END - timedelta(days=31)
    for i in range(history + history // 5):
        cid += 1
        made = old_start - timedelta(minutes=5 * (history + history // 5 - i))
        yield cid, made, (made + timedelta(hours=1 + rng.randint(0, 6)) if i % 6 != 5 else None)
    for i in range(polled):
        cid += 1
        published = END - timedelta(days=14) * (polled - i) / polled
        yield cid, published - timedelta(hours=1), published
    for i in range(max(0, size.recent - polled)):
        cid += 1
        yield cid, END - timedelta(days=30) * (i + 1) / (size.recent + 1), None


def _candidate(rng: random.Random, cid: int, made: datetime, published: datetime | None) -> tuple:
    meme = rng.random() < 0.7
    text = caption(rng)
    status = "posted" if published is not None else rng.choice(
        ["pending", "rejected", "filtered", "duplicate", "approved", "rejected"])
    return (cid, 1 + cid % 3, rng.randint(1, TEMPLATES) if meme else None, "meme" if meme else "post",
            f"v{rng.randint(1, 4)}", rng.randint(0, 4), -rng.uniform(2, 12), text,
            text if rng.random() < 0.9 else text + "!", rng.choice(["funny", "dry", "wholesome", None]),
            rng.choice(["general", "devs"]), "{}", status, made, made, 1)


def _snapshots(rng: random.Random, posts: list[tuple[int, datetime]], per_post: int) -> Iterator[tuple]:
    for pid, published in posts:
        base = rng.randint(0, 50)
        for k in range(per_post):
            age = timedelta(hours=AGES_H[k % len(AGES_H)] * (1 + k // len(AGES_H)))
            if published + age > END:
                break
            yield (pid, published + age, int(age.total_seconds()), base * (k + 1), base // 5 * (k + 1),
                   base // 10, None if k % 7 == 0 else base // 20)


def _chunks(write: Writer, table: str, cols: tuple[str, ...], rows: Iterator[tuple]) -> None:
    rows = iter(rows)
    while chunk := list(islice(rows, CHUNK)):
        write(table, cols, chunk)


FMT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite


def sqlite_writer(dbapi_conn) -> Writer:
    def write(table: str, cols: tuple[str, ...], rows: Iterable[tuple]) -> None:
        out = [tuple(v.strftime(FMT) if isinstance(v, datetime) else v for v in row) for row in rows]
        marks = ", ".join("?" for _ in cols)
        dbapi_conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", out)

    return write


def postgres_writer(dbapi_conn) -> Writer:
    def write(table: str, cols: tuple[str, ...], rows: Iterable[tuple]) -> None:
        with dbapi_conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    return write
