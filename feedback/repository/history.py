"""Imported history: an account's own past posts (imported_posts) and where their import stands
(history_imports). Imported posts are not candidates and never enter the post state machine."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from feedback.db import affected
from feedback.models import Account, Candidate, HistoryImport, ImportedPost, LearningState, Post, PostPart
from feedback.polling import COUNT_FIELDS, Counts


@dataclass(frozen=True)
class NewImport:
    """One post as a publisher read it, ready to store."""

    remote_id: str
    created_at: datetime
    text: str
    url: str | None
    media_count: int
    counts: Counts
    template: str | None = None  # the library template its picture was recognised as
    template_score: float | None = None  # the best template's score (None: no picture compared)
    tone: str | None = None  # what its caption reads as (generator/textgen/style.py; None: not sure)
    audience: str | None = None


@dataclass(frozen=True)
class ImportedReading:
    """An imported post as the learning code reads it."""

    account_id: int
    account: str
    remote_id: str
    created_at: datetime
    text: str
    counts: Counts
    template: str | None = None
    tone: str | None = None
    audience: str | None = None


def own_remote_ids(session: Session, account_id: int) -> set[str]:
    """Every remote id memeloop itself published on this account (posts and thread parts)."""
    ids = set(session.scalars(select(Post.remote_id).where(Post.account_id == account_id,
                                                           Post.remote_id.is_not(None))))
    ids |= set(session.scalars(select(PostPart.remote_id).join(Post, Post.id == PostPart.post_id)
                               .where(Post.account_id == account_id, PostPart.remote_id.is_not(None))))
    return {str(i) for i in ids}


def texts_in_flight(session: Session, account_id: int) -> set[str]:
    """Texts of this account's posts whose remote id is not known yet (publishing, unconfirmed): a
    post of ours that went out but was not settled must not come back as someone else's."""
    rows = session.scalars(select(Candidate.text).join(Post, Post.candidate_id == Candidate.id)
                           .where(Post.account_id == account_id, Post.remote_id.is_(None),
                                  Post.state.in_(("publishing", "unconfirmed"))))
    return {" ".join(t.split()).casefold() for t in rows}


def known_remote_ids(session: Session, account_id: int, remote_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(remote_ids))
    if not ids:
        return set()
    return set(session.scalars(select(ImportedPost.remote_id).where(ImportedPost.account_id == account_id,
                                                                    ImportedPost.remote_id.in_(ids))))


def add(session: Session, account_id: int, items: Sequence[NewImport], *, now: datetime) -> int:
    """Store the posts not stored yet (by remote id); returns how many were added."""
    fresh = {i.remote_id: i for i in items}
    for known in known_remote_ids(session, account_id, fresh):
        fresh.pop(known)
    if not fresh:
        return 0
    session.execute(insert(ImportedPost), [
        {"account_id": account_id, "remote_id": i.remote_id, "created_at": i.created_at, "text": i.text,
         "url": i.url, "media_count": i.media_count, "read_at": now, "imported_at": now,
         "template": i.template, "template_score": i.template_score, "tone": i.tone, "audience": i.audience,
         **{f: getattr(i.counts, f) for f in COUNT_FIELDS}} for i in fresh.values()])
    return len(fresh)


def never_compared(session: Session, account_id: int, remote_ids: Iterable[str]) -> set[str]:
    """Of these stored posts, those whose picture was never compared with the templates (template and
    score NULL: no picture, an unreadable one, or imported before migration r25_warm)."""
    ids = sorted(set(remote_ids))
    if not ids:
        return set()
    return set(session.scalars(select(ImportedPost.remote_id).where(
        ImportedPost.account_id == account_id, ImportedPost.remote_id.in_(ids), ImportedPost.template.is_(None),
        ImportedPost.template_score.is_(None))))


def fill_template(session: Session, account_id: int, remote_id: str, template: str | None, score: float) -> bool:
    """Store what a stored post's picture was recognised as, only if it was never compared; nothing
    else of the row changes. False: it was compared meanwhile (or is not stored)."""
    return affected(session.execute(
        update(ImportedPost)
        .where(ImportedPost.account_id == account_id, ImportedPost.remote_id == remote_id,
               ImportedPost.template.is_(None), ImportedPost.template_score.is_(None))
        .values(template=template, template_score=score))) == 1


