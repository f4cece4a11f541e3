"""The captioner: a loaded bundle + its image encoder + the NumPy decode path."""
from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from generator import GeneratorError
from generator.gates.repeats import Earlier, RepeatIndex
from generator.meme.adapt import Adaptation, bias_vector, captioner_bias
from generator.meme.beam import DecodeRules, Hypothesis, Sampling, beam_search, choose, rank, sample
from generator.meme.bundle import Bundle, load_bundle
from generator.meme.encoders import Encoder, FeatureCache, ImageLike, get_encoder
from generator.meme.metrics import caption_hashes
from generator.meme.ngrams import CorpusTrigrams
from generator.meme.novelty import NoveltyIndex
from generator.meme.step import FastStep
from generator.gates.meaning import Sources
from generator.meme.vocab import PAD, START, UNK, Vocab, detokenize

DIVERSITY = 0.5  # score (nats/token) a caption gives up per fully repeated wording; see beam.choose
TRIGRAM_WIDTH = 6  # beams per caption wanted when decoding under the training captions' trigrams
REPEAT_PENALTY = 1.0  # log-prob a word loses per earlier use in the same caption; see beam.DecodeRules
# log-prob a word loses when only its trigram, not its 4-gram, occurs in a training caption (a seam
# where two training captions overlap by two words): on the demo templates the fluency gate's broken
# share of the beam top-5 falls from about 0.21 to 0.14 (bench/content_quality.py); see ngrams.py
SEAM_PENALTY = 1.0


@dataclass(frozen=True)
class Caption:
    text: str
    score: float  # length-normalised log-prob (per token, counting <end>)
    logprob: float
    tokens: tuple[str, ...]
    rank: int  # 0-based position among the captions returned for one image
    seed: int | None = None  # the image's sampling seed (None: deterministic search)


def image_seeds(seed: int | Sequence[int] | None, n: int) -> list[int]:
    """One sampling seed per image: given as a list, or derived from one seed (None = fresh entropy)."""
    if isinstance(seed, Sequence):
        if len(seed) != n:
            raise GeneratorError(f"need one seed per image: {len(seed)} seeds for {n} images")
        return [int(s) for s in seed]
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n, dtype=np.uint32)]


