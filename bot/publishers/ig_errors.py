"""What each of instagrapi's exception classes means for an account we must not put at risk.

Every class in ``instagrapi.exceptions`` is listed here on purpose (a test walks the module and
fails on a class missing from ``FATES``). A subclass instagrapi adds later falls back to the fate of
its nearest listed parent at run time, but the test makes someone decide.
"""
from __future__ import annotations

from enum import Enum


class Fate(Enum):
    HUMAN = "human"            # Instagram wants a person (challenge, checkpoint, block): pause until resumed
    SLOW_DOWN = "slow_down"    # "please wait", 429: pause for a while, retry nothing now
    AUTH = "auth"              # password/credentials refused: pause, admin fixes the secret
    UNCLEAR = "unclear"        # no clear answer (5xx, cut-off or undecodable answer): may have been sent
    CONFIGURED = "configured"  # the upload went through; the configure step failed: may be on the profile
    NOT_SENT = "not_sent"      # the media upload itself failed: nothing can be on the profile
    GONE = "gone"              # the thing asked about does not exist (deleted post): per item, not fatal
    REFUSED = "refused"        # this request will never be accepted as it is


_HUMAN = ("FeedbackRequired", "SignupSpamError", "ChallengeError", "ChallengeRedirection", "ChallengeRequired",
          "ChallengeSelfieCaptcha", "ChallengeUnknownStep", "SelectContactPointRecoveryForm",
          "RecaptchaChallengeForm", "SubmitPhoneNumberForm", "LegacyForceSetNewPasswordForm",
          "CaptchaChallengeRequired", "AccountSuspended", "LoginRequired", "ClientLoginRequired",
          "ReloginAttemptExceeded", "SentryBlock", "ProxyAddressIsBlocked", "TwoFactorRequired",
          "ClientForbiddenError",  # a 403 that is not login_required: checkpoint or block, never retry blindly
          "ClientNeedsUpgradeError",  # the app profile is too old: upgrade instagrapi, re-login by hand
          "ResetPasswordError", "AccountContactPointRequired", "AgeEligibilityError", "RelatedProfileRequired")
_SLOW_DOWN = ("PleaseWaitFewMinutes", "ClientThrottledError", "RateLimitError")
_AUTH = ("BadPassword", "BadCredentials", "ClientUnauthorizedError")
_UNCLEAR = ("ClientError", "ClientUnknownError", "ClientStatusFail", "ClientErrorWithTitle", "GenericRequestError",
            "ClientGraphqlError", "ClientJSONDecodeError", "ClientConnectionError", "ClientRequestTimeout",
            "ClientIncompleteReadError", "PrivateError", "UnknownError", "WrongCursorError")
_CONFIGURED = ("PhotoConfigureError", "PhotoConfigureStoryError", "VideoConfigureError",
               "VideoConfigureStoryError", "IGTVConfigureError", "ClipConfigureError", "AlbumConfigureError")
_NOT_SENT = ("PhotoNotUpload", "VideoNotUpload", "IGTVNotUpload", "ClipNotUpload")
_GONE = ("NotFoundError", "ClientNotFoundError", "MediaNotFound", "MediaUnavailable", "InvalidMediaId",
         "StoryNotFound", "TrackNotFound", "UserNotFound", "CollectionNotFound", "DirectThreadNotFound",
         "DirectMessageNotFound", "HashtagNotFound", "LocationNotFound", "HighlightNotFound", "NoteNotFound",
         "CommentNotFound", "CommentUnavailable")
# Refused as asked; most belong to features memeloop never calls (direct, comments, profile edits).
_REFUSED = ("ClientBadRequestError", "MediaError", "VideoTooLongException", "VideoNotDownload",
            "AlbumNotDownload", "AlbumUnknownFormat", "UserError", "PrivateAccount", "InvalidTargetUser",
            "CollectionError", "DirectError", "DirectMessageRequestsDisabled", "HashtagError", "LocationError",
            "CommentsDisabled", "AccountEditError", "EmailInvalidError", "EmailNotAvailableError",
            "EmailVerificationSendError",
            "ValidationError")  # instagrapi's own argument check, raised before any request

FATES: dict[str, Fate] = {name: fate for names, fate in (
    (_HUMAN, Fate.HUMAN), (_SLOW_DOWN, Fate.SLOW_DOWN), (_AUTH, Fate.AUTH), (_UNCLEAR, Fate.UNCLEAR),
    (_CONFIGURED, Fate.CONFIGURED), (_NOT_SENT, Fate.NOT_SENT), (_GONE, Fate.GONE), (_REFUSED, Fate.REFUSED),
) for name in names}

# Failures of the connection itself: a login that hit one of these never reached the password check.
CONNECTION_LEVEL = frozenset({"ClientConnectionError", "ClientRequestTimeout", "ClientIncompleteReadError",
                              "ClientJSONDecodeError"})


def fate_of(exc: BaseException) -> tuple[str, Fate] | None:
    """The nearest instagrapi class of ``exc`` that is listed, and its fate; None for foreign errors."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "instagrapi.exceptions" and cls.__name__ in FATES:
            return cls.__name__, FATES[cls.__name__]
    return None
