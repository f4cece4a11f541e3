"""A generator that learns from winners: the meme captioner's word biases from the ranker's effects.

`memeloop adapt meme` reads the persisted ranker (what the audience's engagement and the reviewers'
decisions taught it), takes per content word its effect and uncertainty (feedback.ranking.
word_effects) and stores generator.meme.adapt.word_bias of them as the next adaptation in the
data folder (`adaptations/meme/`); the previous ones are kept and `memeloop adapt rollback` goes
back one. Generation (bot/service/pipeline.py) decodes with the current adaptation, re-read each
run, so a warm worker follows it. Every draft still goes through review: nothing is published
because it was adapted.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core.deps import Deps
    from generator.meme.adapt import Adaptation, AdaptationStore

MIN_OUTCOMES = 30  # engagement readings and decisions the ranker needs before its effects steer writing


def adaptation_store(config: Config) -> AdaptationStore:
    from generator.meme.adapt import AdaptationStore

    root = config.path.parent if config.path is not None else Path.cwd()
    return AdaptationStore(root / "adaptations" / "meme")


@dataclass(frozen=True)
class AdaptationView:
    version: int  # 0: none active (the captioner as trained)
    created: str
    observations: int
    more: tuple[tuple[str, float], ...]  # words written more often, strongest first
    less: tuple[tuple[str, float], ...]
    versions: tuple[int, ...]


def view(config: Config, adaptation: Adaptation | None = None, *, top: int = 10) -> AdaptationView:
    store = adaptation_store(config)
    current = adaptation if adaptation is not None else store.current()
    if current is None:
        return AdaptationView(0, "", 0, (), (), tuple(store.versions()))
    ordered = sorted(current.bias.items(), key=lambda wb: (-abs(wb[1]), wb[0]))
    observations = current.source.get("observations", 0)
    return AdaptationView(current.version, current.created, int(observations) if isinstance(observations, int) else 0,
                          tuple((w, b) for w, b in ordered if b > 0)[:top],
                          tuple((w, b) for w, b in ordered if b < 0)[:top], tuple(store.versions()))


def adapt_meme(deps: Deps, *, strength: float = 1.0, min_outcomes: int = MIN_OUTCOMES) -> AdaptationView:
    """Store a new adaptation of the meme captioner from what the ranker has learned."""
    from feedback.ranking import word_effects
    from generator.meme.adapt import Adaptation, word_bias

    if not 0 <= strength <= 5:
        raise UsageError(f"--strength must be between 0 and 5, got {strength}")
    with deps.tx() as session:
        ranker = deps.ranker(session)
    if ranker.observations < min_outcomes:
        raise UsageError(f"the ranker has learned from {ranker.observations} outcomes; adapting the generator "
                         f"needs at least {min_outcomes} (posts with engagement, review decisions)")
    bias = word_bias(word_effects(ranker), strength=strength)
    made = adaptation_store(deps.config).save(Adaptation(
        bias, deps.clock().isoformat(timespec="seconds"),
        {"observations": ranker.observations, "model": ranker.version, "strength": strength}))
    return view(deps.config, made)


def rollback(config: Config) -> AdaptationView:
    """Go back to the adaptation before the current one (or to the captioner as trained)."""
    from generator import GeneratorError

    try:
        adaptation_store(config).rollback()
    except GeneratorError as e:
        raise UsageError(str(e)) from e
    return view(config)
