"""Review use cases: approve, reject, edit, cancel, retry, reschedule, add a candidate by hand.

Each one asks the lifecycle table (feedback.lifecycle) what the action does in the candidate's and
its post's current state, then makes it so in ONE transaction of conditional UPDATEs: the candidate
on its status and row version, the post on its state. If the publisher claimed the post in the
meantime, the post's UPDATE finds nothing, the whole transaction rolls back and the action is
refused with the post's new state: a reject can never lose to an earlier approve.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.config import AccountConfig, ConfigError
from bot.errors import UsageError
from bot.service.slots import next_slot
from feedback import Conflict
from feedback.lifecycle import Action, Move, PostEffect, Refused, decide
from feedback.models import Candidate, Post
from feedback.repository import candidates as cand_repo
from feedback.repository import posts as posts_repo
from feedback.repository import reviews
from feedback.states import CandidateStatus, PostState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.app import App
    from bot.core.media import Media

log = logging.getLogger(__name__)
BEST = "best"  # approve at=BEST: the account's learned best time (best_time)


@dataclass(frozen=True)
class ReviewResult:
    """What one action did: the candidate's status before and after, and its post (if any)."""

    candidate_id: int
    action: str
    before: str
    after: str
    post_id: int | None = None
    post_state: str | None = None
    scheduled_at: datetime | None = None
    image_path: str | None = None
    post_before: str | None = None


def account_of(app: App, candidate: Candidate, account: str | None) -> AccountConfig:
    if account:
        return app.config.account(account)
    if candidate.account_id is not None:
        name = app.account_name(candidate.account_id)
        if name is not None:
            return app.config.account(name)
    if len(app.config.accounts) == 1:
        return app.config.accounts[0]
    raise ConfigError(f"candidate {candidate.id} has no account; pass --account NAME")


def _state(post: Post | None) -> PostState | None:
    return PostState(post.state) if post is not None else None


def _apply(session: Session, app: App, cand: Candidate, post: Post | None, action: Action, move: Move, *,
           actor: str, now: datetime, reason: str | None = None, text: str | None = None,
           at: datetime | None = None, account: AccountConfig | None = None) -> ReviewResult:
    """Make ``move`` stick: candidate first, then the post; a post that moved meanwhile refuses all."""
    before, post_before = cand.status, post.state if post is not None else None
    if move.candidate_to is not None and (move.candidate_to != before or text is not None):
        reviews.record(session, cand.id, expected_status=before, expected_version=cand.version,
                       to=move.candidate_to, action=action.value, actor=actor, now=now, reason=reason,
                       new_text=text)
    elif text is not None or action in (Action.RETRY, Action.RESCHEDULE, Action.CANCEL):
        reviews.record(session, cand.id, expected_status=before, expected_version=cand.version, to=before,
                       action=action.value, actor=actor, now=now, reason=reason, new_text=text)
    if move.post is PostEffect.SCHEDULE:
        assert account is not None
        post = posts_repo.schedule_post(session, candidate_id=cand.id, account_id=app.account_ids[account.name],
                                        at=at or _next_free(session, app, account, now), now=now)
    elif move.post is not PostEffect.NONE:
        assert post is not None
        if not _move_post(session, post, move.post, now=now, at=at, why=f"{action.value} by {actor}"
                                                                        + (f": {reason}" if reason else "")):
            fresh = posts_repo.get_post(session, post.id)
            raise Refused(f"cannot {action.value} candidate {cand.id}: its post {post.id} is {fresh.state} now")
        post = posts_repo.get_post(session, post.id)
    after = move.candidate_to.value if move.candidate_to is not None else before
    return ReviewResult(cand.id, action.value, before, after, post.id if post else None,
                        post.state if post else None, post.scheduled_at if post else None,
                        post_before=post_before)


def _move_post(session: Session, post: Post, effect: PostEffect, *, now: datetime, at: datetime | None,
               why: str) -> bool:
    if effect is PostEffect.CANCEL:
        return posts_repo.cancel(session, post.id, now=now, reason=why)
    if effect is PostEffect.RETRY:
        return posts_repo.retry(session, post.id, at=now, now=now, reason=why)
    if effect is PostEffect.HOLD:
        return posts_repo.hold(session, post.id, now=now)
    return posts_repo.reschedule(session, post.id, at=at or now, now=now)


