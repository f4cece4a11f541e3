"""The publisher contract and the error classes every implementation maps its SDK's errors to."""
from __future__ import annotations

from datetime import datetime


class PublishError(Exception):
    """Base class of every publishing error."""

    error_class = "publish_error"


class AuthError(PublishError):
    """Credentials rejected: pause the account and tell the admin."""

    error_class = "auth"


class RateLimited(PublishError):
    """The platform said "not now": nothing was posted; try again at ``retry_at``."""

    error_class = "rate_limited"

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class TransientPublishError(PublishError):
    """A temporary failure. ``maybe_sent`` says whether the request may have reached the platform."""

    error_class = "transient"

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class DuplicatePost(PublishError):
    """The platform refused the post as a duplicate of one already there."""

    error_class = "duplicate"


class PermanentPublishError(PublishError):
    """The platform will never accept this post as it is."""

    error_class = "permanent"


class ChallengeRequired(PublishError):
    """Instagram wants a human (challenge, feedback_required, please wait): pause, never loop."""

    error_class = "challenge"
