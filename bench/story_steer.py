"""Stories: does `thread steer TEXT` change the next part, and are the parts clean?

For each of 50 steering sentences (bench/data/story_steers.txt: about the demo writer's topics and
about anything else) a 2-part story of one of the writer's topics is continued by one part with the
steer and, side by side with the same seed, without it. A part *follows* a steer when it shares a
content word (lightly stemmed, stopwords aside) with the steer, or when the steer names a writer
topic (generator.photo_topics.topic_for_text) and the part is about that topic. Over every part
written: stock lines (calls to action the writer learned), non-words, and pairs of alike parts in a
thread (word Jaccard >= generator.story.ALIKE); with a brand call to action, how often it appears.

A steer the writer refuses (GeneratorError: no new part) is counted as not followed (``refused``).
The rates are also given apart for the steers that name a writer topic and the others.

Last line: `steers=.. steer_follow_rate=.. unsteered_follow_rate=.. steer_topic_rate=.. topic_steers=..
topic_steer_follow_rate=.. other_steers=.. other_steer_follow_rate=.. refused=.. parts=.. stock_lines=..
garbled_parts=.. alike_pairs=.. brand_cta_per_thread=.. seconds=..`.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator import GeneratorError
from generator.lexicon import unknown_words
from generator.photo_topics import topic_for_text
from generator.stock_lines import is_stock_line
from generator.story import (
    ALIKE,
    content_stems,
    similarity,
    strip_call_to_action,
    strip_hashtags,
    write_parts,
)
from generator.textgen.neutral import sentences

STEERS = Path(__file__).resolve().parent / "data" / "story_steers.txt"
TOPICS = ("cats", "coffee", "space", "nature")
CTA = "Come by the studio on Saturday"


def follows(part: str, steer: str, known) -> tuple[bool, bool]:
    """(follows the steer by words or topic, by topic)"""
    topic = topic_for_text(steer, known)
    by_topic = topic is not None and topic_for_text(strip_hashtags(part), (topic,)) == topic
    return bool(content_stems(part) & content_stems(steer)) or by_topic, by_topic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steers", type=int, default=50)
    args = parser.parse_args()
    from generator.textgen import load_writer

    steers = [s.strip() for s in STEERS.read_text().splitlines() if s.strip() and not s.startswith("#")]
    steers = steers[: args.steers]
    writer = load_writer()
    t0 = time.perf_counter()
    bases = {topic: [p.text for p in write_parts(writer, story=(), count=2, topic=topic, tone="funny",
                                                 audience="general", seed=100 + i, call_to_action=CTA)]
             for i, topic in enumerate(TOPICS)}
    threads = list(bases.values())
    steered = unsteered = by_topic = refused = 0
    named = {"topic": [0, 0], "other": [0, 0]}  # steers naming a writer topic or not: [count, followed]
    for i, steer in enumerate(steers):
        topic = TOPICS[i % len(TOPICS)]
        story = bases[topic]
        group = named["topic" if topic_for_text(steer, writer.topics) else "other"]
        group[0] += 1
        try:
            with_steer = write_parts(writer, story=story, count=1, topic=topic, tone="funny", audience="general",
                                     seed=i, steer=steer, call_to_action=CTA)[0].text
            without = write_parts(writer, story=story, count=1, topic=topic, tone="funny", audience="general",
                                  seed=i, call_to_action=CTA)[0].text
        except GeneratorError as exc:  # counted as not followed
            refused += 1
            print(f"refused  {steer!r}: {exc}")
            continue
        hit, hit_topic = follows(with_steer, steer, writer.topics)
        steered += hit
        group[1] += hit
        by_topic += hit_topic
        unsteered += follows(without, steer, writer.topics)[0]
        # as `thread steer` stores it: the brand's call to action moves to the new last part
        threads.append([*story[:-1], strip_call_to_action(story[-1], CTA), with_steer])
        print(f"{'follows' if hit else 'ignores'}  {steer!r}\n    -> {with_steer!r}\n    (unsteered: {without!r})")
    parts = [p for thread in threads for p in thread]
    bodies = [strip_hashtags(p).replace(f"{CTA}.", "") for p in parts]
    stock = sum(is_stock_line(s) for b in bodies for s in sentences(b))
    garbled = sum(bool(unknown_words(b)) for b in bodies)
    alike = sum(similarity(a, b) >= ALIKE for t in threads for a, b in itertools.combinations(t, 2))
    cta = sum(" ".join(t).count(CTA) for t in threads) / len(threads)
    n = len(steers)
    seconds = time.perf_counter() - t0
    print(f"{n} steers: the next part follows the steer {steered / n:.2f} of the time (by topic {by_topic / n:.2f}); "
          f"without the steer, the same seed's part matches it {unsteered / n:.2f}")
    print(f"{len(parts)} parts: {stock} stock lines, {garbled} with a non-word, {alike} alike pairs in "
          f"{len(threads)} threads, the brand's call to action {cta:.2f} times per thread")
    rate = {k: (f / c if c else 0.0) for k, (c, f) in named.items()}
    print(f"steers naming a writer topic: {named['topic'][1]}/{named['topic'][0]} followed; "
          f"others: {named['other'][1]}/{named['other'][0]}; refused {refused}")
    print(f"steers={n} steer_follow_rate={steered / n:.3f} unsteered_follow_rate={unsteered / n:.3f} "
          f"steer_topic_rate={by_topic / n:.3f} topic_steers={named['topic'][0]} "
          f"topic_steer_follow_rate={rate['topic']:.3f} other_steers={named['other'][0]} "
          f"other_steer_follow_rate={rate['other']:.3f} refused={refused} parts={len(parts)} "
          f"stock_lines={stock} garbled_parts={garbled} alike_pairs={alike} brand_cta_per_thread={cta:.2f} "
          f"seconds={seconds:.0f}")


if __name__ == "__main__":
    main()
