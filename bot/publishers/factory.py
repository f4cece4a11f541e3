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
    from bot.config.secrets import INSTAGRAM_KEYS, X_KEYS, account_secrets

    if account.platform == "x":
        from bot.publishers.x import XPublisher

        creds = account_secrets(config, account, X_KEYS, environ)
        x = account.x
        assert x is not None
        return XPublisher(account=account.name, credentials=creds, api_base=x.api_base,
                          handle=account.handle, clock=clock, allow_urls=x.allow_urls)
    from bot.publishers.instagram import InstagramPublisher

    ig = account.instagram
    assert ig is not None
    creds = account_secrets(config, account, INSTAGRAM_KEYS, environ)
    return InstagramPublisher(account=account.name, username=ig.username, password=creds["password"],
                              session_file=ig.session_file, delay_range=ig.delay_range, proxy=ig.proxy,
                              clock=clock)
