"""The states a candidate and a post can be in, as StrEnums (their values are what the database stores)."""
from __future__ import annotations

from enum import StrEnum


class CandidateStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    FILTERED = "filtered"
    DUPLICATE = "duplicate"
    POSTED = "posted"


class PostState(StrEnum):
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    CANCELLED = "cancelled"


class GenerationStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


CANDIDATE_STATUSES: tuple[str, ...] = tuple(s.value for s in CandidateStatus)
POST_STATES: tuple[str, ...] = tuple(s.value for s in PostState)
GENERATION_STATUSES: tuple[str, ...] = tuple(s.value for s in GenerationStatus)
