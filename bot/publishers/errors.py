"""The error classes every publisher maps its SDK's errors to (light: the CLI imports them to
turn an error into an exit code)."""
from __future__ import annotations

from datetime import datetime

from bot.errors import PublishError


class AuthError(PublishError):
    """Credentials rejected: pause the account and tell the admin."""

    error_class = "auth"


class CreditsDepleted(AuthError):
    """The platform account has no paid credits left (X: HTTP 402): pause until the admin tops up."""

    error_class = "credits"


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
    """Instagram wants a human (challenge, feedback_required, please wait): pause, never loop.

    ``pause_until`` is None when only an admin can lift the pause (`memeloop accounts resume`).
    """

    error_class = "challenge"

    def __init__(self, message: str, *, pause_until: datetime | None = None) -> None:
        super().__init__(message)
        self.pause_until = pause_until
