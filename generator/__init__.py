"""Pure content making: models, decoding, image annotation, platform formatting.

Nothing in this package touches the network or the database, and nothing imports ``bot``,
``tweepy`` or ``instagrapi``. Heavy frameworks are imported inside the functions that need them.
"""


class GeneratorError(Exception):
    """Base class of every error raised by the generator package."""


class DataError(GeneratorError):
    """A data set, corpus or image folder cannot be used (names the file and the problem)."""


class BundleError(GeneratorError):
    """A model bundle is missing, incomplete or of an unknown version."""


class PreflightError(GeneratorError):
    """A post cannot be made valid for a platform."""
