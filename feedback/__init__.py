"""Storage and learning: ORM models, repository, metric polling, ranking, dashboard queries.

Never imports ``bot``, ``tweepy`` or ``instagrapi``; never imports an ML framework at module level.
"""


class FeedbackError(Exception):
    """Base class of every error raised by the feedback package."""


class NotFound(FeedbackError):
    """A row named by id does not exist."""


class Conflict(FeedbackError):
    """A conditional update found the row in another state than expected (someone else moved it)."""