class Captioner:
    """Captions images with a trained bundle. Encoding is lazy: decoding from features needs no encoder."""

    def __init__(self, bundle: Bundle, encoder: Encoder | None = None, *, trigrams: bool = True,
                 fluent: bool = False) -> None:
        if encoder is not None and encoder.name != bundle.config.get("encoder"):
            raise GeneratorError(f"{bundle.path}: bundle was trained with encoder "
                                 f"{bundle.config.get('encoder')!r}, got {encoder.name!r}")
        self._bundle = bundle
        self._encoder = encoder
        self._cache: FeatureCache | None = None
        self._step = FastStep(bundle.weights)
        # built once per load: every finished beam hypothesis is checked against it
        self.novelty: NoveltyIndex | None = NoveltyIndex(bundle.caption_keys) if bundle.caption_keys else None
        vocab = bundle.vocab
        index = vocab.index()
        # the training captions' trigrams steer decoding (bundles without captions.txt: none)
        self.trigrams: CorpusTrigrams | None = (CorpusTrigrams.build(bundle.caption_keys, vocab,
                                                                     seam_penalty=SEAM_PENALTY)
                                                if bundle.caption_keys and trigrams else None)
        self.rules = DecodeRules(start_id=vocab.start_id, end_id=vocab.end_id,
                                 # spelling pieces encode rare words for training; generated text
                                 # uses whole words only (spelled variants are mostly misspellings)
                                 banned=(index[PAD], index[START], index[UNK], *range(vocab.first_piece, vocab.size)),
                                 # under the trigram cost no caption need be longer than the longest
                                 # training caption (+2); without it beams that cannot end yet run on
                                 max_len=min(vocab.max_tokens, max(len(k.split()) for k in bundle.caption_keys) + 2)
                                 if self.trigrams is not None else vocab.max_tokens,
                                 free_from=vocab.first_piece, repeat_penalty=REPEAT_PENALTY,
                                 ngrams=self.trigrams)
        self._adaptation: Adaptation | None = None
        # hand out only captions the fluency gate (generator/gates: rules and models of ordinary
        # English, not this decoder) passes: the beam finishes many more captions than k
        self.fluent = fluent
        self._sources: Sources | None = None  # the meaning gate's pieces, built on first use

    @property
    def bundle_dir(self) -> Path:
        return self._bundle.path

    @property
    def version(self) -> str:
        return self._bundle.version

    @property
    def encoder_name(self) -> str:
        return str(self._bundle.config["encoder"])

    @property
    def config(self) -> dict:
        """The bundle's config.json (encoder, training settings, held-out metrics)."""
        return dict(self._bundle.config)

    @property
    def vocab(self) -> Vocab:
        return self._bundle.vocab

    @property
    def feature_dim(self) -> int:
        return self._bundle.weights.feature_dim

    def _features_cache(self) -> FeatureCache:
        if self._cache is None:
            encoder = self._encoder or get_encoder(self.encoder_name)
            self._cache = FeatureCache(encoder)
        return self._cache

    def encode(self, image: ImageLike) -> np.ndarray:
        """[F] features of one image (cached by image content hash)."""
        return self.encode_batch([image])[0]

    def encode_batch(self, images: Sequence[ImageLike]) -> np.ndarray:
        return self._features_cache().encode(list(images))

    def _as_features(self, image_or_features: ImageLike | np.ndarray) -> np.ndarray:
        if isinstance(image_or_features, np.ndarray):
            feats = image_or_features.astype(np.float32).reshape(-1, self.feature_dim)
        else:
            feats = self.encode_batch([image_or_features])
        return feats

    def _is_training_caption(self, text: Hashable) -> bool:
        """A training caption or a near copy of one (see generator.meme.novelty); bundles without
        captions.txt only know their training captions' hashes and refuse verbatim copies."""
        if self.novelty is not None:
            return self.novelty.is_copy(text)
        hashes = self._bundle.caption_hashes
        return bool(hashes) and int(caption_hashes([str(text)])[0]) in hashes

    def _step_fn(self, features: np.ndarray):
        context = self._step.image_context(features)

        def step(rows: np.ndarray, tokens: np.ndarray, h: np.ndarray):
            return self._step(context[rows], tokens, h)

        return step

    def _captions(self, hyps: Sequence[Hypothesis], seed: int | None = None, *, biased: bool = True) -> list[Caption]:
        """Captions in the decoder's order (an adaptation's biases steer it), each scored by the model
        as trained: what the adaptation's bias added along it (DecodeRules.applied_bias) is taken back
        out of its log-prob and score, so a score means the same before and after an adaptation (the ranker
        learns from it as a feature) and no word is credited twice. (``biased`` False: the hypotheses
        carry the model's own log-prob already, as beam.sample's do.)"""
        biased = biased and self.rules.word_bias is not None
        out = []
        for i, h in enumerate(hyps):
            tokens = self.vocab.decode(h.ids)
            logprob = h.logprob - self.rules.applied_bias(h.ids) if biased else h.logprob
            score = self.rules.score(logprob, len(h.ids)) if biased else h.score
            out.append(Caption(detokenize(tokens), score, logprob, tokens, i, seed))
        return out

    def _rules(self, max_len: int | None) -> DecodeRules:
        if max_len is None:
            return self.rules
        if max_len < 1:
            raise GeneratorError(f"max_len must be >= 1, got {max_len}")
        return replace(self.rules, max_len=max_len)

    @property
    def adaptation(self) -> Adaptation | None:
        return self._adaptation

    def adapt(self, adaptation: Adaptation | None) -> None:
        """Decode with ``adaptation``'s word biases from now on (None: the model as trained): those of
        generator.meme.adapt.captioner_bias (the posterior means of the ranker's word effects, where the
        adaptation keeps them; else its stored offsets)."""
        bias = (None if adaptation is None
                else bias_vector(captioner_bias(adaptation), self.vocab.index(), self.vocab.size))
        self._adaptation = adaptation
        self.rules = dataclasses.replace(self.rules, word_bias=bias)

    def beam_search_batch(self, features: np.ndarray, k: int = 5, max_len: int | None = None,
                          width: int | None = None, diversity: float = DIVERSITY, *, temperature: float = 0.0,
                          top_p: float = 1.0, groups: int = 1, group_penalty: float = 1.0,
                          seed: int | Sequence[int] | None = None, novel: bool = True,
                          avoid: Sequence[str] = ()) -> list[list[Caption]]:
        """k distinct captions per row of features [N, F], best first; all images in one step per word.

        The search keeps ``width`` beams (default 2k; 6k under the training captions' trigrams) and hands out k of its finished captions,
        preferring different wording by ``diversity`` (0 = plain top-k by score). ``temperature``
        > 0 samples the beams (nucleus ``top_p``) with one seed per image (``seed``: one int to
        derive them from, a list of per-image seeds, or None for fresh ones; each caption
        carries its image's seed); ``groups`` > 1 runs diverse beam groups. With ``novel`` (default)
        captions the bundle was trained on, and near copies of them, are never handed out.
        ``avoid``: captions the account already says. With ``fluent``, a caption that repeats one of
        them (generator.gates.repeats: fewer than 2 content words apart) is never handed out (the
        pipeline's duplicate gate would only filter it), so an image may get fewer than k; one that
        repeats a caption handed out for an earlier image of the batch comes last.
        """
        if k < 1 or (width is not None and width < k):
            raise GeneratorError(f"need k >= 1 and width >= k, got k={k}, width={width}")
        if temperature < 0 or not 0 < top_p <= 1 or groups < 1 or group_penalty < 0:
            raise GeneratorError(f"need temperature >= 0, 0 < top_p <= 1, groups >= 1, group_penalty >= 0 "
                                 f"(got {temperature}, {top_p}, {groups}, {group_penalty})")
        features = np.asarray(features, dtype=np.float32).reshape(-1, self.feature_dim)
        n = features.shape[0]
        h0 = np.zeros((n, self._bundle.weights.units), dtype=np.float32)
        seeds: list[int | None] = list(image_seeds(seed, n)) if temperature > 0 else [None] * n
        sampling = Sampling(temperature, top_p) if temperature > 0 else None
        rngs = [np.random.default_rng(s) for s in seeds] if sampling else None
        rules = self._rules(max_len)
        # with the trigram cost most beams run into training captions, which are never handed out:
        # a wider search still finishes k new ones per image
        width = width or (TRIGRAM_WIDTH if rules.ngrams is not None else 2) * k
        search = partial(beam_search, width=width, key=self.vocab.text, groups=groups, group_penalty=group_penalty,
                         sampling=sampling, exclude=self._is_training_caption if novel else None)
        pools = search(self._step_fn(features), h0, rules, rngs=rngs)
        said = _Said(avoid) if self.fluent else None
        picked: list[list[Hypothesis]] = []
        for i, pool in enumerate(pools):  # in turn: an image's captions steer clear of earlier images'
            picked.append(self._choose(pool, k, diversity, said, image=i))
            self._hand_out(said, i, picked[i])
        short = [i for i, p in enumerate(picked) if len(p) < k or self._any_flagged(p, said, i)]
        if short and rules.ngrams is not None and rules.ngrams.seam_penalty:
            # an image the seam cost leaves short of k good captions (its beams ran into training
            # captions) is decoded again without it; fluent captions first, its own before the new
            loose = replace(rules, ngrams=replace(rules.ngrams, seam_penalty=0.0))
            # twice as wide: a bundle with many training captions sees more of its beams run into them
            more = search(self._step_fn(features[short]), h0[short], loose, width=2 * width,
                          rngs=[np.random.default_rng(seeds[i]) for i in short] if sampling else None)
            strict = rules.ngrams
            for i, pool in zip(short, more):
                have = {h.ids for h in picked[i]}
                # scored as the strict search scores them (the seam cost put back, and the adaptation's
                # offsets as it adds them: none paid for a seam), so a caption's score does not depend on
                # which of the two searches found it
                pool = [Hypothesis(h.ids, lp, rules.score(lp, len(h.ids))) for h in pool if h.ids not in have
                        for lp in (h.logprob - strict.seam_penalty * strict.seams(h.ids)
                                   - loose.applied_bias(h.ids) + rules.applied_bias(h.ids),)]
                extra = self._choose(pool, k, diversity, said, image=i, own=picked[i])
                picked[i] = self._fluent_first([*picked[i], *extra], said, i)[:k]
                self._hand_out(said, i, picked[i])
        return [self._captions(p, s) for p, s in zip(picked, seeds)]

    def _hand_out(self, said: _Said | None, image: int, hyps: Sequence[Hypothesis]) -> None:
        if said is not None:
            said.hand_out(image, [self.vocab.text(h.ids) for h in hyps])

    def _choose(self, pool: Sequence[Hypothesis], k: int, diversity: float, said: _Said | None = None,
                image: int = 0, own: Sequence[Hypothesis] = ()) -> list[Hypothesis]:
        """k of the pool: with ``fluent``, those the fluency gate passes and ``said`` does not repeat
        first (checked best first until 2k pass, about 1 ms each; ``choose`` trades score for
        wording among them, and those that differ from all before them and from ``own`` (the
        image's captions already picked) by the siblings rule lead), then, only if too few pass, the
        best of the rest, repeats of another image's captions last (the pipeline's gates filter
        those with the reason). Repeats of what the account says are left out."""
        if not self.fluent:
            return choose(pool, k, diversity)
        good: list[Hypothesis] = []
        flagged: list[Hypothesis] = []
        repeats: list[Hypothesis] = []
        for h in pool:
            text = self.vocab.text(h.ids)
            if said is not None and said.said(text):  # the duplicate gate's: never a draft
                continue
            if said is not None and said.repeats(text, image):  # no fluency check spent on it
                repeats.append(h)
                continue
            (flagged if self._refused(text) else good).append(h)
            if len(good) >= 2 * k:
                break
        # siblings the pipeline may forward together say different things (generator/gates/siblings.py):
        # captions that differ from every one before them go first
        from generator.gates.siblings import MIN_CONTENT_WORDS, difference

        distinct: list[Hypothesis] = []
        close: list[Hypothesis] = []
        for h in choose(good, len(good), diversity):
            text = self.vocab.text(h.ids)
            ok = all(difference(text, self.vocab.text(d.ids)) >= MIN_CONTENT_WORDS for d in (*own, *distinct))
            (distinct if ok else close).append(h)
        picked = (distinct + close)[:k]
        if len(picked) < k:
            picked += choose(flagged, k - len(picked), diversity)
        return picked + choose(repeats, k - len(picked), diversity) if len(picked) < k else picked

    def _any_flagged(self, hyps: Sequence[Hypothesis], said: _Said | None = None, image: int = 0) -> bool:
        """Some caption the fluency or meaning gate refuses, or one that repeats what is said."""
        if not self.fluent:
            return False
        return any((said is not None and said.repeats(text, image)) or self._refused(text)
                   for text in (self.vocab.text(h.ids) for h in hyps))

    def meaning_sources(self) -> Sources | None:
        """The meaning gate's pieces: this bundle's training captions (None: it keeps none), built
        once. The pipeline's gate is given the same object, so a caption judged here to pick the
        captions handed out is not judged again there (the verdicts are kept on it)."""

        if self._sources is None and self._bundle.caption_keys:
            self._sources = Sources(self._bundle.caption_keys)
        return self._sources

    def _refused(self, text: str) -> bool:
        """The fluency gate, then the meaning and coherence gates with this bundle's training captions
        as the pieces a seam joins (generator/gates: rules and data of ordinary English, not this decoder).
        Fluency and meaning keep their verdict per text (fluency per process, meaning on the Sources)."""
        from generator.gates.coherence import check_coherence
        from generator.gates.fluency import check_fluency
        from generator.gates.meaning import check_meaning

        if check_fluency(text):
            return True
        sources = self.meaning_sources()
        return sources is not None and (check_meaning(text, sources) is not None
                                        or check_coherence(text, sources) is not None)

    def _fluent_first(self, hyps: list[Hypothesis], said: _Said | None = None, image: int = 0) -> list[Hypothesis]:
        """Fluent captions first, then the fluency gate's refusals, then repeats of what is said (stable)."""
        if not self.fluent:
            return hyps

        def rank(h: Hypothesis) -> int:
            text = self.vocab.text(h.ids)
            return 2 if said is not None and said.repeats(text, image) else int(self._refused(text))

        return sorted(hyps, key=rank)

    def beam_search(self, image_or_features: ImageLike | np.ndarray, k: int = 5, max_len: int | None = None,
                    width: int | None = None, diversity: float = DIVERSITY, **options) -> list[Caption]:
        """k distinct captions for one image (or its [F] features), best first (options: see the batch form)."""
        return self.beam_search_batch(self._as_features(image_or_features)[:1], k=k, max_len=max_len,
                                      width=width, diversity=diversity, **options)[0]

    def sample(self, image_or_features: ImageLike | np.ndarray, n: int, temperature: float = 1.0,
               top_p: float = 0.9, seed: int | None = None, max_len: int | None = None) -> list[Caption]:
        """n sampled captions (temperature / nucleus), ranked by score; may repeat for peaked models."""
        if n < 1 or temperature <= 0 or not 0 < top_p <= 1:
            raise GeneratorError(f"need n >= 1, temperature > 0, 0 < top_p <= 1 (got {n}, {temperature}, {top_p})")
        features = self._as_features(image_or_features)[:1]
        h0 = np.zeros((n, self._bundle.weights.units), dtype=np.float32)
        hyps = sample(self._step_fn(features), h0, np.zeros(n, dtype=int), self._rules(max_len),
                      np.random.default_rng(seed), temperature=temperature, top_p=top_p)
        return self._captions(rank(hyps), biased=False)


