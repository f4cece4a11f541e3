"""Configuration: TOML file -> validated pydantic models. Secrets never live in the TOML.

Relative paths resolve against the config file's folder. Errors become one ConfigError naming the
file, the key and the problem (the CLI exits 2 with it).
"""
from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

CONFIG_ENV = "MEMELOOP_CONFIG"
DEFAULT_CONFIG_NAME = "config.toml"
SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "consumer_key", "bearer")


class ConfigError(Exception):
    """A configuration problem; the message names the file and key."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | float | timedelta) -> timedelta:
    """'90s', '15m', '6h', '7d', '2w' or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like '6h', not a boolean")  # noqa: TRY004 (pydantic needs ValueError)
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration (use e.g. '90s', '15m', '6h', '7d')")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    return timedelta(seconds=seconds)


def _check_cron(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a cron expression (minute hour day month weekday): {exc}") from None
    return value


def _check_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (e.g. 'UTC', 'Europe/Berlin')") from None
    return value


def _check_slot(value: str) -> str:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", value)
    if not match:
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Cron = Annotated[str, BeforeValidator(_check_cron)]
TimeZone = Annotated[str, BeforeValidator(_check_timezone)]
Slot = Annotated[str, BeforeValidator(_check_slot)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class StorageConfig(Section):
    url: str = "sqlite:///memeloop.db"
    media_dir: Path = Path("media")  # resolved once against the config file's folder

    @field_validator("media_dir", mode="before")
    @classmethod
    def _media_dir_given(cls, value: object) -> object:
        if isinstance(value, str) and value.strip() in ("", "."):
            raise ValueError("must name a folder (e.g. \"media\"); an empty value is not allowed")
        return value


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | None = None


class MemeGeneratorConfig(Section):
    bundle: Path | None = None  # None/"" = the shipped demo bundle
    templates: Path | None = None  # None/"" = the shipped demo templates
    beam_width: int = Field(5, ge=1, le=32)
    images_per_run: int = Field(2, ge=1, le=100)
    forward_per_image: int = Field(2, ge=1, le=32)  # how many of an image's k beams go to review


class PostGeneratorConfig(Section):
    gan_bundle: Path | None = None
    writer_bundle: Path | None = None
    captions_per_image: int = Field(3, ge=1, le=20)


class GeneratorConfig(Section):
    timeout: Duration = timedelta(minutes=10)
    threads: int = Field(1, ge=1, le=64)  # BLAS/OpenMP threads per generate process
    # Opt-in: one long-lived generate process per generator (models load once, bot.worker), retired
    # after worker_max_runs runs or once it passes worker_max_rss_mb; off = a fresh child per run.
    warm_worker: bool = False
    worker_max_runs: int = Field(50, ge=1)
    worker_max_rss_mb: float = Field(1500.0, gt=0)
    meme: MemeGeneratorConfig = Field(default_factory=MemeGeneratorConfig)
    post: PostGeneratorConfig = Field(default_factory=PostGeneratorConfig)


class SafetyConfig(Section):
    extra_words: list[str] = []
    phash_distance: int = Field(6, ge=0, le=64)
    text_similarity: float = Field(0.85, ge=0.0, le=1.0)
    dedupe_window: Duration = timedelta(days=30)


class RankingConfig(Section):
    engagement_age: Duration = timedelta(hours=24)
    weights: dict[Literal["likes", "reposts", "replies", "quotes", "bookmarks", "comments"], float] = {
        "likes": 1.0, "reposts": 2.0, "replies": 1.0, "quotes": 1.0, "comments": 1.0,
    }
    baseline_posts: int = Field(30, ge=1)
    seed: int | None = None


class PollingConfig(Section):
    ages: list[Duration] = [timedelta(hours=h) for h in (1, 6, 24, 72, 168)]
    batch_size: int = Field(100, ge=1, le=100)


class PublishingConfig(Section):
    max_attempts: int = Field(5, ge=1, le=50)
    backoff: Duration = timedelta(minutes=1)
    max_backoff: Duration = timedelta(hours=6)
    lease: Duration = timedelta(minutes=5)
    late_window: Duration = timedelta(hours=2)
    auto_approve: bool = False


class SchedulerConfig(Section):
    timezone: TimeZone = "UTC"
    tick: Duration = timedelta(minutes=1)
    misfire_grace: Duration = timedelta(minutes=5)
    reconcile_every: Duration = timedelta(minutes=15)
    prune_every: Duration = timedelta(days=1)
    keep_media: Duration = timedelta(days=30)


class GenerateSchedule(Section):
    generator: Literal["meme", "post"] = "meme"
    every: Duration | None = timedelta(hours=6)
    cron: Cron | None = None
    count: int = Field(4, ge=1, le=200)
    tone: str | None = None
    audience: str | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> GenerateSchedule:
        if self.cron is not None and "every" in self.model_fields_set:
            raise ValueError("give either 'every' or 'cron', not both")
        return self


class OutboxConfig(Section):
    path: Path = Path("outbox")
    latency_ms: int = Field(0, ge=0, le=600_000)
    audience_seed: int | None = 7


class XConfig(Section):
    credentials_env_prefix: str = "MEMELOOP_X_"
    allow_urls: bool = False
    api_base: str = "https://api.x.com"


class InstagramConfig(Section):
    username: str
    credentials_env_prefix: str = "MEMELOOP_IG_"
    session_file: Path = Path("instagram-session.json")
    delay_range: tuple[float, float] = (1.0, 3.0)
    proxy: str | None = None


class AccountConfig(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    platform: Literal["outbox", "x", "instagram"]
    handle: str | None = None
    enabled: bool = True
    hashtag_cap: int = Field(5, ge=0, le=30)
    post_slots: list[Slot] = ["09:00", "13:00", "19:00"]
    post_cron: Cron | None = None
    timezone: TimeZone = "UTC"
    generate: list[GenerateSchedule] | GenerateSchedule = Field(default_factory=GenerateSchedule)
    outbox: OutboxConfig | None = None
    x: XConfig | None = None
    instagram: InstagramConfig | None = None

    @model_validator(mode="after")
    def _platform_section(self) -> AccountConfig:
        sections = {"outbox": self.outbox, "x": self.x, "instagram": self.instagram}
        for name, value in sections.items():
            if value is not None and name != self.platform:
                raise ValueError(f"has an [accounts.{name}] section but platform = {self.platform!r}")
        if self.platform == "outbox" and self.outbox is None:
            object.__setattr__(self, "outbox", OutboxConfig())
        if self.platform == "x" and self.x is None:
            object.__setattr__(self, "x", XConfig())
        if self.platform == "instagram" and self.instagram is None:
            raise ValueError("platform 'instagram' needs an [accounts.instagram] section with username")
        return self

    @property
    def schedules(self) -> list[GenerateSchedule]:
        return self.generate if isinstance(self.generate, list) else [self.generate]


class SecretsConfig(Section):
    file: Path | None = None  # a TOML file: [accounts.NAME] key = "value"; keep it chmod 600


class Config(Section):
    storage: StorageConfig = Field(default_factory=StorageConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    polling: PollingConfig = Field(default_factory=PollingConfig)
    publishing: PublishingConfig = Field(default_factory=PublishingConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    accounts: list[AccountConfig] = Field(default_factory=list)
    path: Path | None = Field(None, exclude=True)  # the file this was loaded from (set by load_config)

    @field_validator("accounts")
    @classmethod
    def _unique_names(cls, accounts: list[AccountConfig]) -> list[AccountConfig]:
        seen: set[str] = set()
        for acc in accounts:
            if acc.name in seen:
                raise ValueError(f"account name {acc.name!r} is used twice")
            seen.add(acc.name)
        return accounts

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


def _format_validation(err: ValidationError, source: str) -> str:
    problems = []
    for item in err.errors():
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
        update = {}
        if acc.outbox is not None:
            update["outbox"] = acc.outbox.model_copy(update={"path": fix(acc.outbox.path)})
        if acc.instagram is not None:
            update["instagram"] = acc.instagram.model_copy(
                update={"session_file": fix(acc.instagram.session_file)})
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


def find_config_path(path: str | Path | None) -> Path:
    """The explicit path, else $MEMELOOP_CONFIG, else ./config.toml."""
    chosen = path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_NAME
    return Path(chosen).expanduser()


def parse_config(text: str, *, source: str = "<config>", base: Path | None = None) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, source)) from None
    return _resolve_paths(cfg, base or Path.cwd())


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
    return cfg.model_copy(update={"path": cfg_path.resolve()})
