"""The content systems' models, loaded once per process that serves people.

The web admin, `memeloop run --web` and a CLI command each hold one ``ContentModels`` (on their
App): the photo classifier, the caption writer, the text -> template matcher and the GAN load
lazily on first use and stay warm for the next request. The warm-worker limits of ``[generator]``
retire them as they retire a worker: after ``worker_max_runs`` content requests, or once the
process's RSS passes ``worker_max_rss_mb``, the models are dropped and the next request loads them
afresh. A CLI command that captions several photos or writes several parts loads each model once.
"""
from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger(__name__)
T = TypeVar("T")


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), else the peak from getrusage (as
    bot.runtime.worker measures a warm worker)."""
    import os
    import resource

    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ContentModels:
    def __init__(self, config: Config, *, max_runs: int | None = None, max_rss_mb: float | None = None,
                 rss: Callable[[], float] | None = None) -> None:
        self.config = config
        self.max_runs = max_runs if max_runs is not None else config.generator.worker_max_runs
        self.max_rss_mb = max_rss_mb if max_rss_mb is not None else config.generator.worker_max_rss_mb
        self._rss = rss or rss_mb
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.loads = 0  # models loaded over this object's life (a figure for tests and logs)
        self.runs = 0  # content requests served since the models were last loaded

    def _get(self, name: str, load: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._models:
                if not self._models:  # tiny models decode one token at a time: a thread pool only spins
                    from bot.core.threads import pin_threads

                    pin_threads(self.config.generator.threads)
                self._models[name] = load()
                self.loads += 1
                log.info("event=content_model_loaded model=%s", name)
            return self._models[name]

    def loaded(self) -> tuple[str, ...]:
        return tuple(sorted(self._models))

    def topics(self) -> Any:
        """generator.photo_topics.PhotoTopics: what a photo shows."""
        from generator.photo_topics import load_photo_topics

        return self._get("topics", load_photo_topics)

    def writer(self) -> Any:
        """generator.textgen Writer of ``[generator.post] writer_model`` (installed) or ``writer_bundle``."""
        from bot.core.modelstore import writer_path
        from generator.textgen import load_writer

        return self._get("writer", lambda: load_writer(writer_path(self.config)))

    def gan(self) -> Any:
        from generator.pggan import load_gan

        return self._get("gan", lambda: load_gan(self.config.generator.post.gan_bundle))

    def matcher(self) -> Any:
        """The text -> template matcher fitted on the configured templates' caption corpus."""
        return self._get("matcher", lambda: load_matcher(self.config))

    def served(self) -> bool:
        """Count one content request; retire the models when the limits say so (True: retired)."""
        with self._lock:
            self.runs += 1
            rss = self._rss()
            if not self._models or (self.runs < self.max_runs and rss < self.max_rss_mb):
                return False
            log.info("event=content_models_retired runs=%d rss_mb=%.0f models=%s", self.runs, rss,
                     ",".join(sorted(self._models)))
            self._models.clear()
            self.runs = 0
        gc.collect()
        return True

    def close(self) -> None:
        with self._lock:
            self._models.clear()


def load_matcher(config: Config) -> Any:
    """The template matcher fitted on the captions of the configured meme templates (the fit is
    cached beside the template feature cache; the corpus is read once per load)."""
    from generator.meme.data import load_dataset
    from generator.meme.templates import DEMO_DATA_DIR
    from generator.template_match import fit_from_dataset

    cache = config.storage.media_dir.parent / "template-matcher.npz"
    return fit_from_dataset(load_dataset(config.generator.meme.templates or DEMO_DATA_DIR), cache=cache)
