"""Review use cases: approve, reject, edit, cancel, retry, reschedule, add a candidate by hand.

Each one asks the lifecycle table (feedback.lifecycle) what the action does in the candidate's and
its post's current state, then makes it so in ONE transaction of conditional UPDATEs: the candidate
on its status and row version, the post on its state. If the publisher claimed the post in the
meantime, the post's UPDATE finds nothing, the whole transaction rolls back and the action is
refused with the post's new state: a reject can never lose to an earlier approve.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.config import AccountConfig, ConfigError
from bot.core.kinds import Kind, content_kind
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

    from bot.core.deps import Deps
    from bot.core.media import Media

log = logging.getLogger(__name__)
BEST: Literal["best"] = "best"  # approve at=BEST: the account's learned best time (best_time)
PAST_GRACE = timedelta(minutes=1)  # "now" computed by the caller a moment ago is not the past


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
    account: str | None = None  # the post's account (its time zone shows the post's times)


def account_of(deps: Deps, candidate: Candidate, account: str | None) -> AccountConfig:
    acc = deps.resolve_account(account, account_id=candidate.account_id)
    if acc is None:
        raise ConfigError(f"candidate {candidate.id} has no account; pass --account NAME")
    return acc


def _state(post: Post | None) -> PostState | None:
    return PostState(post.state) if post is not None else None


def _apply(session: Session, deps: Deps, cand: Candidate, post: Post | None, action: Action, move: Move, *,
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
        post = posts_repo.schedule_post(session, candidate_id=cand.id, account_id=deps.account_ids[account.name],
                                        at=at or _next_free(session, deps, account, now), now=now)
    elif move.post is not PostEffect.NONE:
        assert post is not None
        if not _move_post(session, post, move.post, now=now, at=at, why=f"{action.value} by {actor}"
                                                                        + (f": {reason}" if reason else "")):
            fresh = posts_repo.get_post(session, post.id)
            raise Refused(f"cannot {action.value} candidate {cand.id}: its post {post.id} is {fresh.state} now")
        post = posts_repo.get_post(session, post.id)
    after = move.candidate_to.value if move.candidate_to is not None else before
    name = account.name if account is not None else deps.account_name(post.account_id) if post else None
    return ReviewResult(cand.id, action.value, before, after, post.id if post else None,
                        post.state if post else None, post.scheduled_at if post else None,
                        post_before=post_before, account=name)


def _move_post(session: Session, post: Post, effect: PostEffect, *, now: datetime, at: datetime | None,
               why: str) -> bool:
    if effect is PostEffect.CANCEL:
        return posts_repo.cancel(session, post.id, now=now, reason=why)
    if effect is PostEffect.RETRY:
        return posts_repo.retry(session, post.id, at=now, now=now, reason=why)
    if effect is PostEffect.HOLD:
        return posts_repo.hold(session, post.id, now=now)
    return posts_repo.reschedule(session, post.id, at=at or now, now=now)


def _next_free(session: Session, deps: Deps, account: AccountConfig, now: datetime) -> datetime:
    latest = posts_repo.latest_scheduled_at(session, deps.account_ids[account.name])
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

def best_time(session: Session, deps: Deps, account: AccountConfig, now: datetime, *, salt: int = 0) -> datetime:
    """The account's best time to post from now (bot.service.slots.best_time over its learned timing:
    Thompson over weekday x hour among its best_hours, min_spacing from its scheduled posts)."""
    import numpy as np

    from bot.service import slots
    from feedback.learning import timing_observations
    from feedback.ranking.timing import Timing

    timing = Timing(timing_observations(session, account.name, deps.learning()))
    scheduled = posts_repo.scheduled_times(session, deps.account_ids[account.name], after=now - account.min_spacing)
    seed = deps.config.ranking.seed
    rng = np.random.default_rng(None if seed is None else [seed, salt])
    return slots.best_time(account, now, scheduled, timing, rng)


def approve(deps: Deps, candidate_id: int, *, actor: str, at: datetime | Literal["best"] | None = None,
            account: str | None = None, expected_version: int | None = None, reason: str | None = None,
            within_rules: bool = False) -> ReviewResult:
    """Approve and schedule at ``at``, at the account's best time (``"best"``) or at its next free slot.
    ``reason``: the reviewer's comment, kept in the audit row. ``within_rules``: a given ``at`` must keep
    the account's rules (slots.target_problem), else it is refused with the reason (the web calendar
    asks for this; the CLI's --at is the operator's word)."""
    now = deps.clock()
    with deps.tx() as session:
        cand = _seen(cand_repo.get_candidate(session, candidate_id, fresh=True), expected_version)
        acc = account_of(deps, cand, account)
        _publishable(deps, cand, acc)
        post = posts_repo.post_of(session, candidate_id, deps.account_ids[acc.name])
        move = _decided(cand, post, Action.APPROVE)
        when = best_time(session, deps, acc, now, salt=candidate_id) if at == BEST else at
        assert not isinstance(when, str)
        if within_rules and when is not None:
            _keep_rules(session, deps, acc, when, now)  # the past too, in the account's words
        else:
            _not_past(deps, when, now, acc.name)
        result = _apply(session, deps, cand, post, Action.APPROVE, move, actor=actor, now=now, at=when,
                        account=acc, reason=reason)
    log.info("event=post_scheduled post=%s candidate=%s account=%s at=%s actor=%s", result.post_id,
             candidate_id, acc.name, result.scheduled_at, actor)
    return result


def _not_past(deps: Deps, at: datetime | None, now: datetime, account: str | None) -> None:
    """A time to post at that has passed is refused with the reason, never quietly moved to a slot
    (the missed-slot sweep would do that): the caller meant a time, and it is gone."""
    from bot.config.timefmt import iso, zone_of

    if at is not None and at < now - PAST_GRACE:
        tz = zone_of(deps.config, account)
        raise UsageError(f"the time {iso(at, tz)} is in the past (now {iso(now, tz)}): a post cannot go out "
                         "before now; give a later time, or none for the account's next free slot")


@dataclass(frozen=True)
class BulkOutcome:
    """One candidate of a bulk review: what happened to it, or why nothing did."""

    candidate_id: int
    ok: bool
    message: str
    result: ReviewResult | None = None


BULK_MAX = 100  # candidates one bulk action may name


def bulk(deps: Deps, action: Literal["approve", "reject"], items: Sequence[tuple[int, int | None]], *,
         actor: str, reason: str | None = None) -> list[BulkOutcome]:
    """Approve or reject several candidates, each through the same use case (approve / reject) in its own
    transaction: one that moved meanwhile (``items``: id and the version the reviewer saw) or is refused
    is reported and the others still go through."""
    from bot.errors import service_errors

    if not items:
        raise UsageError("no candidates selected")
    if len(items) > BULK_MAX:
        raise UsageError(f"{len(items)} candidates selected; one bulk action takes at most {BULK_MAX}")
    if action == "reject" and not (reason or "").strip():
        raise UsageError("a reject needs a reason")
    out = []
    for candidate_id, version in items:
        try:
            if action == "approve":
                result = approve(deps, candidate_id, actor=actor, expected_version=version)
                message = f"approved: post {result.post_id}"
            else:
                result = reject(deps, candidate_id, actor=actor, reason=str(reason), expected_version=version)
                message = "rejected" + (f"; its post {result.post_id} was cancelled" if result.post_id else "")
        except service_errors() as exc:
            out.append(BulkOutcome(candidate_id, False, str(exc)))
            continue
        out.append(BulkOutcome(candidate_id, True, message, result))
    log.info("event=bulk_review action=%s actor=%s done=%d refused=%d", action, actor, sum(o.ok for o in out),
             sum(not o.ok for o in out))
    return out


def _publishable(deps: Deps, cand: Candidate, acc: AccountConfig) -> None:
    """A candidate the platform's preflight refused at generation stays refused for that platform:
    approving it would only fail at publish (bot/service/pipeline_gates.py). The refusal is the stored
    reason, word for word."""
    if cand.filter_gate != "preflight":  # an edit back to pending does not make the image bigger
        return
    own = account_of(deps, cand, None) if cand.account_id is not None else acc
    if own.platform == acc.platform:
        raise Refused(f"candidate {cand.id}: {cand.status_reason}")


def _decided(cand: Candidate, post: Post | None, action: Action) -> Move:
    try:
        return decide(cand.status, _state(post), action)
    except Refused as exc:
        post_part = f" (post {post.id} is {post.state})" if post is not None else ""
        raise Refused(f"candidate {cand.id}{post_part}: {exc}") from None


def reject(deps: Deps, candidate_id: int, *, actor: str, reason: str,
           expected_version: int | None = None) -> ReviewResult:
    """Reject; an approved candidate's unclaimed post is cancelled in the same transaction."""
    with deps.tx() as session:
        cand, post = _load(session, candidate_id, expected_version=expected_version)
        move = _decided(cand, post, Action.REJECT)
        result = _apply(session, deps, cand, post, Action.REJECT, move, actor=actor, now=deps.clock(), reason=reason)
    if result.post_id is not None:
        log.info("event=post_cancelled post=%s candidate=%s by=reject actor=%s", result.post_id, candidate_id, actor)
    return result


