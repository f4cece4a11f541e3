import pytest

from feedback import Conflict, NotFound
from feedback.db import transaction
from feedback.repository import candidates as cand_repo
from feedback.repository import reviews


@pytest.fixture
def cand_id(sessions, clock):
    with transaction(sessions) as s:
        return cand_repo.add_candidate(s, cand_repo.NewCandidate(generator="meme", text="when it rains"),
                                       clock()).id


def test_edit_then_approve_keeps_history(sessions, clock, cand_id):
    with transaction(sessions) as s:
        reviews.edit(s, cand_id, actor="ann", now=clock(), text="when it pours")
        reviews.approve(s, cand_id, actor="ann", now=clock())
    with transaction(sessions) as s:
        cand = cand_repo.get_candidate(s, cand_id)
        assert (cand.status, cand.text, cand.original_text, cand.version) == (
            "approved", "when it pours", "when it rains", 3)
        log = reviews.history(s, cand_id)
    assert [(r.action, r.before_text, r.after_text) for r in log] == [
        ("edit", "when it rains", "when it pours"), ("approve", "when it pours", "when it pours")]


def test_reject_needs_reviewable_state(sessions, clock, cand_id):
    with transaction(sessions) as s:
        reviews.reject(s, cand_id, actor="ann", now=clock(), reason="meh")
    with pytest.raises(Conflict, match="is rejected; cannot approve"), transaction(sessions) as s:
        reviews.approve(s, cand_id, actor="bob", now=clock())


def test_unknown_candidate(sessions, clock):
    with pytest.raises(NotFound, match="candidate 42 does not exist"), transaction(sessions) as s:
        reviews.approve(s, 42, actor="ann", now=clock())
