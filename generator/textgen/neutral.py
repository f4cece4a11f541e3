"""Captions for no topic: lines a writer writes whatever the topic, for a photo it cannot name.

A writer trained on topic-conditioned captions writes, beside lines about the topic, lines that
suit any photo (the demo corpus's lines for a tone and audience: "Nobody asked, but here it is
anyway.", "Slow looking is its own kind of rest."). Asked for a topic it never saw ("bobsleigh") it
splices lines into garble. So a neutral caption is found the
writer's own way: sample under each topic it knows, and keep the sentences it wrote under at least
``MIN_TOPICS`` different topics (the same for hashtags); a splice is not written twice under two
topics. Stock calls to action ("link in bio", generator.stock_lines) are general too, but they are
the brand's to give, so they are left out. Each caption is one sample's neutral sentences, in its
order.

Pure: a writer in (generator.textgen.Writer or anything with ``topics`` and ``write``), strings out.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence

import numpy as np

from generator import GeneratorError

NEUTRAL = "neutral"  # generator.photo_topics.NEUTRAL: the topic name that means "no topic"
SAMPLES_PER_TOPIC = 6  # at most; fewer for fewer captions (the writer's general lines recur in most samples)
MIN_TOPICS = 2
ROUNDS = 3
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]+|[^.!?\n]+$")
_HASHTAG = re.compile(r"(?<![\w#&])#\w+")


def sentences(text: str) -> list[str]:
    """The sentences of a caption body (hashtags set aside), tidied."""
    body = _HASHTAG.sub(" ", text)
    return [" ".join(s.split()) for s in _SENTENCE.findall(body) if s.strip(" .!?")]


def hashtags(text: str) -> list[str]:
    return _HASHTAG.findall(text)


def drop_sentences(text: str, drop: Callable[[str], bool]) -> str:
    """``text`` without the sentences ``drop`` says go (its hashtags and line breaks kept); "" when no
    sentence is left."""
    kept_lines = []
    for line in text.split("\n"):
        if line.strip() and all(w.startswith("#") for w in line.split()):
            kept_lines.append(line)
            continue
        kept_lines.append(" ".join(" ".join(s.split()) for s in _SENTENCE.findall(line)
                                   if s.strip() and not drop(s)))
    out = "\n".join(kept_lines).strip()
    return out if sentences(out) else ""


def write_for(writer, n: int, *, topic: str, tone: str, audience: str, seed: int) -> list[str]:
    """n captions for ``topic``: the writer's own when it knows the topic, neutral ones otherwise."""
    if topic in writer.topics:
        return list(writer.write(n, tone=tone, audience=audience, seed=seed, topic=topic))
    return neutral_captions(writer, n, tone=tone, audience=audience, seed=seed)


def about_photo(writer, n: int, lines: Sequence[str], *, tone: str, audience: str, seed: int,
                once: bool = False) -> list[str]:
    """n captions of an unsure photo: each opens with one of ``lines`` (what is certain of the photo,
    generator.photo_topics.certain_lines), then the writer's neutral sentences for the tone. Without
    neutral sentences (a writer with one topic, or none fit) the line stands alone.

    ``once``: the lines are one formula in a few wordings (a photo's colour list: "A study in orange
    and grey.", "Today's palette: orange, grey, brown."); four captions of one photo opening with it
    read as one stock line four times (issue 23), so only the first caption opens with one and the
    others are the writer's neutral sentences alone (when it has as many; else the lines fill in)."""
    if not lines:
        raise GeneratorError("no line about the photo to write from")
    # a tone may have fewer neutral lines than captions asked for: as many as there are
    want = n + 1 if once else n  # the captions without a line must still differ from the one with it
    general = (_neutral(writer, want, tone=tone, audience=audience, seed=seed, rounds=2 * ROUNDS if once else ROUNDS)
               if len(writer.topics) >= MIN_TOPICS else [])
    start = int(np.random.default_rng(seed).integers(0, len(lines)))
    if once and general:
        # the line says the colours once; the others are the neutral captions, then pairs of them (a tone
        # may have few lines that fit any photo, and another colour opening is the formula again)
        rest = general[1:] + [_joined(a, b) for a, b in itertools.combinations(general, 2)]
        out = [f"{lines[start]} {general[0]}", *rest[:n - 1]]
        out += [f"{lines[(start + i) % len(lines)]} {general[i % len(general)]}" for i in range(len(out), n)]
        return out
    out = []
    for i in range(n):
        line = lines[(start + i) % len(lines)]
        out.append(f"{line} {general[i % len(general)]}" if general else line)
    return out