def edit(deps: Deps, candidate_id: int, *, actor: str, text: str, reason: str | None = None,
         expected_version: int | None = None) -> ReviewResult:
    """New text; a meme is re-rendered onto its template (outside the transaction, then stored only if
    nobody changed the candidate meanwhile). An approved, unclaimed candidate stays approved and its
    post goes out as edited; otherwise the candidate goes back to pending for review."""
    with deps.tx() as session:
        cand, post = _load(session, candidate_id, expected_version=expected_version)
        move = _decided(cand, post, Action.EDIT)
        seen = cand.version
        source = cand.source_image_path or (cand.template.image_path if cand.template else None)
        boxes = list(cand.template.boxes) if cand.template else []
        # only memes carry their text on the picture; a photo's or a thread's text is the post's text
        rerender = move.rerender and content_kind(cand.generator).text_on_image and source is not None
    media = _render(deps, candidate_id, source, boxes, text) if rerender and source else None
    with deps.tx() as session:
        cand, post = _load(session, candidate_id)
        if cand.version != seen:
            raise Conflict(f"candidate {candidate_id} was changed by someone else; look again and retry")
        move = _decided(cand, post, Action.EDIT)
        result = _apply(session, deps, cand, post, Action.EDIT, move, actor=actor, now=deps.clock(), reason=reason,
                        text=text)
        if media is not None:
            cand_repo.set_image(session, candidate_id, path=media.path, sha256=media.sha256, phash=media.phash)
    return ReviewResult(**{**result.__dict__, "image_path": media.path if media else None})