def unread_styles(session: Session, account_id: int) -> list[tuple[int, str]]:
    """(id, text) of this account's stored posts whose caption has no tone or audience yet (not read,
    or read unsure: reading again is cheap and gives the same answer until the classifier changes)."""
    return [(int(i), str(t)) for i, t in session.execute(
        select(ImportedPost.id, ImportedPost.text).where(ImportedPost.account_id == account_id,
                                                         ImportedPost.tone.is_(None), ImportedPost.audience.is_(None))
        .order_by(ImportedPost.id))]


def fill_style(session: Session, post_id: int, tone: str | None, audience: str | None) -> bool:
    """Store what a stored post's caption reads as, only where it has none yet. False: nothing to fill."""
    if tone is None and audience is None:
        return False
    return affected(session.execute(
        update(ImportedPost).where(ImportedPost.id == post_id, ImportedPost.tone.is_(None),
                                   ImportedPost.audience.is_(None))
        .values(tone=tone, audience=audience))) == 1


def progress(session: Session, account_id: int) -> HistoryImport | None:
    return session.get(HistoryImport, account_id)


def save_progress(session: Session, account_id: int, *, now: datetime, **values: Any) -> None:
    values = {**values, "updated_at": now}
    if affected(session.execute(update(HistoryImport).where(HistoryImport.account_id == account_id)
                                .values(**values))) == 0:
        session.execute(insert(HistoryImport).values(account_id=account_id, **{"imported": 0, "skipped_own": 0,
                                                                                **values}))


def forget_learning_state(session: Session) -> None:
    """New history changes what the ranker should know from the start: its state is rebuilt (once,
    at the next load) with the imported posts folded in first, oldest first."""
    session.execute(delete(LearningState))


def readings(session: Session, *, account_ids: Sequence[int] | None = None) -> list[ImportedReading]:
    """Every imported post with its counters, oldest first."""
    cols = [getattr(ImportedPost, f) for f in COUNT_FIELDS]
    query = (select(ImportedPost.account_id, Account.name, ImportedPost.remote_id, ImportedPost.created_at,
                    ImportedPost.text, ImportedPost.template, ImportedPost.tone, ImportedPost.audience, *cols)
             .join(Account, Account.id == ImportedPost.account_id)
             .order_by(ImportedPost.created_at, ImportedPost.id))
    if account_ids is not None:
        query = query.where(ImportedPost.account_id.in_(list(account_ids)))
    return [ImportedReading(r[0], r[1], r[2], r[3], r[4], Counts(**dict(zip(COUNT_FIELDS, r[8:]))), r[5], r[6], r[7])
            for r in session.execute(query)]


def summary(session: Session, *, account: str | None = None) -> list[dict[str, Any]]:
    """Per account: imported posts (and how many of them were recognised as made on a template), their
    time span, and where the import stands (the dashboard's and `stats imported`'s rows)."""
    query = (select(Account.name.label("account"), Account.platform, func.count(ImportedPost.id).label("imported"),
                    func.count(ImportedPost.template).label("on_template"),
                    func.min(ImportedPost.created_at).label("first"), func.max(ImportedPost.created_at).label("last"),
                    HistoryImport.cursor, HistoryImport.resume_at, HistoryImport.skipped_own,
                    HistoryImport.last_error, HistoryImport.updated_at)
             .select_from(Account)
             .outerjoin(ImportedPost, ImportedPost.account_id == Account.id)
             .outerjoin(HistoryImport, HistoryImport.account_id == Account.id)
             .group_by(Account.id, Account.name, Account.platform, HistoryImport.account_id, HistoryImport.cursor,
                       HistoryImport.resume_at, HistoryImport.skipped_own, HistoryImport.last_error,
                       HistoryImport.updated_at)
             .order_by(Account.name))
    if account:
        query = query.where(Account.name == account)
    out = []
    for r in session.execute(query).mappings():
        state = "never" if r["updated_at"] is None else ("unfinished" if r["cursor"] else "done")
        out.append({"account": r["account"], "platform": r["platform"], "imported": int(r["imported"] or 0),
                    "on_template": int(r["on_template"] or 0),
                    "first": r["first"], "last": r["last"], "state": state, "resume_at": r["resume_at"],
                    "skipped_own": int(r["skipped_own"] or 0), "last_error": r["last_error"],
                    "updated_at": r["updated_at"]})
    return out