def _joined(a: str, b: str) -> str:
    """Two neutral captions as one: both bodies, their hashtags once."""
    body_a, _, tags_a = a.partition("\n\n")
    body_b, _, tags_b = b.partition("\n\n")
    tags = list(dict.fromkeys((tags_a + " " + tags_b).split()))
    return f"{body_a} {body_b}\n\n{' '.join(tags)}" if tags else f"{body_a} {body_b}"


def neutral_captions(writer, n: int, *, tone: str, audience: str, seed: int) -> list[str]:
    """n distinct captions made of sentences the writer writes under several topics."""
    topics = tuple(writer.topics)
    if len(topics) < MIN_TOPICS:  # nothing to tell topic lines from general ones by
        return list(writer.write(n, tone=tone, audience=audience, seed=seed, topic=topics[0]))
    out = _neutral(writer, n, tone=tone, audience=audience, seed=seed)
    if len(out) >= n:
        return out[:n]
    raise GeneratorError(f"caption model {getattr(writer, 'version', '?')} wrote {len(out)} captions that fit "
                         f"any photo of {n} asked for; give the photo a topic (--topic or --about)")


def _neutral(writer, n: int, *, tone: str, audience: str, seed: int, rounds: int = ROUNDS) -> list[str]:
    """Up to n distinct neutral captions (fewer when the writer has fewer for this tone)."""
    rng = np.random.default_rng(seed)
    samples: list[tuple[str, str]] = []  # (topic, caption)
    out: list[str] = []
    per_topic = min(SAMPLES_PER_TOPIC, max(2, n))
    for _ in range(rounds):
        for topic in writer.topics:
            written = writer.write(per_topic, tone=tone, audience=audience,
                                   seed=int(rng.integers(0, 2**62)), topic=topic)
            samples += [(topic, text) for text in written]
        out = _compose(samples, n)
        if len(out) >= n:
            break
    return out[:n]


def _compose(samples: Sequence[tuple[str, str]], n: int) -> list[str]:
    """Up to n distinct captions of the (topic, caption) samples' neutral sentences and hashtags."""
    from generator.gates.offtopic import off_topic
    from generator.stock_lines import is_stock_line

    seen: dict[str, set[str]] = {}
    tag_seen: dict[str, set[str]] = {}
    for topic, sample in samples:
        for s in sentences(sample):
            seen.setdefault(s.lower(), set()).add(topic)
        for t in hashtags(sample):
            tag_seen.setdefault(t.lower(), set()).add(topic)
    out: list[str] = []
    for _, sample in samples:
        # a line that fits any photo names no photo topic ("Every rocket starts on the ground." is a splice)
        kept = [s for s in sentences(sample) if len(seen.get(s.lower(), ())) >= MIN_TOPICS and not is_stock_line(s)
                and off_topic(s, None) is None]
        if not kept:
            continue
        body = " ".join(kept)
        tags = list(dict.fromkeys(t for t in hashtags(sample) if len(tag_seen.get(t.lower(), ())) >= MIN_TOPICS))
        caption = f"{body}\n\n{' '.join(tags)}" if tags else body
        if body.lower() not in {c.split("\n")[0].lower() for c in out}:
            out.append(caption)
        if len(out) >= n:
            break
    return out
