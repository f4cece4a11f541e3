"""Gates every draft passes before it may reach the review queue: pure checks, text in, verdict out.

One place, used by the pipeline (bot/service/pipeline.py) for every generator's drafts, by
bench/content_quality.py as its named detectors, and by tests. Each check answers with a
``Verdict``: whether the draft may go on, the gate's name, a reason in words, and the text it
would go on with (the truth gate removes an undeclared offer instead of refusing the whole draft).

Gates (names are what `queue list --status filtered` and the bench print):
- ``internals``: control tokens, special tokens, prompt prefixes, talk about models, training,
  seeds or pixels (generator/gates/internals.py).
- ``truth``: offers, codes, prices, discounts, shipping promises, links and "link in bio" that the
  account's brand profile does not declare (generator/gates/truth.py).
- ``fluency``: broken constructions (dangling article or preposition, "trying to the", a repeated
  word, a cut-off word) by rules plus a word-bigram model of ordinary English
  (generator/gates/fluency.py, generator/gates/english.py); the writer's splices ("Cats can host hunt
  their waking hours grooming.", a sentence said twice: generator/gates/garble.py).
- ``meaning``: a meme caption joined from pieces of two training captions whose seam joins words
  that do not go together ("the bike is my face", "when you sit in the wall"): the verb-object,
  preposition-object and subject-complement pairs formed across a seam must occur in a caption a
  person wrote or among ordinary English's common word pairs (generator/gates/meaning.py).
- ``coherence``: a meme caption whose pieces do not hold together: joined from more than two pieces
  of training captions, a change of speaker (you ... my) or a verb that lost its object ("set up the
  whole time") where two pieces meet, a "me doing something" label going on with a clause of its
  own (generator/gates/coherence.py).
- ``siblings``: drafts forwarded from one image must differ by >= 2 content words
  (generator/gates/siblings.py).
- ``preflight``: the target platform's own preflight (generator.platforms, run by the pipeline).
- ``voice`` and ``off_topic``: a written caption that speaks as a business on an account that promotes
  nothing (generator/gates/voice.py), or names another topic's words than its photo's
  (generator/gates/offtopic.py); they need the account and the photo's reading, so the pipeline runs
  them (bot/service/pipeline_gates.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from generator.brand import Brand

if TYPE_CHECKING:
    from generator.gates.meaning import Sources


@dataclass(frozen=True)
class Verdict:
    ok: bool
    text: str  # the text the draft goes on with (a gate may have removed a sentence)
    gate: str | None = None  # the gate that refused it, when not ok
    reason: str | None = None  # in words, e.g. "fluency: dangling 'the' at the end"
    notes: tuple[str, ...] = ()  # what a gate changed without refusing (e.g. a removed offer)


def check_text(text: str, *, brand: Brand | None = None, fluency: bool = True,
               sources: Sources | None = None, given: str = "") -> Verdict:
    """The text gates in order: internals, truth (may rewrite), fluency, meaning, coherence. First refusal wins.
    ``fluency`` False for text a person typed (``memeloop make``, an edit): people may write as
    they like; the other gates still hold. ``sources``: the training captions a generator joins
    pieces of (the meme captioner's); the meaning and coherence gates judge its seams. ``given``: the
    words a person typed (``memeloop make``): the truth gate judges only what the generator wrote."""
    from generator.gates.fluency import check_fluency
    from generator.gates.internals import find_internals
    from generator.gates.truth import enforce_truth

    hit = find_internals(text)
    if hit:
        return Verdict(False, text, "internals", f"internals: {hit}")
    truth = enforce_truth(text, brand or Brand(), given=given)
    if not truth.ok:
        return truth
    if fluency:
        broken = check_fluency(truth.text)
        if broken:
            return replace(truth, ok=False, gate="fluency", reason=f"fluency: {broken}")
        if sources is not None:
            from generator.gates.meaning import check_meaning

            odd = check_meaning(truth.text, sources)
            if odd:
                return replace(truth, ok=False, gate="meaning", reason=f"meaning: {odd}")
            from generator.gates.coherence import check_coherence

            loose = check_coherence(truth.text, sources)
            if loose:
                return replace(truth, ok=False, gate="coherence", reason=f"coherence: {loose}")
    return truth


__all__ = ["Verdict", "check_text"]
