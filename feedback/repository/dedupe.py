"""What the near-duplicate guard compares a new candidate with: recent candidates and posts."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, select, text, union
from sqlalchemy.orm import Session

from feedback.db import UTCDateTime
from feedback.models import Candidate, Post

# Candidates that never reach an audience or a reviewer's approval are not "already made":
# a filtered caption is unsafe, a duplicate is a copy of something that is itself in this list.
IGNORED_STATUSES = ("filtered", "duplicate")


@dataclass(frozen=True)
class Fingerprint:
    candidate_id: int
    status: str
    text: str
    image_phash: str | None
    group_key: str | None
    posted: bool
    created_at: datetime | None = None  # not read by the guard (parsing it costs per row)
    template_id: int | None = None


def _ids_since(since: datetime) -> Subquery:
    """Ids made since ``since`` or posted (due) since then: each arm is an index range, not a scan."""
    made = select(Candidate.id).where(Candidate.created_at >= since)
    published = select(Post.candidate_id).where(Post.published_at >= since)
    scheduled = select(Post.candidate_id).where(Post.scheduled_at >= since)
    return union(made, published, scheduled).subquery()


def recent_fingerprints(session: Session, *, since: datetime, after_id: int | None = None) -> list[Fingerprint]:
    """Candidates made since ``since`` plus older ones posted (or due to post) since then, newest first.

    ``after_id``: only candidates with a larger id (the ones added since an earlier call)."""
    query = (
        select(Candidate.id, Candidate.status, Candidate.text, Candidate.image_phash, Candidate.group_key,
               Candidate.template_id)
        .where(Candidate.status.not_in(IGNORED_STATUSES))
        .order_by(Candidate.created_at.desc(), Candidate.id.desc())
    )
    if after_id is None:
        ids = _ids_since(since)
        query = query.join(ids, ids.c.id == Candidate.id)
    else:  # rows added since the first call are new candidates: made now, never posted yet
        query = query.where(Candidate.id > after_id, Candidate.created_at >= since)
    return [Fingerprint(cid, status, text, phash, group, status == "posted", template_id=template)
            for cid, status, text, phash, group, template in session.execute(query)]


# The batch guard's read: one statement, only the columns it compares, rows as the DBAPI cursor
# returns them (no result-row processing: at 20k rows that is most of the read). The two arms are
# disjoint (made since ``since`` / made before it but posted or due since), each an index range;
# created_at orders the two; the text is read apart, only where it is needed (feedback.dedupe_index).
_PRINT_COLUMNS = "id, status = 'posted', group_key, image_phash, text_norm, text_tokens, created_at, template_id"
_KEPT = "status NOT IN ({})".format(", ".join(f"'{s}'" for s in IGNORED_STATUSES))
_WINDOW_SQL = (
    f"SELECT {_PRINT_COLUMNS} FROM candidates WHERE created_at >= :since AND {_KEPT} "
    f"UNION ALL SELECT {_PRINT_COLUMNS} FROM candidates WHERE created_at < :since AND {_KEPT} AND id IN ("
    "SELECT candidate_id FROM posts WHERE published_at >= :since "
    "UNION SELECT candidate_id FROM posts WHERE scheduled_at >= :since) "
    "ORDER BY 7 DESC, 1 DESC")  # created_at, id
_AFTER_SQL = (f"SELECT {_PRINT_COLUMNS} FROM candidates WHERE id > :after AND created_at >= :since AND {_KEPT} "
              "ORDER BY created_at DESC, id DESC")

PrintRow = Sequence[Any]
"""(id, posted, group_key, image_phash, text_norm, text_tokens, created_at, template_id): text_norm and
text_tokens are NULL where no fingerprint is stored; created_at is as the driver returns it (it only
orders)."""


def recent_print_rows(session: Session, *, since: datetime, after_id: int | None = None) -> list[PrintRow]:
    """``recent_fingerprints``' candidates in the same order, with their stored fingerprints."""
    values: dict[str, Any] = {"since": since}
    sql = _WINDOW_SQL
    if after_id is not None:  # rows added since the first call are new candidates: made now, never posted yet
        sql, values["after"] = _AFTER_SQL, after_id
    conn = session.connection()
    dialect = conn.dialect
    compiled = text(sql).compile(dialect=dialect)
    to_db = UTCDateTime().bind_processor(dialect)
    values["since"] = to_db(since) if to_db else UTCDateTime().process_bind_param(since, dialect)
    args: Any = tuple(values[n] for n in compiled.positiontup or ()) if compiled.positional else values
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def texts_of(session: Session, candidate_ids: Sequence[int]) -> dict[int, str]:
    """Candidates' texts by id (in chunks: a database may hold many rows without a fingerprint)."""
    ids, found = list(candidate_ids), {}
    for start in range(0, len(ids), 900):
        rows = session.execute(select(Candidate.id, Candidate.text).where(Candidate.id.in_(ids[start:start + 900])))
        found.update({cid: text for cid, text in rows})
    return found


# What an account has already said: its candidates a reviewer will see or has let through.
SAID_STATUSES = ("pending", "approved", "posted")


def account_said(session: Session, account_id: int, *, since: datetime) -> list[tuple[int, str, str]]:
    """(id, status, text) of the account's pending, approved and posted candidates made since
    ``since``, and of older ones it published or scheduled since then, newest first. Each arm is an
    index range (ix_candidates_stats_day, ix_posts_account_state_scheduled / ix_posts_published_at)."""
    made = select(Candidate.id).where(Candidate.account_id == account_id, Candidate.created_at >= since)
    published = select(Post.candidate_id).where(Post.account_id == account_id, Post.published_at >= since)
    scheduled = select(Post.candidate_id).where(Post.account_id == account_id, Post.scheduled_at >= since)
    ids = union(made, published, scheduled).subquery()
    query = (select(Candidate.id, Candidate.status, Candidate.text)
             .join(ids, ids.c.id == Candidate.id)
             .where(Candidate.status.in_(SAID_STATUSES))
             .order_by(Candidate.id.desc()))
    return [(cid, status, text) for cid, status, text in session.execute(query)]
