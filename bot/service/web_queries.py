"""The reads the web admin needs beyond the CLI's: a filtered, paginated review board with each
card's siblings, a schedule range, one post with what each platform will receive, the dashboard's
datasets. Plain functions over a Session returning read models (bot.service.read_models); bot.app.App
exposes them."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from bot.config import AccountConfig
from bot.core.kinds import KINDS
from bot.service.read_models import (
    BoardPage,
    Card,
    CardSibling,
    PartOut,
    PostDetail,
    RankerEffect,
    Reading,
    ScheduledPost,
    SlotChoice,
)
from feedback import NotFound
from feedback.models import (
    Account,
    Candidate,
    EngagementWeight,
    HistoryImport,
    ImportedPost,
    MetricSnapshot,
    Post,
    Review,
    Template,
)
from feedback.repository import candidates as cand_repo
from feedback.repository import history as history_repo
from feedback.repository import posts as posts_repo
from feedback.repository import stats as stats_repo
from feedback.repository import threads as threads_repo

BOARD_PAGE = 24
DASHBOARD_DIMENSIONS = ("template", "generator", "tone", "hour")


@dataclass(frozen=True)
class BoardFilter:
    statuses: tuple[str, ...] = ("pending",)
    account: str | None = None
    generator: str | None = None
    template: str | None = None


__all__ = ["BoardFilter", "BoardPage"]  # BoardPage: bot.service.read_models


def _card(c: Candidate, account: str | None, slug: str | None, rank: int | None,
          siblings: dict[str, list[CardSibling]]) -> Card:
    from feedback.ranking.explain import stored_sentences

    explain = c.predicted_explain or {}
    return Card(id=c.id, rank=rank, status=c.status, status_reason=c.status_reason, text=c.text,
                generator=c.generator, account=account, template=slug, beam_rank=c.beam_rank,
                beam_score=c.beam_score, predicted_score=c.predicted_score, tone=c.tone,
                explain=explain.get("explain") or ([["beam_score (not ranked yet)", c.beam_score]]
                                                   if c.beam_score is not None else []),
                sentences=stored_sentences(explain), has_image=bool(c.image_path), version=c.version,
                group_key=c.group_key, created_at=c.created_at,
                siblings=[s for s in siblings.get(c.group_key or "", []) if s.id != c.id], alt=alt_of(c, slug),
                reading=_reading(c))


def alt_of(c: Candidate, template_name: str | None) -> str:
    """The alt text publishing sends for this candidate's image (colours left out: no image read)."""
    from generator.alttext import describe, labels_of

    return describe(c.generator, c.text, template_name=template_name, labels=labels_of(c.params),
                    gan=c.gan_seed is not None)


def _reading(c: Candidate) -> str | None:
    from generator.photo_topics import reading_words

    params = c.params or {}
    return reading_words(c.read_as, c.read_confidence, sure=params.get("sure"), topic=params.get("topic"),
                         source=params.get("topic_source"))


def board(session: Session, flt: BoardFilter, *, limit: int = BOARD_PAGE, offset: int = 0) -> BoardPage:
    """One page of the review order (as `queue list`), filtered; each card with its sibling beams.

    The page's ids are chosen on the candidates table alone (names resolved to ids first), so
    a deep page skips bare ids, not joined rows; only the page's rows are loaded."""
    cand_repo._check_statuses(flt.statuses)
    where: list[ColumnElement[bool]] = [Candidate.status.in_(flt.statuses)]
    if flt.generator:
        where.append(Candidate.generator == flt.generator)
    for name, column, model, key in (("account", Candidate.account_id, Account, Account.name),
                                     ("template", Candidate.template_id, Template, Template.slug)):
        wanted = getattr(flt, name)
        if wanted:
            where.append(column == select(model.id).where(key == wanted).scalar_subquery())
    total = session.scalar(select(func.count(Candidate.id)).where(*where)) or 0
    ids = list(session.scalars(select(Candidate.id).where(*where).order_by(*cand_repo._review_order())
                               .limit(limit).offset(offset)))
    found = {c.id: (c, a, t) for c, a, t in session.execute(
        select(Candidate, Account.name, Template.slug).outerjoin(Account, Candidate.account_id == Account.id)
        .outerjoin(Template, Candidate.template_id == Template.id).where(Candidate.id.in_(ids)))}
    siblings = _siblings(session, [found[cid][0].group_key for cid in ids])
    cards = [_card(*found[cid], offset + i + 1, siblings) for i, cid in enumerate(ids)]
    return BoardPage(cards=cards, total=total, offset=offset, limit=limit, options=_options(session))


