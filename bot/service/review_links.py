"""Review links: an editor hands someone without an account (a client, a manager) a link for one
candidate, thread or post; its holder sees the preview and approves or rejects it once, with a
comment. The decision goes through the same use cases as the board's buttons (bot/service/review.py,
bot/service/story.py), so the lifecycle and the audit log apply; the actor is ``link:<label>``.

A link's token is 32 random bytes (secrets.token_urlsafe), shown once at creation; only its SHA-256
is stored. A link expires, can be revoked, and is used up by its first decision (a conditional
UPDATE, so two holders pressing at once decide once). A decision the lifecycle refuses (someone
approved it on the board meanwhile) leaves the link usable and says why."""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.errors import UsageError
from bot.service.web_users import token_hash
from feedback import Conflict
from feedback.repository import review_links as links_repo
from feedback.repository.review_links import KINDS, LinkRow

if TYPE_CHECKING:
    from bot.core.deps import Deps
    from bot.service.review import ReviewResult

log = logging.getLogger(__name__)
LABEL = re.compile(r"[^\x00-\x1f\x7f]{1,48}")
DEFAULT_TTL = timedelta(days=7)
MAX_TTL = timedelta(days=90)
MIN_TTL = timedelta(minutes=5)
DECISIONS = ("approve", "reject")
GONE_WORDS = {
    "used": "This review link was already used",
    "revoked": "This review link was withdrawn by the team",
    "expired": "This review link has expired",
    "unknown": "This review link is not valid",
}


class LinkGone(Conflict):
    """The link cannot be used: used, revoked, expired or unknown (``state``); the message says so."""

    def __init__(self, state: str, link: LinkRow | None = None) -> None:
        words = GONE_WORDS[state]
        if state == "used" and link is not None and link.decision:
            words += f": it was {'approved' if link.decision == 'approve' else 'rejected'}"
        super().__init__(words + ". Ask the person who sent it for a new one if you still need to decide.")
        self.state, self.link = state, link


@dataclass(frozen=True)
class NewLink:
    token: str  # shown once; never stored
    link: LinkRow


def actor_of(link: LinkRow) -> str:
    return f"link:{link.label}"


def create(deps: Deps, *, kind: str, target: int, label: str, created_by: str, now: datetime,
           ttl: timedelta = DEFAULT_TTL) -> NewLink:
    """A link for candidate/thread ``target`` (a candidate id) or post ``target`` (a post id)."""
    from bot.service import story
    from feedback.repository import candidates as cand_repo
    from feedback.repository import posts as posts_repo

    if kind not in KINDS:
        raise UsageError(f"link kind {kind[:40]!r}: use one of {', '.join(KINDS)}")
    label = label.strip()
    if not LABEL.fullmatch(label):
        raise UsageError("the link's label must be 1-48 printable characters (who it is for, e.g. \"client Ann\")")
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise UsageError(f"a link lasts between {MIN_TTL} and {MAX_TTL.days} days, not {ttl}")
    if kind == "thread":
        story.thread(deps, target)  # a UsageError if it is not a story thread
    token = secrets.token_urlsafe(32)
    with deps.tx() as session:
        post_id = None
        if kind == "post":
            post = posts_repo.get_post(session, target)
            if post.state in ("published", "cancelled"):
                raise Conflict(f"post {target} is {post.state}; there is nothing left to approve or reject")
            candidate_id, post_id = post.candidate_id, post.id
        else:
            candidate_id = cand_repo.get_candidate(session, target).id
        link = links_repo.add(session, token_hash=token_hash(token), label=label, kind=kind,
                              candidate_id=candidate_id, post_id=post_id, created_by=created_by, now=now,
                              expires_at=now + ttl)
    log.info("event=review_link_created link=%s kind=%s target=%s by=%s", link.id, kind, target, created_by)
    return NewLink(token, link)


def listing(deps: Deps) -> list[LinkRow]:
    with deps.tx() as session:
        return links_repo.listing(session)