def _next_free(session: Session, app: App, account: AccountConfig, now: datetime) -> datetime:
    latest = posts_repo.latest_scheduled_at(session, app.account_ids[account.name])
    return next_slot(account, max(now, latest) if latest else now)


def _load(session: Session, candidate_id: int, account_id: int | None = None, *,
          expected_version: int | None = None) -> tuple[Candidate, Post | None]:
    cand = _seen(cand_repo.get_candidate(session, candidate_id, fresh=True), expected_version)
    return cand, posts_repo.post_of(session, candidate_id, account_id or cand.account_id)


def _seen(cand: Candidate, expected_version: int | None) -> Candidate:
    """A caller that showed the candidate to someone (the web admin) acts only on what was shown."""
    if expected_version is not None and cand.version != expected_version:
        raise Conflict(f"candidate {cand.id} was changed by someone else since you looked "
                       f"(version {expected_version}, now {cand.version}); nothing was changed, look again")
    return cand


# -- the use cases ---------------------------------------------------------------------------------

def best_time(session: Session, app: App, account: AccountConfig, now: datetime, *, salt: int = 0) -> datetime:
    """The account's best time to post from now (bot.slots.best_time over its learned timing:
    Thompson over weekday x hour among its best_hours, min_spacing from its scheduled posts)."""
    import numpy as np

    from bot.service import slots
    from feedback.learning import Settings, timing_observations
    from feedback.ranking.timing import Timing

    cfg = app.config.ranking
    settings = Settings({str(k): v for k, v in cfg.weights.items()}, cfg.engagement_age, cfg.baseline_posts,
                        {a.name: a.timezone for a in app.config.accounts})
    timing = Timing(timing_observations(session, account.name, settings))
    scheduled = posts_repo.scheduled_times(session, app.account_ids[account.name], after=now - account.min_spacing)
    rng = np.random.default_rng(None if cfg.seed is None else [cfg.seed, salt])
    return slots.best_time(account, now, scheduled, timing, rng)


def approve(app: App, candidate_id: int, *, actor: str, at: datetime | Literal["best"] | None = None,
            account: str | None = None, expected_version: int | None = None) -> ReviewResult:
    """Approve and schedule at ``at``, at the account's best time (``"best"``) or at its next free slot."""
    now = app.clock()
    with app.tx() as session:
        cand = _seen(cand_repo.get_candidate(session, candidate_id, fresh=True), expected_version)
        acc = account_of(app, cand, account)
        post = posts_repo.post_of(session, candidate_id, app.account_ids[acc.name])
        move = _decided(cand, post, Action.APPROVE)
        when = best_time(session, app, acc, now, salt=candidate_id) if at == BEST else at
        assert not isinstance(when, str)
        result = _apply(session, app, cand, post, Action.APPROVE, move, actor=actor, now=now, at=when,
                        account=acc)
    log.info("event=post_scheduled post=%s candidate=%s account=%s at=%s actor=%s", result.post_id,
             candidate_id, acc.name, result.scheduled_at, actor)
    return result


def _decided(cand: Candidate, post: Post | None, action: Action) -> Move:
    try:
        return decide(cand.status, _state(post), action)
    except Refused as exc:
        post_part = f" (post {post.id} is {post.state})" if post is not None else ""
        raise Refused(f"candidate {cand.id}{post_part}: {exc}") from None


def reject(app: App, candidate_id: int, *, actor: str, reason: str,
           expected_version: int | None = None) -> ReviewResult:
    """Reject; an approved candidate's unclaimed post is cancelled in the same transaction."""
    with app.tx() as session:
        cand, post = _load(session, candidate_id, expected_version=expected_version)
        move = _decided(cand, post, Action.REJECT)
        result = _apply(session, app, cand, post, Action.REJECT, move, actor=actor, now=app.clock(), reason=reason)
    if result.post_id is not None:
        log.info("event=post_cancelled post=%s candidate=%s by=reject actor=%s", result.post_id, candidate_id, actor)
    return result


