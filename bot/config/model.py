"""Configuration: TOML file -> validated pydantic models. Secrets never live in the TOML.

Relative paths resolve against the config file's folder. Errors become one ConfigError naming the
file, the key and the problem (the CLI exits 2 with it).
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.config.paths import CONFIG_ENV, DEFAULT_CONFIG_NAME, find_config_path
from bot.config.values import (
    Cron,
    Duration,
    Interval,
    ShortDuration,
    Slot,
    Tick,
    TimeZone,
    as_list,
    between,
    parse_duration,
    words,
)
from bot.errors import ConfigError
from generator.brand import Brand

__all__ = ["CONFIG_ENV", "DEFAULT_CONFIG_NAME", "Config", "ConfigError", "find_config_path", "load_config",
           "parse_config", "parse_duration"]

SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "consumer_key", "bearer")


# an installed model's id (bot.core.modelstore.ID_PATTERN); "" = none
ModelId = Annotated[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")] | None,
                    BeforeValidator(lambda v: None if v == "" else v)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class StorageConfig(Section):
    url: str = "sqlite:///memeloop.db"  # a password here works, but prefer MEMELOOP_DB_PASSWORD
    media_dir: Path = Path("media")  # resolved once against the config file's folder

    @field_validator("media_dir", mode="before")
    @classmethod
    def _media_dir_given(cls, value: object) -> object:
        if isinstance(value, str) and value.strip() in ("", "."):
            raise ValueError("must name a folder (e.g. \"media\"); an empty value is not allowed")
        return value

    @field_validator("url")
    @classmethod
    def _database_url(cls, url: str) -> str:
        from bot.config.checks import check_database_url

        return check_database_url(url)


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | None = None


class MemeGeneratorConfig(Section):
    bundle: Path | None = None  # None/"" = the shipped demo bundle
    templates: Path | None = None  # None/"" = the shipped demo templates
    encoder_model: ModelId = None  # an installed Keras model (`memeloop models`) for inception_v3 bundles
    beam_width: StrictInt = Field(5, ge=1, le=32)
    images_per_run: StrictInt = Field(2, ge=1, le=100)
    forward_per_image: StrictInt = Field(2, ge=1, le=32)  # how many of an image's k beams go to review
    # decoding (generator.meme Captioner.beam_search_batch); temperature 0 = deterministic beams
    temperature: float = Field(1.0, ge=0, le=5)
    top_p: float = Field(0.95, gt=0, le=1)
    beam_groups: StrictInt = Field(2, ge=1, le=16)
    group_penalty: float = Field(1.0, ge=0, le=100)

    def decode_options(self) -> dict:
        """Keyword options for beam_search_batch beyond k (empty = plain deterministic beam search)."""
        opts: dict = {}
        if self.temperature > 0:
            opts |= {"temperature": self.temperature, "top_p": self.top_p}
        if self.beam_groups > 1:
            opts |= {"groups": self.beam_groups, "group_penalty": self.group_penalty}
        return opts


class PostGeneratorConfig(Section):
    gan_bundle: Path | None = None
    writer_bundle: Path | None = None
    writer_model: ModelId = None  # an installed GPT-2 by id (`memeloop models`); replaces writer_bundle
    captions_per_image: StrictInt = Field(3, ge=1, le=20)

    @model_validator(mode="after")
    def _one_writer(self) -> PostGeneratorConfig:
        if self.writer_model and self.writer_bundle is not None and str(self.writer_bundle) not in ("", "."):
            raise ValueError("give either 'writer_model' or 'writer_bundle', not both")
        return self


class GeneratorConfig(Section):
    timeout: Annotated[Duration, between(timedelta(seconds=1), timedelta(days=1))] = timedelta(minutes=10)
    threads: StrictInt = Field(1, ge=1, le=64)  # BLAS/OpenMP threads per generate process
    # Opt-in: one long-lived generate process per generator (models load once, bot.runtime.worker), retired
    # after worker_max_runs runs or once it passes worker_max_rss_mb; off = a fresh child per run.
    warm_worker: StrictBool = False
    worker_max_runs: StrictInt = Field(50, ge=1, le=100_000)
    worker_max_rss_mb: float = Field(1500.0, gt=0, le=1_000_000)
    meme: MemeGeneratorConfig = Field(default_factory=MemeGeneratorConfig)
    post: PostGeneratorConfig = Field(default_factory=PostGeneratorConfig)


class SafetyConfig(Section):
    extra_words: list[str] = []
    phash_distance: StrictInt = Field(6, ge=0, le=64)
    text_similarity: float = Field(0.85, ge=0.0, le=1.0)
    dedupe_window: ShortDuration = timedelta(days=30)


class RankingConfig(Section):
    engagement_age: ShortDuration = timedelta(hours=24)
    weights: dict[Literal["likes", "reposts", "replies", "quotes", "bookmarks", "comments"],
                  Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]] = {
        "likes": 1.0, "reposts": 2.0, "replies": 1.0, "quotes": 1.0, "comments": 1.0,
    }
    baseline_posts: StrictInt = Field(30, ge=1, le=1_000_000)
    seed: StrictInt | None = Field(None, ge=0, le=2**63 - 1)


class LearningConfig(Section):
    """The generators learn from winners (bot/service/adapt.py): the daemon adapts them every
    ``adapt_every`` once the ranker has ``adapt_min_outcomes`` outcomes it had not adapted from."""

    adapt: StrictBool = True  # the off switch of the scheduled adaptation (`memeloop adapt meme` still works)
    adapt_every: Interval = timedelta(days=7)
    adapt_min_outcomes: StrictInt = Field(30, ge=1, le=1_000_000)
    adapt_strength: float = Field(1.0, ge=0.0, le=5.0, allow_inf_nan=False)


class PollingConfig(Section):
    ages: list[ShortDuration] = Field([timedelta(hours=h) for h in (1, 6, 24, 72, 168)], min_length=1,
                                      max_length=50)
    batch_size: StrictInt = Field(100, ge=1, le=100)


class PublishingConfig(Section):
    max_attempts: StrictInt = Field(5, ge=1, le=50)
    backoff: ShortDuration = timedelta(minutes=1)
    max_backoff: ShortDuration = timedelta(hours=6)
    lease: Annotated[Duration, between(timedelta(seconds=1), timedelta(days=1))] = timedelta(minutes=5)
    late_window: ShortDuration = timedelta(hours=2)
    auto_approve: StrictBool = False

    @model_validator(mode="after")
    def _backoff_order(self) -> PublishingConfig:
        if self.max_backoff < self.backoff:
            raise ValueError(f"max_backoff ({words(self.max_backoff)}) is shorter than backoff "
                             f"({words(self.backoff)})")
        return self


class SchedulerConfig(Section):
    timezone: TimeZone = "UTC"
    tick: Tick = timedelta(minutes=1)
    misfire_grace: ShortDuration = timedelta(minutes=5)
    reconcile_every: Interval = timedelta(minutes=15)
    prune_every: Interval = timedelta(days=1)
    keep_media: ShortDuration = timedelta(days=30)

    @property
    def stale_after(self) -> timedelta:
        """A heartbeat older than this means its daemon is dead or stuck (three missed ticks, at least 2 min)."""
        return max(3 * self.tick, timedelta(minutes=2))


class GenerateSchedule(Section):
    generator: Literal["meme", "post"] = "meme"
    every: Interval | None = timedelta(hours=6)
    cron: Cron | None = None
    count: StrictInt = Field(4, ge=1, le=200)
    tone: str | None = None
    audience: str | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> GenerateSchedule:
        if self.cron is not None and "every" in self.model_fields_set:
            raise ValueError("give either 'every' or 'cron', not both")
        return self


class OutboxConfig(Section):
    path: Path = Path("outbox")
    latency_ms: StrictInt = Field(0, ge=0, le=600_000)
    audience_seed: StrictInt | None = Field(7, ge=0, le=2**63 - 1)


class XConfig(Section):
    credentials_env_prefix: str = "MEMELOOP_X_"
    allow_urls: StrictBool = False
    api_base: str = "https://api.x.com"


class InstagramConfig(Section):
    username: str
    credentials_env_prefix: str = "MEMELOOP_IG_"
    session_file: Path = Path("instagram-session.json")
    delay_range: tuple[Annotated[float, Field(ge=0, le=600, allow_inf_nan=False)],
                       Annotated[float, Field(ge=0, le=600, allow_inf_nan=False)]] = (1.0, 3.0)
    proxy: str | None = None

    @field_validator("delay_range")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] > value[1]:
            raise ValueError(f"[{value[0]:g}, {value[1]:g}] is not [lowest, highest] seconds")
        return value


class MastodonConfig(Section):
    instance_url: str = Field(pattern=r"^https?://[^\s/]+(/\S*)?$")
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    spoiler_text: str | None = Field(None, max_length=500)  # a content warning on every post
    credentials_env_prefix: str = "MEMELOOP_MASTODON_"
    timeout: float = Field(30.0, gt=0, le=600)
    media_wait: float = Field(60.0, ge=0, le=900)  # how long to wait for the server to process an upload


class BlueskyConfig(Section):
    handle: str = Field(pattern=r"^@?[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z0-9-]+$")
    service_url: str = Field("https://bsky.social", pattern=r"^https?://[^\s/]+(/\S*)?$")
    session_file: Path = Path("bluesky-session.txt")  # the session string, written 0600
    credentials_env_prefix: str = "MEMELOOP_BLUESKY_"
    timeout: float = Field(30.0, gt=0, le=600)


class BrandConfig(Section):
    """[accounts.brand]: who the account is and what it really offers (see generator.brand.Brand)."""

    name: str | None = None
    tone: str | None = None
    audience: str | None = None
    offers: list[str] = []
    link: str | None = None
    hashtags: list[str] = []
    banned_words: list[str] = []
    banned_topics: list[str] = []
    call_to_action: str | None = None

    def to_brand(self) -> Brand:
        return Brand(name=self.name, tone=self.tone, audience=self.audience, offers=tuple(self.offers),
                     link=self.link, hashtags=tuple(self.hashtags), banned_words=tuple(self.banned_words),
                     banned_topics=tuple(self.banned_topics), call_to_action=self.call_to_action)


class AccountConfig(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    platform: Literal["outbox", "x", "instagram", "mastodon", "bluesky"]
    handle: str | None = None
    enabled: StrictBool = True
    hashtag_cap: StrictInt = Field(5, ge=0, le=30)
    post_slots: list[Slot] = Field(["09:00", "13:00", "19:00"], max_length=96)
    post_cron: Cron | None = None
    timezone: TimeZone = "UTC"
    # approve --at best: the local hours a post may go out at, and the least time between two posts
    best_hours: list[Annotated[StrictInt, Field(ge=0, le=23)]] = Field(
        default_factory=lambda: list(range(8, 23)), min_length=1, max_length=24)
    min_spacing: ShortDuration = timedelta(hours=2)
    generate: Annotated[list[GenerateSchedule], BeforeValidator(as_list)] = Field(
        default_factory=lambda: [GenerateSchedule()], min_length=1, max_length=20)
    outbox: OutboxConfig | None = None
    x: XConfig | None = None
    instagram: InstagramConfig | None = None
    mastodon: MastodonConfig | None = None
    bluesky: BlueskyConfig | None = None
    brand: BrandConfig = Field(default_factory=BrandConfig)

    @model_validator(mode="after")
    def _platform_section(self) -> AccountConfig:
        if not self.post_cron and not self.post_slots:
            raise ValueError("needs post_slots (e.g. [\"09:00\"]) or a post_cron to post at")
        if self.post_cron and "post_slots" in self.model_fields_set:
            raise ValueError("sets both post_slots and post_cron: keep one (they would disagree on when to post)")
        sections = {"outbox": self.outbox, "x": self.x, "instagram": self.instagram, "mastodon": self.mastodon,
                    "bluesky": self.bluesky}
        for name, value in sections.items():
            if value is not None and name != self.platform:
                raise ValueError(f"has an [accounts.{name}] section but platform = {self.platform!r}")
        if self.platform == "outbox" and self.outbox is None:
            object.__setattr__(self, "outbox", OutboxConfig())
        if self.platform == "x" and self.x is None:
            object.__setattr__(self, "x", XConfig())
        if self.platform == "instagram" and self.instagram is None:
            raise ValueError("platform 'instagram' needs an [accounts.instagram] section with username")
        if self.platform == "mastodon" and self.mastodon is None:
            raise ValueError("platform 'mastodon' needs an [accounts.mastodon] section with instance_url")
        if self.platform == "bluesky" and self.bluesky is None:
            raise ValueError("platform 'bluesky' needs an [accounts.bluesky] section with handle")
        asked = [s.audience for s in self.generate] + [self.brand.audience]
        if "promotional" in asked and not self.brand.offers:
            raise ValueError("audience 'promotional' needs the offers the account really runs: "
                             "add them to [accounts.brand] offers")
        return self

    @property
    def schedules(self) -> list[GenerateSchedule]:
        return self.generate


NotifyEvent = Literal["review_waiting", "post_failed", "post_unconfirmed", "account_paused", "daemon_down"]
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = ("review_waiting", "post_failed", "post_unconfirmed", "account_paused",
                                          "daemon_down")


class WebhookConfig(Section):
    """[[notifications.webhooks]]: one receiver. The URL of a Slack or Discord webhook carries its token,
    so it is a secret (env MEMELOOP_WEBHOOK_<NAME>_URL or [webhooks.<name>] url in the secrets file);
    a generic receiver's URL may stand here, and its signing secret is MEMELOOP_WEBHOOK_<NAME>_SECRET."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    format: Literal["json", "slack", "discord"] = "json"
    url: str | None = Field(None, pattern=r"^https?://[^\s/]+(/\S*)?$", max_length=2000)
    events: list[NotifyEvent] = Field(default_factory=lambda: list(NOTIFY_EVENTS), min_length=1)
    enabled: StrictBool = True

    @model_validator(mode="after")
    def _url_with_token_is_secret(self) -> WebhookConfig:
        if self.url is not None and self.format != "json":
            raise ValueError(f"url: a {self.format} webhook URL carries its token, so it is a secret: set "
                             f"MEMELOOP_WEBHOOK_{self.env_name}_URL or [webhooks.{self.name}] url in the secrets "
                             "file, not in the config file")
        return self

    @property
    def env_name(self) -> str:
        return self.name.upper().replace("-", "_")


