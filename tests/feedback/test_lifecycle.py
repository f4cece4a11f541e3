"""Every cell of the lifecycle table: (candidate status, post state, action) -> effect or refusal."""
from __future__ import annotations

import itertools

import pytest

from feedback.lifecycle import Action, PostEffect, Refused, decide
from feedback.states import CandidateStatus, PostState

C, P, A = CandidateStatus, PostState, Action
POSTS = (None, *PostState)

# (status, post) -> {action: expected}; expected is (new status or None, post effect, rerender) or a
# fragment of the refusal. Cells not listed for a row are refusals with the fragment in DEFAULT.
ALLOW = {
    (A.APPROVE, s, p): (C.APPROVED, PostEffect.SCHEDULE, False)
    for s in (C.PENDING, C.FILTERED, C.DUPLICATE, C.APPROVED) for p in (None, P.CANCELLED)
} | {
    (A.REJECT, s, p): (C.REJECTED, PostEffect.NONE, False)
    for s in (C.PENDING, C.FILTERED, C.DUPLICATE, C.APPROVED) for p in (None, P.CANCELLED)
} | {
    (A.REJECT, C.APPROVED, p): (C.REJECTED, PostEffect.CANCEL, False) for p in (P.SCHEDULED, P.FAILED)
} | {
    (A.EDIT, s, p): (C.PENDING, PostEffect.NONE, True)
    for s in (C.PENDING, C.FILTERED, C.DUPLICATE, C.APPROVED) for p in (None, P.CANCELLED)
} | {
    (A.EDIT, C.APPROVED, p): (None, PostEffect.HOLD, True) for p in (P.SCHEDULED, P.FAILED)
} | {
    (A.CANCEL, C.APPROVED, p): (C.PENDING, PostEffect.CANCEL, False) for p in (P.SCHEDULED, P.FAILED)
} | {
    (A.RETRY, C.APPROVED, p): (None, PostEffect.RETRY, False) for p in (P.FAILED, P.UNCONFIRMED)
} | {
    (A.RESCHEDULE, C.APPROVED, P.SCHEDULED): (None, PostEffect.MOVE, False),
}


def _refusal(action: Action, status: CandidateStatus, post: PostState | None) -> str:
    """The words a refusal must contain: the state that blocks the action."""
    if post is P.PUBLISHED or status is C.POSTED:
        return "twice" if action is A.RETRY else "already published"
    if post is P.PUBLISHING:
        return "being published right now"
    if post is P.UNCONFIRMED and action is not A.RETRY:
        return "unconfirmed"
    if action is A.APPROVE and status is C.APPROVED and post is P.SCHEDULED:
        return "already approved and scheduled"
    if (action is A.RESCHEDULE or action is A.APPROVE and status is C.APPROVED) and post is P.FAILED:
        return "retry"
    if action is A.RETRY and post is P.SCHEDULED:
        return "already scheduled"
    if action in (A.CANCEL, A.RETRY, A.RESCHEDULE) and post in (None, P.CANCELLED):
        return "has no"
    return f"the candidate is {status.value}"


CELLS = list(itertools.product(Action, CandidateStatus, POSTS))


def test_the_table_has_every_cell():
    assert len(CELLS) == 6 * 6 * 7


@pytest.mark.parametrize(("action", "status", "post"), CELLS,
                         ids=[f"{a.value}-{s.value}-{p.value if p else 'none'}" for a, s, p in CELLS])
def test_cell(action, status, post):
    expected = ALLOW.get((action, status, post))
    if expected is None:
        with pytest.raises(Refused) as refused:
            decide(status, post, action)
        message = str(refused.value)
        assert message.startswith(f"cannot {action.value}: ") and "\n" not in message
        assert _refusal(action, status, post) in message
        return
    move = decide(status, post, action)
    assert (move.candidate_to, move.post, move.rerender) == expected


def test_states_are_plain_strings_in_the_database():
    assert decide("approved", "scheduled", "reject").post is PostEffect.CANCEL
    assert str(C.APPROVED) == "approved" and f"{P.SCHEDULED}" == "scheduled"