def edit(app: App, candidate_id: int, *, actor: str, text: str, reason: str | None = None,
         expected_version: int | None = None) -> ReviewResult:
    """New text; a meme is re-rendered onto its template (outside the transaction, then stored only if
    nobody changed the candidate meanwhile). An approved, unclaimed candidate stays approved and its
    post goes out as edited; otherwise the candidate goes back to pending for review."""
    with app.tx() as session:
        cand, post = _load(session, candidate_id, expected_version=expected_version)
        move = _decided(cand, post, Action.EDIT)
        seen = cand.version
        source = cand.source_image_path or (cand.template.image_path if cand.template else None)
        boxes = list(cand.template.boxes) if cand.template else []
        # only memes carry their text on the picture; a photo's or a thread's text is the post's text
        rerender = move.rerender and cand.generator in ("meme", "textmeme") and source is not None
    media = _render(app, candidate_id, source, boxes, text) if rerender and source else None
    with app.tx() as session:
        cand, post = _load(session, candidate_id)
        if cand.version != seen:
            raise Conflict(f"candidate {candidate_id} was changed by someone else; look again and retry")
        move = _decided(cand, post, Action.EDIT)
        result = _apply(session, app, cand, post, Action.EDIT, move, actor=actor, now=app.clock(), reason=reason,
                        text=text)
        if media is not None:
            cand_repo.set_image(session, candidate_id, path=media.path, sha256=media.sha256, phash=media.phash)
    return ReviewResult(**{**result.__dict__, "image_path": media.path if media else None})


def _render(app: App, candidate_id: int, source: str, boxes: list, text: str) -> Media:
    from generator import GeneratorError
    from generator.annotate import render_meme
    from generator.imageio import open_image
    from generator.types import Box

    try:
        image = render_meme(open_image(source, animated="first_frame"), text, [Box.of(b) for b in boxes] or None)
    except (OSError, GeneratorError) as exc:
        raise GeneratorError(f"cannot re-render candidate {candidate_id}: {source}: {exc}; nothing was changed") \
            from None
    return app.media.put_image(image)


def cancel(app: App, post_id: int, *, actor: str, reason: str | None = None) -> ReviewResult:
    """Unschedule: the post is cancelled and its candidate goes back to pending."""
    return _post_action(app, post_id, Action.CANCEL, actor=actor, reason=reason)


def retry(app: App, post_id: int, *, actor: str) -> ReviewResult:
    """A failed or unconfirmed post goes out again now, with a fresh attempt budget."""
    return _post_action(app, post_id, Action.RETRY, actor=actor, reason="retry requested")


def reschedule(app: App, post_id: int, *, actor: str, at: datetime) -> ReviewResult:
    return _post_action(app, post_id, Action.RESCHEDULE, actor=actor, at=at, reason=f"moved to {at.isoformat()}")


def _post_action(app: App, post_id: int, action: Action, *, actor: str, reason: str | None = None,
                 at: datetime | None = None) -> ReviewResult:
    with app.tx() as session:
        post = posts_repo.get_post(session, post_id)
        cand = cand_repo.get_candidate(session, post.candidate_id, fresh=True)
        try:
            move = decide(cand.status, post.state, action)
        except Refused as exc:
            raise Refused(f"post {post_id} is {post.state}: {exc}") from None
        result = _apply(session, app, cand, post, action, move, actor=actor, now=app.clock(), reason=reason, at=at)
    log.warning("event=post_%s post=%s candidate=%s actor=%s", action.value, post_id, result.candidate_id, actor)
    return result


def add_manual(app: App, image: Path, text: str, *, account: str | None, actor: str) -> int:
    """A hand-made candidate (generator 'manual') on the user's own image, kept in the media store."""
    from feedback.repository.reviews import record_added

    if not text.strip():
        raise UsageError("the text is empty")
    if account:
        app.config.account(account)
    elif len(app.config.accounts) == 1:
        account = app.config.accounts[0].name
    media = app.media.put_file(image)
    with app.tx() as session:
        row = cand_repo.add_candidate(session, cand_repo.NewCandidate(
            generator="manual", text=text.strip(), account_id=app.account_ids.get(account) if account else None,
            image_path=media.path, image_sha256=media.sha256, image_phash=media.phash,
            status=CandidateStatus.PENDING), app.clock())
        record_added(session, row.id, actor=actor, now=app.clock())
        return row.id
