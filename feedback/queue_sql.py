"""The review queue's one query, as plain SQL: the repository runs it through SQLAlchemy, and
`memeloop queue list` on SQLite runs it through the standard library's sqlite3 without loading the
ORM (the admin CLI's cold start). One statement, one row mapping, two executors."""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedback.schema import SCHEMA_HEAD

COLUMNS = ("id", "status", "predicted_score", "text", "generator", "account", "template", "beam_rank",
           "beam_score", "created_at", "status_reason")


@dataclass(frozen=True)
class QueueRow:
    """One line of `memeloop queue list`."""

    rank: int
    id: int
    status: str
    predicted_score: float | None
    text: str
    generator: str
    account: str | None
    template: str | None
    beam_rank: int | None
    beam_score: float | None
    created_at: datetime
    age_s: int
    status_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "created_at": self.created_at.isoformat()}


def queue_sql(statuses: Sequence[str], *, account: str | None, limit: int | None, offset: int
              ) -> tuple[str, dict[str, Any]]:
    """Candidates in the review order: predicted score first, then beam score, oldest first."""
    params: dict[str, Any] = {f"s{i}": s for i, s in enumerate(statuses)}
    where = [f"c.status IN ({', '.join(':' + k for k in params)})"]
    if account:
        where.append("a.name = :account")
        params["account"] = account
    sql = ("SELECT c.id, c.status, c.predicted_score, c.text, c.generator, a.name, t.slug, c.beam_rank, "
           "c.beam_score, c.created_at, c.status_reason FROM candidates c "
           "LEFT JOIN accounts a ON a.id = c.account_id LEFT JOIN templates t ON t.id = c.template_id "
           f"WHERE {' AND '.join(where)} "
           "ORDER BY c.predicted_score DESC NULLS LAST, c.beam_score DESC NULLS LAST, c.created_at, c.id")
    if limit:
        sql += " LIMIT :limit"
        params["limit"] = limit
    if offset:
        sql += (" " if limit else " LIMIT -1 ") + "OFFSET :offset"
        params["offset"] = offset
    return sql, params


def rows_of(records: Sequence[Sequence[Any]], now: datetime, *, offset: int = 0) -> list[QueueRow]:
    out = []
    for rank, r in enumerate(records, start=offset + 1):
        created = r[9] if isinstance(r[9], datetime) else datetime.fromisoformat(str(r[9]))
        created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
        out.append(QueueRow(rank, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], created,
                            max(0, int((now - created).total_seconds())), r[10]))
    return out


def sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL (None for anything else: memory, URI options, other
    databases), for the read-only fast path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    rest = url[len(prefix):]
    return Path(rest) if rest and rest != ":memory:" and not rest.startswith("file:") else None


def read_queue(db: Path, now: datetime, statuses: Sequence[str], *, account: str | None, limit: int | None,
               offset: int = 0) -> list[QueueRow] | None:
    """The queue straight from a SQLite file, read-only; None when the file is missing or its schema
    is not the code's (the caller then takes the full path, which migrates or explains)."""
    if not db.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return None
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision is None or revision[0] != SCHEMA_HEAD:
            return None
        sql, params = queue_sql(statuses, account=account, limit=limit, offset=offset)
        return rows_of(conn.execute(sql, params).fetchall(), now, offset=offset)
    except sqlite3.Error:
        return None
    finally:
        conn.close()
