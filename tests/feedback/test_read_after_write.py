"""Reads that follow a write (issue 30, finding 6): a reviewer acting between a candidate's read and
its queue rank must not turn a successful `queue add` or `queue show` into a traceback."""
from __future__ import annotations

from sqlalchemy import update

from feedback.db import transaction
from feedback.models import Candidate
from feedback.repository import candidates as cand_repo
from tests.feedback import feedback_rows as rows


def test_finding_6_queue_rank_tolerates_a_reject_between_read_and_rank(sessions, clock):
    with transaction(sessions) as s:
        first = rows.candidate(s, now=clock(), text="stays in the queue")
        raced = rows.candidate(s, now=clock(), text="rejected by a reviewer meanwhile")
    with transaction(sessions) as s:  # what `queue add` read back: still pending
        seen = s.get(Candidate, raced.id)
        assert seen is not None
        assert seen.status == "pending"
    with transaction(sessions) as s:  # the reviewer, in between
        s.execute(update(Candidate).where(Candidate.id == raced.id).values(status="rejected"))
    with transaction(sessions) as s:
        assert cand_repo.queue_position(s, seen) is None  # out of the queue now: no rank, no ValueError
        again = s.get(Candidate, first.id)
        assert again is not None and cand_repo.queue_position(s, again) == 1
