"""The candidate/post lifecycle as one explicit table: (candidate status, post state, action) -> what
happens, or a one-line refusal that names the state.

Pure: no database, no clock. The service (bot/app.py) asks ``decide`` before it moves anything, and
the repository's conditional UPDATEs make the decision stick (a post claimed in between turns the
decision into a refusal instead of a lost update). A test pins every cell.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from feedback import Conflict
from feedback.states import CandidateStatus as C
from feedback.states import PostState as P


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    EDIT = "edit"
    CANCEL = "cancel"  # unschedule: the post is cancelled, the candidate goes back to review
    RETRY = "retry"  # a failed or unconfirmed post is scheduled again, now
    RESCHEDULE = "reschedule"  # a scheduled post moves to another time


class PostEffect(StrEnum):
    NONE = "none"
    SCHEDULE = "schedule"  # create the post (or revive its cancelled row) in state scheduled
    CANCEL = "cancel"  # scheduled/failed -> cancelled, conditional on that state
    RETRY = "retry"  # failed/unconfirmed -> scheduled now, fresh attempt budget
    MOVE = "move"  # scheduled -> scheduled at another time
    HOLD = "hold"  # stays as it is, but only if still unclaimed (an edit must beat the claim or fail)


@dataclass(frozen=True)
class Move:
    """An allowed action: the candidate's new status (None = unchanged), what happens to its post,
    and whether the image is re-rendered (edits of memes)."""

    candidate_to: C | None
    post: PostEffect = PostEffect.NONE
    rerender: bool = False


class Refused(Conflict):
    """The lifecycle does not allow this action in this state; the message says why and what to do."""


REVIEWABLE = (C.PENDING, C.FILTERED, C.DUPLICATE)
NO_POST = (None, P.CANCELLED)  # a cancelled post row is revived by the next approve
OPEN_POST = (P.SCHEDULED, P.FAILED)  # not claimed: a human may still change its fate
IN_FLIGHT = (P.PUBLISHING, P.UNCONFIRMED)


def _in_flight_reason(post: P) -> str:
    if post is P.PUBLISHING:
        return "its post is being published right now; look again in a minute"
    return ("its post is unconfirmed (it may already be on the platform); reconciliation settles it, "
            "then retry or leave it")


PUBLISHED_REASON = ("its post is already published; delete it on the platform if it must go "
                    "(memeloop cannot unpublish)")


def decide(status: C | str, post: P | str | None, action: Action | str) -> Move:
    """What ``action`` does to a candidate in ``status`` whose post (for its account) is in ``post``
    (None: no post). Raises Refused with a one-line reason."""
    s, a = C(status), Action(action)
    p = P(post) if post is not None else None
    move = _table(s, p, a)
    if isinstance(move, str):
        raise Refused(f"cannot {a.value}: {move}")
    return move


def _table(s: C, p: P | None, a: Action) -> Move | str:
    if p is P.PUBLISHED or s is C.POSTED:
        if a is Action.RETRY:
            return "its post is already published; retrying would post it twice"
        return PUBLISHED_REASON
    if a is Action.APPROVE:
        if s in (*REVIEWABLE, C.APPROVED) and p in NO_POST:
            return Move(C.APPROVED, PostEffect.SCHEDULE)
        if s is C.APPROVED and p is P.SCHEDULED:
            return "it is already approved and scheduled (reschedule or cancel its post)"
        if s is C.APPROVED and p is P.FAILED:
            return "its post failed; retry the post instead"
        if p in IN_FLIGHT:
            return _in_flight_reason(p)
        return f"the candidate is {s.value}"
    if a is Action.REJECT:
        if s in (*REVIEWABLE, C.APPROVED) and p in NO_POST:
            return Move(C.REJECTED)
        if s is C.APPROVED and p in OPEN_POST:
            return Move(C.REJECTED, PostEffect.CANCEL)
        if p in IN_FLIGHT:
            return _in_flight_reason(p)
        return f"the candidate is {s.value}"
    if a is Action.EDIT:
        if s in REVIEWABLE and p in NO_POST or s is C.APPROVED and p in NO_POST:
            return Move(C.PENDING, rerender=True)
        if s is C.APPROVED and p in OPEN_POST:
            return Move(None, PostEffect.HOLD, rerender=True)  # stays approved; the post goes out as edited
        if p in IN_FLIGHT:
            return _in_flight_reason(p)
        return f"the candidate is {s.value}"
    if a is Action.CANCEL:
        if s is C.APPROVED and p in OPEN_POST:
            return Move(C.PENDING, PostEffect.CANCEL)
        if p in IN_FLIGHT:
            return _in_flight_reason(p)
        return "it has no scheduled post" if p in NO_POST else f"the candidate is {s.value}"
    if a is Action.RETRY:
        if s is C.APPROVED and p in (P.FAILED, P.UNCONFIRMED):
            return Move(None, PostEffect.RETRY)
        if p is P.PUBLISHING:
            return _in_flight_reason(p)
        if p is P.SCHEDULED:
            return "its post is already scheduled"
        return "it has no failed or unconfirmed post" if p in NO_POST else f"the candidate is {s.value}"
    # RESCHEDULE
    if s is C.APPROVED and p is P.SCHEDULED:
        return Move(None, PostEffect.MOVE)
    if p is P.FAILED:
        return "its post failed; retry it instead"
    if p in IN_FLIGHT:
        return _in_flight_reason(p)
    return "it has no scheduled post" if p in NO_POST else f"the candidate is {s.value}"