def _render(deps: Deps, candidate_id: int, source: str, boxes: list, text: str) -> Media:
    from generator import GeneratorError
    from generator.annotate import render_meme
    from generator.imageio import open_image
    from generator.types import Box

    try:
        image = render_meme(open_image(source, animated="first_frame"), text, [Box.of(b) for b in boxes] or None)
    except (OSError, GeneratorError) as exc:
        raise GeneratorError(f"cannot re-render candidate {candidate_id}: {source}: {exc}; nothing was changed") \
            from None
    return deps.media.put_image(image)


def cancel(deps: Deps, post_id: int, *, actor: str, reason: str | None = None) -> ReviewResult:
    """Unschedule: the post is cancelled and its candidate goes back to pending."""
    return _post_action(deps, post_id, Action.CANCEL, actor=actor, reason=reason)


def retry(deps: Deps, post_id: int, *, actor: str) -> ReviewResult:
    """A failed or unconfirmed post goes out again now, with a fresh attempt budget."""
    return _post_action(deps, post_id, Action.RETRY, actor=actor, reason="retry requested")


def reschedule(deps: Deps, post_id: int, *, actor: str, at: datetime, within_rules: bool = False) -> ReviewResult:
    """Move a scheduled post to ``at`` (never into the past); ``within_rules``: also refuse a time that
    breaks the account's rules (outside its allowed hours, too close to its other posts) with the reason."""
    if not within_rules:
        _not_past(deps, at, deps.clock(), None)
    return _post_action(deps, post_id, Action.RESCHEDULE, actor=actor, at=at, reason=f"moved to {at.isoformat()}",
                        within_rules=within_rules)


def _keep_rules(session: Session, deps: Deps, account: AccountConfig, at: datetime, now: datetime, *,
                moving: int | None = None) -> None:
    from bot.service.slots import target_problem

    near = posts_repo.scheduled_near(session, deps.account_ids[account.name], at=at, within=account.min_spacing,
                                     exclude=moving)
    problem = target_problem(account, at, now=now, near=near)
    if problem is not None:
        from zoneinfo import ZoneInfo

        local = at.astimezone(ZoneInfo(account.timezone))
        raise UsageError(f"not at {local:%Y-%m-%d %H:%M} ({account.timezone}): {problem}. Nothing was changed")


def _post_action(deps: Deps, post_id: int, action: Action, *, actor: str, reason: str | None = None,
                 at: datetime | None = None, within_rules: bool = False) -> ReviewResult:
    with deps.tx() as session:
        post = posts_repo.get_post(session, post_id)
        cand = cand_repo.get_candidate(session, post.candidate_id, fresh=True)
        try:
            move = decide(cand.status, post.state, action)
        except Refused as exc:
            raise Refused(f"post {post_id} is {post.state}: {exc}") from None
        if within_rules and at is not None:
            _keep_rules(session, deps, deps.config.account(post.account.name), at, deps.clock(), moving=post.id)
        result = _apply(session, deps, cand, post, action, move, actor=actor, now=deps.clock(), reason=reason, at=at)
    log.warning("event=post_%s post=%s candidate=%s actor=%s", action.value, post_id, result.candidate_id, actor)
    return result


def add_manual(deps: Deps, image: Path, text: str, *, account: str | None, actor: str) -> int:
    """A hand-made candidate (generator 'manual') on the user's own image, kept in the media store."""
    from feedback.repository.reviews import record_added

    if not text.strip():
        raise UsageError("the text is empty")
    acc = deps.resolve_account(account)
    account = acc.name if acc is not None else None
    media = deps.media.put_file(image)
    with deps.tx() as session:
        row = cand_repo.add_candidate(session, cand_repo.NewCandidate(
            generator=Kind.MANUAL, text=text.strip(), account_id=deps.account_ids.get(account) if account else None,
            image_path=media.path, image_sha256=media.sha256, image_phash=media.phash,
            status=CandidateStatus.PENDING), deps.clock())
        record_added(session, row.id, actor=actor, now=deps.clock())
        return row.id


def resume_account(deps: Deps, name: str) -> str | None:
    """Lift a pause; returns the reason it was paused for (None: it was not)."""
    from feedback.repository import accounts as account_repo

    with deps.tx() as session:
        row = account_repo.get_by_name(session, name)
        reason = row.pause_reason
        account_repo.resume(session, row.id)
    deps.forget_publisher(name)  # a cached publisher may remember why it stopped: start it afresh
    return reason
