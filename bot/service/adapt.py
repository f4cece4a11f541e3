"""A generator that learns from winners: the generators' word biases from the ranker's effects.

`memeloop adapt meme` reads the persisted ranker (what the audience's engagement and the reviewers'
decisions taught it), takes per content word its effect and uncertainty (feedback.ranking.
word_effects) and stores the effects with generator.meme.adapt.word_bias of them (the offsets an
older reader follows: effect less one sd) as the next adaptation in the data folder
(`adaptations/meme/`); the previous ones are kept and `memeloop adapt rollback` goes back one. Both
generators follow the effects' posterior means (generator.meme.adapt.captioner_bias,
generator.textgen.bias.writer_bias), an adaptation stored before the effects were kept its offsets.
The daemon does the same on the ``[learning]`` schedule (``scheduled``): every
``adapt_every``, once the ranker has ``adapt_min_outcomes`` outcomes the newest adaptation was not
made from (else it logs why it skipped). Generation decodes with the current adaptation, re-read
each run (``follow_adaptation``), so a warm worker follows it: the meme captioner
(bot/service/pipeline.py) and the caption writer (GAN posts, photo captions, stories:
generator/textgen/bias.py); each draft records the adaptation it was made with (params
"adaptation", 0: none). Every draft still goes through review: nothing is published because it was
adapted.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core.deps import Deps
    from generator.meme.adapt import Adaptation, AdaptationStore

log = logging.getLogger(__name__)

MIN_OUTCOMES = 30  # engagement readings and decisions the ranker needs before its effects steer writing


def adaptation_store(config: Config) -> AdaptationStore:
    from generator.meme.adapt import AdaptationStore

    return AdaptationStore(config.data_dir() / "adaptations" / "meme")


@dataclass(frozen=True)
class AdaptationView:
    version: int  # 0: none active (the captioner as trained)
    created: str
    observations: int
    more: tuple[tuple[str, float], ...]  # the captioner's words written more often (captioner_bias), strongest first
    less: tuple[tuple[str, float], ...]
    versions: tuple[int, ...]
    # every stored adaptation, oldest first: version, created, observations, trigger, words (+/-)
    history: tuple[dict[str, Any], ...] = ()
    # the caption writer's tilts from the same adaptation (generator.textgen.bias.writer_bias), strongest first
    writer_more: tuple[tuple[str, float], ...] = ()
    writer_less: tuple[tuple[str, float], ...] = ()


def _history(store: AdaptationStore) -> tuple[dict[str, Any], ...]:
    from generator import DataError
    from generator.meme.adapt import captioner_bias

    out = []
    for version in store.versions():
        try:
            a = store.load(version)
        except DataError as e:
            out.append({"version": version, "error": str(e)})
            continue
        out.append({"version": version, "created": a.created, "observations": _observations(dict(a.source)),
                    "trigger": str(a.source.get("trigger", "command")),
                    "more": sum(b > 0 for b in captioner_bias(a).values()),
                    "less": sum(b < 0 for b in captioner_bias(a).values())})
    return tuple(out)


def view(config: Config, adaptation: Adaptation | None = None, *, top: int = 10) -> AdaptationView:
    store = adaptation_store(config)
    current = adaptation if adaptation is not None else store.current()
    if current is None:
        return AdaptationView(0, "", 0, (), (), tuple(store.versions()), _history(store))
    from generator.meme.adapt import captioner_bias
    from generator.textgen.bias import writer_bias

    captioner, writer = _strongest(captioner_bias(current), top), _strongest(writer_bias(current), top)
    return AdaptationView(current.version, current.created, _observations(dict(current.source)), *captioner,
                          tuple(store.versions()), _history(store), *writer)


def _strongest(bias: Mapping[str, float], top: int) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
    """The ``top`` words with the largest positive and the largest negative bias, strongest first."""
    ordered = sorted(bias.items(), key=lambda wb: (-abs(wb[1]), wb[0]))
    return tuple((w, b) for w, b in ordered if b > 0)[:top], tuple((w, b) for w, b in ordered if b < 0)[:top]


def adapt_meme(deps: Deps, *, strength: float = 1.0, min_outcomes: int = MIN_OUTCOMES,
               trigger: str = "command") -> AdaptationView:
    """Store a new adaptation of the generators from what the ranker has learned."""
    from feedback.ranking import word_effects
    from generator.meme.adapt import Adaptation, word_bias

    if not 0 <= strength <= 5:
        raise UsageError(f"--strength must be between 0 and 5, got {strength}")
    with deps.tx() as session:
        ranker = deps.ranker(session)
    if ranker.observations < min_outcomes:
        raise UsageError(f"the ranker has learned from {ranker.observations} outcomes; adapting the generator "
                         f"needs at least {min_outcomes} (posts with engagement, review decisions)")
    effects = word_effects(ranker)
    made = adaptation_store(deps.config).save(Adaptation(
        word_bias(effects, strength=strength), deps.clock().isoformat(timespec="seconds"),
        {"observations": ranker.observations, "model": ranker.version, "strength": strength, "trigger": trigger},
        effects=effects))
    return view(deps.config, made)


class AdaptStatus(StrEnum):
    ADAPTED = "adapted"
    OFF = "off"  # [learning] adapt = false
    TOO_LITTLE_EVIDENCE = "too_little_evidence"  # fewer new outcomes than adapt_min_outcomes


@dataclass(frozen=True)
class ScheduledAdaptation:
    status: AdaptStatus
    new_outcomes: int  # outcomes the ranker has that the newest adaptation was not made from
    view: AdaptationView | None = None  # the adaptation made (ADAPTED)


def _observations(source: Any) -> int:
    value = source.get("observations", 0) if isinstance(source, dict) else 0
    return value if isinstance(value, int) else 0


def scheduled(deps: Deps) -> ScheduledAdaptation:
    """The daemon's periodic adaptation ([learning]): adapt once the ranker has adapt_min_outcomes
    outcomes the newest stored adaptation (current or rolled back) was not made from, so a rollback
    holds until there is new evidence; otherwise log why not and keep the current one."""
    cfg = deps.config.learning
    if not cfg.adapt:
        return ScheduledAdaptation(AdaptStatus.OFF, 0)
    store = adaptation_store(deps.config)
    versions = store.versions()
    made_from = _observations(dict(store.load(versions[-1]).source)) if versions else 0
    with deps.tx() as session:
        observations = deps.ranker(session).observations
    new = max(0, observations - made_from)
    if new < cfg.adapt_min_outcomes:
        log.info("adapt.skipped reason=too_little_evidence new_outcomes=%d min=%d observations=%d version=%d",
                 new, cfg.adapt_min_outcomes, observations, store.current_version())
        return ScheduledAdaptation(AdaptStatus.TOO_LITTLE_EVIDENCE, new)
    made = adapt_meme(deps, strength=cfg.adapt_strength, min_outcomes=1, trigger="scheduled")
    top = ",".join(f"{w}{b:+.2f}" for w, b in (*made.more[:5], *made.less[:5]))
    log.info("adapt.done version=%d observations=%d new_outcomes=%d more=%d less=%d top=%s", made.version,
             made.observations, new, len(made.more), len(made.less), top or "-")
    return ScheduledAdaptation(AdaptStatus.ADAPTED, new, made)


def follow_adaptation(model: Any, config: Config) -> int:
    """Generate with the current adaptation (read each run: a warm worker follows a new one or a
    rollback); ``model`` is the meme captioner or the caption writer (anything with ``adapt``);
    returns the adaptation's number (0: the model as trained)."""
    store = adaptation_store(config)
    version = store.current_version()
    held = getattr(model, "adaptation", None)
    if version != (held.version if held is not None else 0) and hasattr(model, "adapt"):
        model.adapt(store.load(version) if version else None)
        log.info("adaptation.follow model=%s version=%d", type(model).__name__, version)
    return version


def rollback(config: Config) -> AdaptationView:
    """Go back to the adaptation before the current one (or to the captioner as trained)."""
    from generator import GeneratorError

    try:
        adaptation_store(config).rollback()
    except GeneratorError as e:
        raise UsageError(str(e)) from e
    return view(config)
