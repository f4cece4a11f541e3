"""Image -> story, as a thread of 2-6 parts written by the caption writer, each fed the story so far.

The writer (generator/textgen) samples after its control prefix; for a story the prefix carries the
story's topic, and the tail of the parts so far follows it as context, so part N is conditioned on
parts 1..N-1 (the demo writer's context window is 96 tokens: the most recent ~16 words of the story
fit). A reviewer's steering sentence joins the context of the next part, and the writer topic it
names (generator.photo_topics.topic_for_text: "then the cat knocked the mug over" -> cats) becomes
that part's topic.

A small writer fed text it was not trained to continue splices lines into garble, repeats the line
before, and ends every part with the stock call to action of its corpus. So each part is chosen
among samples (conditioned on the story, and plainly on the topic) sentence by sentence: stock
lines (generator.stock_lines) and sentences with a non-word (generator.lexicon) are dropped, a
sentence the story already has is dropped, a part too like an earlier one (word Jaccard >= ALIKE)
is refused; of what is left the part that follows the steer best, else the one most tied to the
story so far (and naming its topic) without repeating it, is kept. A call to action comes only from the brand
(``call_to_action``) and only once: on the last part, before the hashtags.

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
SAMPLES_PER_PART = 4
ROUNDS = 3
CONTEXT_WORDS = 16  # of the story so far, fed after the prefix (fits the demo writer's 96 positions)
MIN_PART_WORDS = 4
ALIKE = 0.5  # word Jaccard at or above which two parts count as alike
TOPIC_BONUS = 1.0  # for a part that names the part's topic (below a steer's 3 per shared word)
PART_BREAK = "\n\n"
_HASHTAG = re.compile(r"(?<![\w#&])#\w+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_WORDS = re.compile(r"[a-z']+")
STOPWORDS = frozenset(
    "a an the and or but if then so of to in on at by for with from into onto up down out over under about as is "
    "are was were be been being am it its it's this that these those there here i me my we our you your he she "
    "him her they them their what which who whom when where why how all any some no not just very too than "
    "do does did done have has had will would can could should may might must one again once more most".split())


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


def _word_set(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower()))


def similarity(a: str, b: str) -> float:
    """Word Jaccard of two parts (hashtags aside)."""
    wa, wb = _word_set(strip_hashtags(a)), _word_set(strip_hashtags(b))
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def content_stems(text: str) -> set[str]:
    """The words that carry what a text is about (no stopwords), lightly stemmed."""
    from generator.template_match import stem

    return {stem(w.removesuffix("'s").strip("'")) for w in _WORDS.findall(strip_hashtags(text).lower())
            if w not in STOPWORDS and len(w) > 2}


def strip_hashtags(text: str) -> str:
    return " ".join(_HASHTAG.sub("", text).split())


def hashtags_of(text: str) -> list[str]:
    return list(dict.fromkeys(_HASHTAG.findall(text)))


def strip_call_to_action(text: str, call_to_action: str | None) -> str:
    """A part without the brand's call to action (it moves to the thread's new end)."""
    if not call_to_action:
        return text
    for form in (_sentence(call_to_action), " ".join(call_to_action.split())):
        text = text.replace(form, " ")
    return " ".join(text.split())


def clean_part(sample: str, story: Sequence[str]) -> str | None:
    """A writer sample as a part after ``story``: its sentences without stock lines, non-words,
    sentences that start mid-way (lowercase: "edges read as.") and sentences the story already has;
    None when too little is left or it is too like an earlier part."""
    from generator.lexicon import unknown_words
    from generator.stock_lines import is_stock_line
    from generator.textgen.neutral import sentences

    used = {s.lower() for part in story for s in sentences(part)}
    kept = [s for s in sentences(sample) if not is_stock_line(s) and not unknown_words(s)
            and s.lower() not in used and not s[:1].islower()]  # lowercase: a splice starting mid-way
    text = " ".join(kept).lstrip(" .,;:!?-")
    if len(text.split()) < MIN_PART_WORDS:
        return None
    if any(similarity(text, earlier) >= ALIKE for earlier in story):
        return None
    return text


@dataclass(frozen=True)
class _Option:
    text: str
    how: str
    tags: tuple[str, ...]
    score: float


def _score(text: str, how: str, story: Sequence[str], steer: str | None, steer_topic: str | None,
           topic: str | None = None) -> float:
    """Follows the steer first (its words, its topic's words), then the story (shared content words,
    a part that names the story's topic over one of general lines such as "Ten out of ten, would
    scroll again.", a context-conditioned sample over a plain one), never repeating it (the most
    similar part)."""
    from generator.photo_topics import topic_for_text

    words = content_stems(text)
    score = 0.0
    if topic is not None and topic_for_text(text, (topic,)) == topic:
        score += TOPIC_BONUS
    if steer:
        score += 3.0 * len(words & content_stems(steer))
        if steer_topic is not None and topic_for_text(text, (steer_topic,)) == steer_topic:
            score += 3.0
    if story:
        score += 0.5 * min(3, len(words & content_stems(" ".join(story))))
        score -= 2.0 * max(similarity(text, p) for p in story)
    return score + (0.25 if how == "context" else 0.0)


def _samples(writer, context: str, topic: str, tone: str, audience: str, seed: int) -> list[tuple[str, str]]:
    """(how, sample) pairs: after the story so far and plainly for the topic (a topic the writer does
    not know: lines that fit any story, generator.textgen.neutral)."""
    from generator.textgen.neutral import neutral_captions

    if topic not in writer.topics:
        return [("neutral", s) for s in neutral_captions(writer, SAMPLES_PER_PART, tone=tone, audience=audience,
                                                         seed=seed)]
    out = []
    ways = [("context", context), ("topic", "")] if context else [("topic", "")]
    for k, (how, ctx) in enumerate(ways):
        out += [(how, s) for s in writer.write_after(ctx, SAMPLES_PER_PART, seed=seed + k, topic=topic, tone=tone,
                                                    audience=audience)]
    return out


def _write_one(writer, story: Sequence[str], *, topic: str, tone: str, audience: str, seed: int,
               steer: str | None, steer_topic: str | None) -> tuple[_Option, str]:
    context = " ".join(" ".join(story).split()[-CONTEXT_WORDS:])
    if steer:
        context = f"{context} {steer}".strip()
    for attempt in range(ROUNDS):
        options = []
        for how, sample in _samples(writer, context, topic, tone, audience, seed + 2 * attempt):
            text = clean_part(sample, story)
            if text is not None:
                options.append(_Option(text, how, tuple(hashtags_of(sample)),
                                       _score(text, how, story, steer, steer_topic, topic)))
        if options:
            return max(options, key=lambda o: o.score), context
    raise GeneratorError(f"caption model {getattr(writer, 'version', '?')} wrote no part unlike the story so far "
                         f"in {ROUNDS * 2 * SAMPLES_PER_PART} samples (topic {topic!r}); edit a part or try "
                         f"another seed")


def write_parts(writer, *, story: Sequence[str], count: int, topic: str, tone: str, audience: str, seed: int,
                steer: str | None = None, call_to_action: str | None = None) -> list[StoryPart]:
    """``count`` new parts after ``story`` (the parts so far, hashtags and the brand's call to action set
    aside). The first new part follows ``steer`` if given. The last new part ends with the brand's
    ``call_to_action`` (if any, once) and the hashtags the writer gave."""
    from generator.photo_topics import topic_for_text

    rng = np.random.default_rng(seed)
    so_far = [strip_call_to_action(strip_hashtags(p), call_to_action) for p in story]
    steer = " ".join(steer.split()) if steer else None
    steer_topic = topic_for_text(steer, writer.topics) if steer else None
    out: list[StoryPart] = []
    tags: list[str] = []
    for i in range(count):
        part_seed = int(rng.integers(0, 2**62))
        steering = steer if i == 0 else None
        part_topic = (steer_topic or topic) if steering else topic
        best, context = _write_one(writer, so_far, topic=part_topic, tone=tone, audience=audience, seed=part_seed,
                                   steer=steering, steer_topic=steer_topic if steering else None)
        tags = list(best.tags) or tags
        out.append(StoryPart(best.text, part_seed, steering,
                             {"context": context, "conditioned_by": best.how, "topic": part_topic}))
        so_far.append(best.text)
    if out:
        last = out[-1]
        tail = [t for t in (_sentence(call_to_action), " ".join(tags[:5])) if t]
        if tail:
            out[-1] = StoryPart(" ".join([last.text, *tail]), last.seed, last.steer, last.params)
    return out


def _sentence(text: str | None) -> str:
    """The brand's call to action as a sentence of its own."""
    text = " ".join((text or "").split())
    return text if not text or text[-1] in ".!?" else f"{text}."


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
