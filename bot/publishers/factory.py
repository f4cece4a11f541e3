"""Build the publisher of one configured account (config + secrets). bot.service.publishing caches them."""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.config import AccountConfig, Config
from bot.publishers.base import Publisher

# each platform's publisher class; imported on demand (each pulls in its SDK)
_CLASSES = {
    "outbox": ("bot.publishers.outbox", "OutboxPublisher"),
    "x": ("bot.publishers.x", "XPublisher"),
    "mastodon": ("bot.publishers.mastodon", "MastodonPublisher"),
    "bluesky": ("bot.publishers.bluesky", "BlueskyPublisher"),
    "instagram": ("bot.publishers.instagram", "InstagramPublisher"),
}


def publisher_class(platform: str) -> type[Publisher]:
    """The class that publishes to ``platform``; ValueError for a platform none does."""
    if platform not in _CLASSES:
        raise ValueError(f"no publisher for platform {platform!r} (one of {', '.join(_CLASSES)})")
    module, name = _CLASSES[platform]
    cls: type[Publisher] = getattr(importlib.import_module(module), name)
    return cls


def platform_takes_threads(platform: str) -> bool:
    """The ``threads`` capability its publisher declares, without building one (no secrets needed):
    for what is decided before a publisher exists (the pipeline's preflight)."""
    return bool(publisher_class(platform).threads)


def build_publisher(config: Config, account: AccountConfig, *, clock: Callable[[], datetime],
                    environ: Mapping[str, str] | None = None) -> Publisher:
    if account.platform == "outbox":
        from bot.publishers.outbox import OutboxPublisher

        box = account.outbox
        assert box is not None  # AccountConfig fills the platform's section
        return OutboxPublisher(account=account.name, path=box.path, latency_ms=box.latency_ms,
                               audience_seed=box.audience_seed, clock=clock)
    from bot.config.secrets import BLUESKY_KEYS, INSTAGRAM_KEYS, MASTODON_KEYS, X_KEYS, account_secrets

    if account.platform == "x":
        from bot.publishers.x import XPublisher

        creds = account_secrets(config, account, X_KEYS, environ)
        x = account.x
        assert x is not None
        return XPublisher(account=account.name, credentials=creds, api_base=x.api_base,
                          handle=account.handle, clock=clock, allow_urls=x.allow_urls)
    if account.platform == "mastodon":
        from bot.publishers.mastodon import MastodonPublisher

        md = account.mastodon
        assert md is not None
        creds = account_secrets(config, account, MASTODON_KEYS, environ)
        return MastodonPublisher(account=account.name, instance_url=md.instance_url,
                                 access_token=creds["access_token"], visibility=md.visibility,
                                 spoiler_text=md.spoiler_text, clock=clock, timeout=md.timeout,
                                 media_wait=md.media_wait)
    if account.platform == "bluesky":
        from bot.publishers.bluesky import BlueskyPublisher

        bs = account.bluesky
        assert bs is not None
        creds = account_secrets(config, account, BLUESKY_KEYS, environ)
        return BlueskyPublisher(account=account.name, handle=bs.handle, app_password=creds["app_password"],
                                session_file=bs.session_file, service_url=bs.service_url, clock=clock,
                                timeout=bs.timeout)
    from bot.publishers.instagram import InstagramPublisher

    ig = account.instagram
    assert ig is not None
    creds = account_secrets(config, account, INSTAGRAM_KEYS, environ)
    return InstagramPublisher(account=account.name, username=ig.username, password=creds["password"],
                              session_file=ig.session_file, delay_range=ig.delay_range, proxy=ig.proxy,
                              clock=clock)
