"""Build the publisher of one configured account (config + secrets). bot.service.publishing caches them."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from bot.config import AccountConfig, Config
from bot.publishers.base import Publisher


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