def _siblings(session: Session, group_keys: Sequence[str | None]) -> dict[str, list[CardSibling]]:
    """The beams of each group, best beam first (a card shows those of its group but itself)."""
    keys = {k for k in group_keys if k}
    out: dict[str, list[CardSibling]] = {}
    if not keys:
        return out
    rows = session.execute(select(Candidate.id, Candidate.group_key, Candidate.beam_rank, Candidate.text,
                                  Candidate.status, Candidate.predicted_score)
                           .where(Candidate.group_key.in_(keys))
                           .order_by(Candidate.beam_rank.nulls_last(), Candidate.id)).all()
    for r in rows:
        out.setdefault(r.group_key, []).append(CardSibling(r.id, r.beam_rank, r.text, r.status, r.predicted_score))
    return out


def _options(session: Session) -> dict[str, list[str]]:
    return {"account": list(session.scalars(select(Account.name).order_by(Account.name))),
            "template": list(session.scalars(select(Template.slug).order_by(Template.slug))),
            "generator": [k.kind.value for k in KINDS]}


def card(session: Session, candidate_id: int) -> Card:
    """One card (the board's, for any status): used after an action and to swap in a sibling."""
    row = session.execute(select(Candidate, Account.name, Template.slug)
                          .outerjoin(Account, Candidate.account_id == Account.id)
                          .outerjoin(Template, Candidate.template_id == Template.id)
                          .where(Candidate.id == candidate_id)).one_or_none()
    if row is None:
        raise NotFound(f"no candidate with id {candidate_id}")
    return _card(*row, rank=None, siblings=_siblings(session, [row[0].group_key]))


def free_slots(session: Session, account: AccountConfig, account_id: int, *, now: datetime, n: int = 4
               ) -> list[datetime]:
    """The account's next ``n`` posting slots after everything already scheduled (what approve picks)."""
    from bot.service.slots import next_slot

    latest = posts_repo.latest_scheduled_at(session, account_id)
    at, out = max(now, latest) if latest else now, []
    for _ in range(n):
        at = next_slot(account, at)
        out.append(at)
    return out


def slot_candidates(session: Session, account_id: int, *, limit: int = 12) -> list[SlotChoice]:
    """What may fill an empty slot of the account: approved candidates with no live post on it (newest
    first), then the first pending ones in review order (approving one there schedules it)."""
    live = select(Post.id).where(Post.candidate_id == Candidate.id, Post.account_id == account_id,
                                 Post.state != "cancelled").exists()
    mine = or_(Candidate.account_id == account_id, Candidate.account_id.is_(None))
    base = (select(Candidate, Template.slug).outerjoin(Template, Candidate.template_id == Template.id)
            .where(mine).limit(limit))
    approved = session.execute(base.where(Candidate.status == "approved", ~live).order_by(Candidate.id.desc()))
    pending = session.execute(base.where(Candidate.status == "pending").order_by(*cand_repo._review_order()))

    return [SlotChoice(id=c.id, text=c.text, generator=c.generator, template=slug, status=c.status,
                       has_image=bool(c.image_path), version=c.version, predicted_score=c.predicted_score,
                       alt=alt_of(c, slug)) for rows in (approved, pending) for c, slug in rows]


def image_path(session: Session, candidate_id: int) -> str | None:
    return cand_repo.get_candidate(session, candidate_id).image_path


def schedule(session: Session, *, start: datetime, end: datetime, account: str | None = None
             ) -> list[ScheduledPost]:
    """Posts scheduled (or published) in [start, end), oldest first, for the calendar."""
    query = (select(Post, Account.name, Account.platform, Candidate.text, Candidate.image_path, Candidate.version,
                    Candidate.generator)
             .join(Account, Post.account_id == Account.id).join(Candidate, Post.candidate_id == Candidate.id)
             .where(Post.scheduled_at >= start, Post.scheduled_at < end)
             .order_by(Post.scheduled_at, Post.id))
    if account:
        query = query.where(Account.name == account)
    return [ScheduledPost(id=p.id, state=p.state, account=name, platform=platform, candidate_id=p.candidate_id,
                          text=text, scheduled_at=p.scheduled_at, published_at=p.published_at,
                          remote_url=p.remote_url, last_error=p.last_error, has_image=bool(image),
                          version=version, generator=generator)
            for p, name, platform, text, image, version, generator in session.execute(query)]


def post_detail(session: Session, post_id: int) -> PostDetail:
    p = posts_repo.get_post(session, post_id)
    c, a = p.candidate, p.account
    return PostDetail(id=p.id, state=p.state, account=a.name, platform=a.platform, hashtag_cap=a.hashtag_cap,
                      candidate_id=c.id, text=c.text, template=c.template.name if c.template else None,
                      alt=alt_of(c, c.template.name if c.template else None),
                      image_path=c.image_path, scheduled_at=p.scheduled_at, published_at=p.published_at,
                      attempts=p.attempts, remote_url=p.remote_url, error_class=p.error_class,
                      last_error=p.last_error, generator=c.generator, version=c.version, status=c.status,
                      parts_out=[PartOut(position=r.position, state=r.state, remote_url=r.remote_url,
                                         published_at=r.published_at) for r in threads_repo.parts_of(session, p.id)],
                      snapshots=post_snapshots(session, p.id))


