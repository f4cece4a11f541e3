"""Image -> story, as a thread of 2-6 parts written by the caption writer, each fed the story so far.

The writer (generator/textgen) samples after its control prefix; for a story the prefix carries the
photo's topic (and a reviewer's steering sentence), and the tail of the parts so far follows it as
context, so part N is conditioned on parts 1..N-1 (the demo writer's context window is 96 tokens:
the most recent ~24 tokens of the story fit). Of a few samples per part the one least like the
story so far is kept, so a thread does not repeat itself. Hashtags go only on the last part.

Pure: values in, values out. ``thread_texts`` numbers the parts and fits each to the platform's
length rules (X: 280 weighted characters).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generator import GeneratorError

MIN_PARTS, MAX_PARTS = 2, 6
SAMPLES_PER_PART = 3
CONTEXT_WORDS = 16  # of the story so far, fed after the prefix (fits the demo writer's 96 positions)
PART_BREAK = "\n\n"
_HASHTAG = re.compile(r"(?<![\w#&])#\w+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True)
class StoryPart:
    text: str
    seed: int
    steer: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def split_parts(text: str) -> list[str]:
    """A thread's parts from its stored text (parts joined by blank lines)."""
    return [p.strip() for p in _BLANK_LINES.split(text.strip()) if p.strip()]


def join_parts(parts: Sequence[str]) -> str:
    return PART_BREAK.join(" ".join(p.split()) for p in parts)


def check_count(n: int) -> None:
    if not MIN_PARTS <= n <= MAX_PARTS:
        raise GeneratorError(f"a story has {MIN_PARTS}-{MAX_PARTS} parts, not {n}")


def _similarity(a: str, b: str) -> float:
    wa, wb = set(re.findall(r"[a-z']+", a.lower())), set(re.findall(r"[a-z']+", b.lower()))
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def strip_hashtags(text: str) -> str:
    return " ".join(_HASHTAG.sub("", text).split())


def _usable(samples: Sequence[str]) -> list[str]:
    """Samples that read as a part: at least 3 words once hashtags are set aside."""
    out = []
    for text in samples:
        body = strip_hashtags(text).lstrip(" .,;:!?-")
        if len(body.split()) >= 3:
            out.append(body)
    return out


def hashtags_of(text: str) -> list[str]:
    return list(dict.fromkeys(_HASHTAG.findall(text)))


def write_parts(writer, *, story: Sequence[str], count: int, topic: str, tone: str, audience: str, seed: int,
                steer: str | None = None) -> list[StoryPart]:
    """``count`` new parts after ``story`` (the parts so far, hashtags set aside); the last new part
    ends with the hashtags the writer gave. A caption model trained on whole captions tends to
    answer a finished sentence with hashtags only; then the story's last words move into the topic."""
    rng = np.random.default_rng(seed)
    so_far = [strip_hashtags(p) for p in story]
    out: list[StoryPart] = []
    tags: list[str] = []
    for i in range(count):
        part_seed = int(rng.integers(0, 2**62))
        context = " ".join(" ".join(so_far).split()[-CONTEXT_WORDS:])
        if steer and i == 0:
            context = f"{context} {steer}".strip()
        part_topic = f"{topic}; {steer}" if steer and i == 0 else topic
        options = {"tone": tone, "audience": audience}
        ways = [("context", context, part_topic), ("topic", "", f"{part_topic}: {context}"), ("fresh", "", part_topic)]
        for attempt, (how, ctx, top) in enumerate(ways if context else ways[2:]):
            samples = writer.write_after(ctx, SAMPLES_PER_PART, seed=part_seed + attempt, topic=top, **options)
            texts = _usable(samples)
            if texts:
                break
        texts = texts or [" ".join(samples[0].split())]
        tags = [t for s in samples for t in hashtags_of(s)] or tags
        best = min(texts, key=lambda t: max((_similarity(t, p) for p in so_far), default=0.0))
        out.append(StoryPart(best, part_seed, steer if i == 0 else None,
                             {"context": context, "conditioned_by": how, "topic": part_topic}))
        so_far.append(best)
    if out and tags:
        last = out[-1]
        out[-1] = StoryPart(f"{last.text}\n{' '.join(list(dict.fromkeys(tags))[:5])}", last.seed, last.steer,
                            last.params)
    return out


def thread_texts(parts: Sequence[str], platform: str) -> list[str]:
    """The parts as posted: numbered "(i/n)", each within the platform's length rules."""
    from generator.xtext import X_MAX_WEIGHTED, normalise_for_x, trim_to_weight, x_weighted_length

    n, out = len(parts), []
    for i, part in enumerate(parts, start=1):
        suffix = f" ({i}/{n})"
        body = " ".join(part.split())
        if platform == "x":
            body = trim_to_weight(normalise_for_x(body), X_MAX_WEIGHTED - x_weighted_length(suffix),
                                  x_weighted_length)
        out.append(body + suffix)
    return out


def single_caption(parts: Sequence[str]) -> str:
    """One caption holding the whole thread (where a reply chain or carousel is not possible)."""
    return PART_BREAK.join(thread_texts(parts, "instagram"))