def revoke(deps: Deps, link_id: int, *, actor: str, now: datetime) -> LinkRow:
    with deps.tx() as session:
        link = links_repo.get(session, link_id)
        if not links_repo.revoke(session, link_id, now=now):
            raise Conflict(f"review link {link_id} is {link.state(now)} already; nothing was changed")
        link = links_repo.get(session, link_id)
    log.info("event=review_link_revoked link=%s by=%s", link_id, actor)
    return link


def open_link(deps: Deps, token: str, *, now: datetime) -> LinkRow:
    """The open link this token names; LinkGone otherwise."""
    link = _by_token(deps, token)
    state = link.state(now)
    if state != "open":
        raise LinkGone(state, link)
    return link


def _by_token(deps: Deps, token: str) -> LinkRow:
    link = None
    if token and len(token) <= 200:
        with deps.tx() as session:
            link = links_repo.by_hash(session, token_hash(token))
    if link is None:
        raise LinkGone("unknown")
    return link


def decide(deps: Deps, token: str, decision: str, *, comment: str | None, now: datetime,
           expected_version: int | None = None) -> ReviewResult:
    """Approve or reject what the link names, once. A refusal of the lifecycle leaves the link usable."""
    if decision not in DECISIONS:
        raise UsageError(f"decision {decision[:40]!r}: approve or reject")
    link = open_link(deps, token, now=now)
    with deps.tx() as session:
        claimed = links_repo.claim(session, link.id, now=now, decision=decision, comment=comment)
        fresh = links_repo.get(session, link.id)
    if not claimed:
        raise LinkGone(fresh.state(now), fresh)
    try:
        result = _apply(deps, link, decision, comment=comment, expected_version=expected_version)
    except BaseException:
        with deps.tx() as session:
            links_repo.release(session, link.id, used_at=now)
        raise
    log.info("event=review_link_used link=%s decision=%s candidate=%s post=%s", link.id, decision,
             result.candidate_id, result.post_id)
    return result


def _apply(deps: Deps, link: LinkRow, decision: str, *, comment: str | None, expected_version: int | None
           ) -> ReviewResult:
    from bot.service import review, story

    who = actor_of(link)
    done = {"approve": "approved", "reject": "rejected"}[decision]
    said = f"{done} by review link \"{link.label}\"" + (f": {comment}" if comment else "")
    if link.kind == "post":
        assert link.post_id is not None
        if decision == "reject":
            return review.cancel(deps, link.post_id, actor=who, reason=said)
        return _endorse(deps, link, who, said)
    if decision == "reject":
        return review.reject(deps, link.candidate_id, actor=who, reason=said, expected_version=expected_version)
    if link.kind == "thread":
        return story.approve_thread(deps, link.candidate_id, actor=who, expected_version=expected_version,
                                    reason=said)
    return review.approve(deps, link.candidate_id, actor=who, expected_version=expected_version, reason=said)


def _endorse(deps: Deps, link: LinkRow, who: str, said: str) -> ReviewResult:
    """A post approved as it is scheduled: nothing moves, the audit log keeps the approval. Only while
    the post is still open (the lifecycle would let a human cancel it), else refused."""
    from bot.service.review import ReviewResult
    from feedback.lifecycle import Action, Refused, decide
    from feedback.repository import candidates as cand_repo
    from feedback.repository import posts as posts_repo
    from feedback.repository import reviews

    assert link.post_id is not None
    with deps.tx() as session:
        post = posts_repo.get_post(session, link.post_id)
        cand = cand_repo.get_candidate(session, post.candidate_id, fresh=True)
        try:
            decide(cand.status, post.state, Action.CANCEL)
        except Refused as exc:
            raise Refused(f"post {post.id} is {post.state}: {exc}") from None
        reviews.note(session, cand.id, action="approve", actor=who, now=deps.clock(), reason=said)
        return ReviewResult(cand.id, "approve", cand.status, cand.status, post.id, post.state, post.scheduled_at,
                            post_before=post.state)