def post_snapshots(session: Session, post_id: int, *, limit: int = 200) -> list[Reading]:
    """The post's engagement readings over time (metric_snapshots, oldest first; the newest ``limit``),
    each with its engagement as the ranker weighs it (engagement_weights; None: nothing weighed known)."""
    from feedback.polling import COUNT_FIELDS, Counts, engagement_score

    weights = {name: w for name, w in session.execute(select(EngagementWeight.name, EngagementWeight.weight))}
    rows = list(session.scalars(select(MetricSnapshot).where(MetricSnapshot.post_id == post_id)
                                .order_by(MetricSnapshot.taken_at.desc(), MetricSnapshot.id.desc()).limit(limit)))
    out = []
    for s in reversed(rows):
        counts = {name: getattr(s, name) for name in COUNT_FIELDS}
        out.append(Reading(taken_at=s.taken_at, age_s=s.age_s, **counts,
                           engagement=engagement_score(Counts(**counts), weights) if weights else None))
    return out


def dashboard(session: Session, *, account: str | None = None, top: int = 5) -> dict[str, list[dict[str, Any]]]:
    """Every dataset of the dashboard page, by name (each is also a CSV/JSON download): the queries
    of feedback.repository.stats (the CLI's `memeloop stats`), which read the pre-aggregated rollups
    of migration 0008, so the page costs a few rows per group whatever the history size."""
    data = {"time": stats_repo.over_time(session, account=account)}
    for dim in DASHBOARD_DIMENSIONS:
        data[dim] = stats_repo.by_dimension(session, dim, account=account)
    data["top"] = stats_repo.top_posts(session, limit=top, account=account)
    data["bottom"] = stats_repo.top_posts(session, limit=top, bottom=True, account=account)
    data["approval"] = stats_repo.approval(session, by="generator", account=account)
    data["imported"] = history_repo.summary(session, account=account)
    return data


def dashboard_signature(session: Session) -> tuple:
    """Changes whenever anything the dashboard shows can have changed (new snapshots, posts moving,
    reviews, new candidates, other weights): the key of the web admin's dashboard cache."""
    return (session.scalar(select(func.max(MetricSnapshot.id))), session.scalar(select(func.max(Post.updated_at))),
            session.scalar(select(func.max(Review.id))), session.scalar(select(func.max(Candidate.id))),
            session.scalar(select(func.max(ImportedPost.id))), session.scalar(select(func.max(HistoryImport.updated_at))),
            tuple(session.execute(select(EngagementWeight.name, EngagementWeight.weight)
                                  .order_by(EngagementWeight.name)).all()))


def ranker_effects(session: Session, *, limit: int = 12, sample: int = 500) -> list[RankerEffect]:
    """What the ranker learned, as its latest re-rank explained the pending queue: each feature's mean
    contribution over the newest ``sample`` scored candidates, strongest first, with its posterior sd
    (mean over those candidates), its evidence (posts that carried it, as of the newest scoring) and a
    sentence in a reviewer's words ("captions about "monday" do 1.8x baseline (likely 1.2x-2.7x, from
    14 posts)"). A prediction stored without effects contributes its contribution only."""
    from feedback.ranking.explain import Effect, sentences, stored_effects

    seen: dict[str, list[float]] = {}
    spread: dict[str, list[float]] = {}
    evidence: dict[str, float] = {}
    for explain in session.scalars(select(Candidate.predicted_explain)
                                   .where(Candidate.status == "pending", Candidate.predicted_explain.is_not(None))
                                   .order_by(Candidate.id.desc()).limit(sample)):
        effects = stored_effects(explain or {})
        for e in effects:
            seen.setdefault(e.name, []).append(e.contribution)
            spread.setdefault(e.name, []).append(e.sd)
            evidence.setdefault(e.name, e.evidence)  # newest first: the latest scoring's count
        if effects:
            continue
        for name, value in (explain or {}).get("explain") or []:
            if isinstance(value, int | float):
                seen.setdefault(str(name), []).append(float(value))
    means: list[RankerEffect] = []
    for k, v in seen.items():
        weight = sum(v) / len(v)
        if k in spread:
            sd = sum(spread[k]) / len(spread[k])
            sentence = sentences([Effect(k, weight, sd, evidence[k])])[0]
            means.append(RankerEffect(k, weight, len(v), sd, evidence[k], sentence))
        else:
            means.append(RankerEffect(k, weight, len(v), None, None, None))
    return sorted(means, key=lambda r: -abs(r.weight))[:limit]