class NotificationsConfig(Section):
    """[notifications]: who is told when something needs a person (bot/service/notify.py)."""

    webhooks: list[WebhookConfig] = Field(default_factory=list, max_length=20)
    review_every: ShortDuration = timedelta(hours=1)  # at most one "waiting for review" notice per this
    unconfirmed_after: ShortDuration = timedelta(hours=1)  # an unconfirmed post older than this is told
    max_attempts: StrictInt = Field(8, ge=1, le=50)  # deliveries of one notice before it is given up
    backoff: ShortDuration = timedelta(seconds=30)
    max_backoff: ShortDuration = timedelta(hours=1)
    timeout: Annotated[Duration, between(timedelta(seconds=1), timedelta(minutes=2))] = timedelta(seconds=5)
    keep: ShortDuration = timedelta(days=14)  # sent and given-up notices are kept this long, then pruned
    base_url: str | None = Field(None, pattern=r"^https?://[^\s/]+(/\S*)?$")  # the web admin, for links

    @field_validator("webhooks")
    @classmethod
    def _unique_names(cls, hooks: list[WebhookConfig]) -> list[WebhookConfig]:
        seen: set[str] = set()
        for hook in hooks:
            if hook.env_name in seen:
                raise ValueError(f"webhook name {hook.name!r} is used twice")
            seen.add(hook.env_name)
        return hooks

    @model_validator(mode="after")
    def _backoff_order(self) -> NotificationsConfig:
        if self.max_backoff < self.backoff:
            raise ValueError(f"max_backoff ({words(self.max_backoff)}) is shorter than backoff "
                             f"({words(self.backoff)})")
        return self

    def webhook(self, name: str) -> WebhookConfig:
        for hook in self.webhooks:
            if hook.name == name:
                return hook
        known = ", ".join(h.name for h in self.webhooks) or "none configured"
        raise ConfigError(f"unknown webhook {name!r} (known: {known})")