class _Said:
    """What an image's captions should not repeat (generator.gates.repeats, the pipeline's duplicate
    gate): the account's captions (``avoid``) and those handed out for the batch's other images."""

    def __init__(self, avoid: Sequence[str]) -> None:
        self.account = _index(avoid)
        self.images: dict[int, RepeatIndex] = {}

    def said(self, text: str) -> bool:
        """The account already says it."""
        return self.account.find(text) is not None

    def repeats(self, text: str, image: int) -> bool:
        """It repeats a caption handed out for an earlier image of the batch (images are served in
        turn: an image's captions never depend on those of the images after it)."""
        return any(index.find(text) is not None for i, index in self.images.items() if i < image)

    def hand_out(self, image: int, texts: Iterable[str]) -> None:
        self.images[image] = _index(texts)


def _index(texts: Iterable[str]) -> RepeatIndex:
    return RepeatIndex(Earlier(text, "said") for text in texts)


def load_captioner(path: str | Path | None = None, encoder: Encoder | None = None, *,
                   trigrams: bool = True, fluent: bool = False) -> Captioner:
    """Load a bundle directory (None = the shipped demo bundle). ``trigrams`` False decodes without
    the training captions' trigram cost (generator/meme/ngrams.py); ``fluent`` True hands out the
    captions the fluency gate passes first (what `generate` does: bot/service/pipeline.py)."""
    return Captioner(load_bundle(Path(path) if path is not None else None), encoder, trigrams=trigrams, fluent=fluent)
