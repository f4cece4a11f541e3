"""The read models the front door hands out (App.candidate, card, board, schedule, post_detail,
accounts, hours, ranker_effects): frozen values, typed to the field. Their field order is the key
order of the CLI's --json/--csv and of the dashboard's downloads (``as_row``); a golden test pins it
(tests/bot/test_cli_output_pinned.py). Templates read them by attribute, as they read the dicts before.

The stats datasets (feedback.repository.stats, the dashboard's time/by-dimension/top/approval/imported
rows) are the feedback package's own rows and stay mappings.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast


def as_row(value: Any) -> Mapping[str, Any]:
    """A read model (recursively, as plain dicts and lists) or a mapping, for JSON and CSV output."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return cast(Mapping[str, Any], value)  # already a mapping (the stats rows)


# -- one candidate, in full (`queue show`) ------------------------------------------------------------
@dataclass(frozen=True)
class EffectLine:
    feature: str
    contribution: float
    sd: float | None
    evidence: float | None


@dataclass(frozen=True)
class Ranking:
    queue_rank: int | None
    predicted_score: float | None
    posterior_mean: float | None
    model: str | None
    observations: int | None
    scored_at: str | None
    explain: list[list[Any]]  # [name, contribution] pairs as stored
    sentences: list[str]
    effects: list[EffectLine]


@dataclass(frozen=True)
class SiblingBeam:
    id: int
    beam_rank: int | None
    beam_score: float | None
    status: str
    predicted_score: float | None
    text: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    action: str
    actor: str
    before: str | None
    after: str | None
    reason: str | None


@dataclass(frozen=True)
class PostOfCandidate:
    id: int
    state: str
    scheduled_at: datetime
    remote_url: str | None
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class CandidateDetail:
    id: int
    status: str
    status_reason: str | None
    text: str
    original_text: str | None
    generator: str
    model_version: str | None
    account: str | None
    template: str | None
    group_key: str | None
    beam_rank: int | None
    beam_score: float | None
    tone: str | None
    audience: str | None
    gan_seed: int | None
    params: dict[str, Any] | None
    generation_id: int | None
    read_as: str | None
    read_confidence: float | None
    reading: str | None
    image_path: str | None
    source_image_path: str | None
    image_sha256: str | None
    image_phash: str | None
    created_at: datetime
    updated_at: datetime
    age: int  # seconds since it was made
    version: int
    ranking: Ranking
    siblings: list[SiblingBeam]
    history: list[HistoryEntry]
    posts: list[PostOfCandidate]


# -- the web admin's board ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CardSibling:
    id: int
    beam_rank: int | None
    text: str
    status: str
    predicted_score: float | None


@dataclass(frozen=True)
class Card:
    id: int
    rank: int | None
    status: str
    status_reason: str | None
    text: str
    generator: str
    account: str | None
    template: str | None
    beam_rank: int | None
    beam_score: float | None
    predicted_score: float | None
    tone: str | None
    explain: list[list[Any]]
    sentences: list[str]
    has_image: bool
    version: int
    group_key: str | None
    created_at: datetime
    siblings: list[CardSibling]
    alt: str
    reading: str | None


@dataclass(frozen=True)
class BoardPage:
    cards: list[Card]
    total: int
    offset: int
    limit: int
    options: dict[str, list[str]] = field(default_factory=dict)


# -- posts --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduledPost:
    id: int
    state: str
    account: str
    platform: str
    candidate_id: int
    text: str
    scheduled_at: datetime
    published_at: datetime | None
    remote_url: str | None
    last_error: str | None
    has_image: bool = False
    version: int = 1
    generator: str = "meme"


@dataclass(frozen=True)
class PartOut:
    """One part of a thread's post as it went out (post_parts)."""

    position: int
    state: str
    remote_url: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class Reading:
    """One engagement snapshot of a post (None: unknown or hidden), with its weighted engagement."""

    taken_at: datetime
    age_s: int
    likes: int | None
    reposts: int | None
    replies: int | None
    quotes: int | None
    impressions: int | None
    bookmarks: int | None
    comments: int | None
    views: int | None
    engagement: float | None


@dataclass(frozen=True)
class SlotChoice:
    """A candidate that may fill an empty calendar slot (approved and not yet on the account, or pending)."""

    id: int
    text: str
    generator: str
    template: str | None
    status: str
    has_image: bool
    version: int
    predicted_score: float | None
    alt: str


@dataclass(frozen=True)
class PostDetail:
    id: int
    state: str
    account: str
    platform: str
    hashtag_cap: int
    candidate_id: int
    text: str
    template: str | None
    alt: str
    image_path: str | None
    scheduled_at: datetime
    published_at: datetime | None
    attempts: int
    remote_url: str | None
    error_class: str | None
    last_error: str | None
    generator: str = "meme"
    version: int = 1
    status: str = "approved"
    parts_out: list[PartOut] = field(default_factory=list)
    snapshots: list[Reading] = field(default_factory=list)


# -- accounts, timing, what the ranker learned -----------------------------------------------------------
@dataclass(frozen=True)
class AccountSummary:
    name: str
    platform: str
    handle: str | None
    enabled: bool
    paused_until: datetime | None
    pause_reason: str | None
    scheduled: int
    published: int
    unconfirmed: int
    failed: int
    imported: int


@dataclass(frozen=True)
class HourCell:
    account: str
    weekday: str
    hour: int
    ratio: float
    low: float
    high: float
    posts: float
    allowed: bool


@dataclass(frozen=True)
class RankerEffect:
    feature: str
    weight: float
    candidates: int
    sd: float | None
    evidence: float | None
    sentence: str | None