class SecretsConfig(Section):
    file: Path | None = None  # a TOML file: [accounts.NAME] key = "value"; keep it chmod 600


class Config(Section):
    storage: StorageConfig = Field(default_factory=StorageConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    learning: LearningConfig = Field(default_factory=LearningConfig)
    polling: PollingConfig = Field(default_factory=PollingConfig)
    publishing: PublishingConfig = Field(default_factory=PublishingConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    accounts: list[AccountConfig] = Field(default_factory=list)
    path: Path | None = Field(None, exclude=True)  # the file this was loaded from (set by load_config)
    digest: str | None = Field(None, exclude=True)  # sha256 of that file's text when it was loaded
    base: Path | None = Field(None, exclude=True)  # the folder relative paths resolved against (parse_config)

    @field_validator("accounts")
    @classmethod
    def _unique_names(cls, accounts: list[AccountConfig]) -> list[AccountConfig]:
        seen: set[str] = set()
        for acc in accounts:
            if acc.name in seen:
                raise ValueError(f"account name {acc.name!r} is used twice")
            seen.add(acc.name)
        return accounts

    def data_dir(self) -> Path:
        """The data folder (logs, models, templates, adaptations): the config file's folder, where its
        relative paths (database, media, outbox) resolve; a config parsed without a file: the folder
        its paths resolved against; only one built by hand: the working folder."""
        if self.path is not None:
            return self.path.parent
        return self.base if self.base is not None else Path.cwd()

    def account(self, name: str) -> AccountConfig:
        for acc in self.accounts:
            if acc.name == name:
                return acc
        known = ", ".join(a.name for a in self.accounts) or "none configured"
        raise ConfigError(f"unknown account {name!r} (known: {known})")


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or "[" in str(part) or "," in str(part):
            continue  # pydantic's internal union/validator tags
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _inline_loc(loc: tuple, data: object) -> tuple:
    """Drops the [0] pydantic adds inside an inline `generate = {...}` (we wrapped it in a list)."""
    if len(loc) > 3 and loc[0] == "accounts" and loc[2] == "generate" and loc[3] == 0:
        accounts: Any = data.get("accounts") if isinstance(data, dict) else None
        try:
            if isinstance(accounts[loc[1]]["generate"], dict):
                return loc[:3] + loc[4:]
        except (TypeError, IndexError, KeyError):
            pass
    return loc


def _format_validation(err: ValidationError, source: str, data: object = None) -> str:
    problems = []
    for item in err.errors():
        item["loc"] = _inline_loc(item["loc"], data)
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            key = _loc(item["loc"])
            leaf = key.rsplit(".", 1)[-1].lower()
            if any(word in leaf for word in SECRET_WORDS):
                msg = ("secrets are not allowed in the config file; set them in the environment "
                       "(MEMELOOP_...) or in the [secrets] file")
            else:
                msg = "unknown key"
        problems.append(f"{_loc(item['loc'])}: {msg}")
    first = problems[0]
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return f"{source}: {first}{more}"


def _resolve_paths(cfg: Config, base: Path) -> Config:
    def fix(p: Path | None) -> Path | None:
        if p is None or str(p) == "" or str(p) == ".":
            return None
        p = p.expanduser()
        return p if p.is_absolute() else (base / p)

    media_dir = cfg.storage.media_dir.expanduser()
    storage = cfg.storage.model_copy(update={"url": _resolve_sqlite_url(cfg.storage.url, base),
                                             "media_dir": media_dir if media_dir.is_absolute() else base / media_dir})
    meme = cfg.generator.meme.model_copy(update={"bundle": fix(cfg.generator.meme.bundle),
                                                 "templates": fix(cfg.generator.meme.templates)})
    post = cfg.generator.post.model_copy(update={"gan_bundle": fix(cfg.generator.post.gan_bundle),
                                                 "writer_bundle": fix(cfg.generator.post.writer_bundle)})
    accounts = []
    for acc in cfg.accounts:
        update: dict[str, object] = {}
        if acc.outbox is not None:
            update["outbox"] = acc.outbox.model_copy(update={"path": fix(acc.outbox.path)})
        if acc.instagram is not None:
            update["instagram"] = acc.instagram.model_copy(
                update={"session_file": fix(acc.instagram.session_file)})
        if acc.bluesky is not None:
            update["bluesky"] = acc.bluesky.model_copy(update={"session_file": fix(acc.bluesky.session_file)})
        accounts.append(acc.model_copy(update=update))
    return cfg.model_copy(update={
        "storage": storage,
        "generator": cfg.generator.model_copy(update={"meme": meme, "post": post}),
        "logging": cfg.logging.model_copy(update={"file": fix(cfg.logging.file)}),
        "secrets": cfg.secrets.model_copy(update={"file": fix(cfg.secrets.file)}),
        "accounts": accounts,
    })


def _resolve_sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix):]
        if rest and rest != ":memory:" and not rest.startswith("file:"):
            return prefix + str((base / rest).resolve())
    return url


