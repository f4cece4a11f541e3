"""An account's brand profile as plain data: the only source of promotional content.

bot.config's ``[accounts.brand]`` section is turned into this; generator/ code reads it, never the
config. An empty profile (the default) declares no offers, no link and no call to action, so
nothing promotional may be written for that account.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Brand:
    name: str | None = None
    tone: str | None = None  # the account's default tone
    audience: str | None = None  # the account's default audience ("general" when None)
    offers: tuple[str, ...] = ()  # offers the account really runs, written as they may be posted
    link: str | None = None
    hashtags: tuple[str, ...] = ()
    banned_words: tuple[str, ...] = ()
    banned_topics: tuple[str, ...] = ()
    call_to_action: str | None = None  # used at most once per post/thread, only when set

    @property
    def promotional(self) -> bool:
        """May promotional lines be written for this account at all?"""
        return bool(self.offers)
