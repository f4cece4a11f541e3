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


class NotificationState(StrEnum):
    PENDING = "pending"  # waiting for its (next) delivery attempt
    SENT = "sent"  # the receiver answered 2xx
    FAILED = "failed"  # given up after notifications.max_attempts, or its webhook is gone


CANDIDATE_STATUSES: tuple[str, ...] = tuple(s.value for s in CandidateStatus)
POST_STATES: tuple[str, ...] = tuple(s.value for s in PostState)
GENERATION_STATUSES: tuple[str, ...] = tuple(s.value for s in GenerationStatus)
NOTIFICATION_STATES: tuple[str, ...] = tuple(s.value for s in NotificationState)