def parse_config(text: str, *, source: str = "<config>", base: Path | None = None,
                 environ: Mapping[str, str] | None = None) -> Config:
    """Validate TOML text; paths resolve against ``base``; the database password comes from
    ``environ`` (default: the process environment) or the secrets file when set there."""
    from bot.config.checks import check_paths, with_db_password

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not valid TOML: nested too deeply") from None
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, source, data)) from None
    base = base or Path.cwd()
    cfg = _resolve_paths(cfg, base).model_copy(update={"base": base})
    check_paths(cfg, source)
    return with_db_password(cfg, os.environ if environ is None else environ)


def load_config(path: str | Path | None = None) -> Config:
    cfg_path = find_config_path(path)
    if not cfg_path.is_file():
        hint = "" if path else f" (pass --config PATH, set {CONFIG_ENV}, or run `memeloop init DIR`)"
        raise ConfigError(f"config file {cfg_path} not found{hint}")
    try:
        text = cfg_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{cfg_path}: cannot read: {exc}") from None
    cfg = parse_config(text, source=str(cfg_path), base=cfg_path.resolve().parent)
    return cfg.model_copy(update={"path": cfg_path.resolve(), "digest": text_digest(text)})


def text_digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def config_changed(cfg: Config) -> str | None:
    """Why the file ``cfg`` was loaded from no longer holds what it held then (a child process started
    now would read another config), or None."""
    if cfg.path is None or cfg.digest is None:
        return None
    try:
        now = text_digest(cfg.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return f"config file {cfg.path} cannot be read any more ({exc})"
    if now != cfg.digest:
        return f"config file {cfg.path} changed since the daemon started; restart the daemon to apply it"
    return None
