"""Generation, side-effect half: models -> candidates -> render -> safety -> dedupe -> rank -> store.

Runs in the `memeloop generate` child process (the daemon never holds a model). The generators in
generator/ stay pure (values in, values out); files and rows are written here.

Beams: every one of an image's k beams is stored (they are what the ranker learns from). Per image
the ranker's ``choose_beams`` picks ``forward_per_image`` of the beams that passed safety and the
duplicate guard; the run's count is filled from those picks best first across all images (every
image's best pick before any image's second) and they go to ``pending`` (review). The others are
stored as ``filtered`` with the reason "not forwarded (...)", so a reviewer can still find and approve them
(`memeloop queue list --status filtered`) and they never crowd the review queue. Post candidates
(GAN image + n captions) are grouped the same way: one caption per image goes forward.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.core.deps import Deps
from bot.core.kinds import Kind, content_kind
from bot.core.media import Media, MediaStore
from feedback.states import CandidateStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.service.pipeline_gates import Repeats

    from generator.types import Template

log = logging.getLogger(__name__)

# a draft's verdict is the status its candidate row starts in
FILTERED, DUPLICATE, PENDING = CandidateStatus.FILTERED, CandidateStatus.DUPLICATE, CandidateStatus.PENDING
Verdict = tuple[CandidateStatus, str | None]  # (status, reason) of one draft


@dataclass(frozen=True)
class GenerateRequest:
    account: str
    generator: str  # a content kind (bot.core.kinds); scheduled runs: meme | post
    count: int
    seed: int
    tone: str | None = None
    audience: str | None = None
    generation_id: int | None = None  # created by the daemon before it started this child
    # what the account already says (set by run_generation): a generator may steer away from these,
    # the duplicate gate would filter them (the meme captioner hands them out last)
    avoid: tuple[str, ...] = ()


@dataclass(frozen=True)
class Draft:
    """One candidate before it is stored: text, the image it will be posted with, its lineage."""

    text: str
    group_key: str
    image: Any  # PIL image as it will be posted (meme: rendered; post: the GAN image)
    beam_rank: int | None = None
    beam_score: float | None = None
    template: Any = None  # generator.types.Template
    source_image_path: str | None = None
    gan_seed: int | None = None
    tone: str | None = None
    audience: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    read_as: str | None = None  # a photo's generators: what the classifier read the photo as
    read_confidence: float | None = None  # and how sure it was (0..1)


@dataclass(frozen=True)
class Models:
    """What a generator run needs, loaded once per child process."""

    generator: str
    version: str
    make: Callable[[GenerateRequest, Config, str], list[Draft]]  # (request, config, group prefix)
    info: dict[str, Any] = field(default_factory=dict)
    # rows that belong with a stored candidate (a story's parts), in the same transaction
    on_stored: Callable[[Any, Any, Draft, Any], None] | None = None  # (session, candidate row, draft, now)
    # the training captions the generator joins pieces of (generator.gates.meaning.Sources): the
    # meaning gate judges the pairs its seams form; None: no seams to judge
    sources: Any = None
    more: bool = True  # another seed makes other drafts (False: `make` places the user's one text)


@dataclass(frozen=True)
class GenerateResult:
    generation_id: int
    model_version: str
    stored: int
    pending: int
    filtered: int
    duplicates: int
    timings: dict[str, float]


# --- models ---------------------------------------------------------------------------------------

def load_models(config: Config, generator: str) -> Models:
    from bot.core.threads import pin_threads

    pin_threads(config.generator.threads)
    loader = _LOADERS.get(generator)
    if loader is None:
        raise ValueError(f"unknown generator {generator!r} (use {' or '.join(_LOADERS)})")
    return loader(config)


def _meme_models(config: Config) -> Models:
    from bot.service.templates import all_templates
    from generator.meme import load_captioner

    cfg = config.generator.meme
    captioner = load_captioner(cfg.bundle, _encoder(config), fluent=True)  # gate-passing beams first
    templates = all_templates(config)
    # the meaning gate judges the drafts against the captioner's own Sources (its bundle's training
    # captions): the verdicts the captioner reached choosing its captions are kept on it
    return Models(Kind.MEME, str(captioner.version), lambda req, conf, prefix: meme_drafts(
        captioner, templates, req, conf, prefix), {"bundle": str(cfg.bundle or "demo")},
        sources=captioner.meaning_sources())


def _post_models(config: Config) -> Models:
    from bot.core.modelstore import writer_path
    from generator.pggan import load_gan
    from generator.textgen import load_writer

    cfg = config.generator.post
    gan, writer = load_gan(cfg.gan_bundle), load_writer(writer_path(config))
    version = f"{str(gan.version)[:31]}+{str(writer.version)[:32]}"
    return Models(Kind.POST, version, lambda req, conf, prefix: post_drafts(gan, writer, req, conf, prefix),
                  {"gan": str(cfg.gan_bundle or "demo"),
                   "writer": cfg.writer_model or str(cfg.writer_bundle or "demo")})


# the kinds a scheduled generate job makes (bot.core.kinds.SCHEDULED) and how their models load
_LOADERS: dict[str, Callable[[Config], Models]] = {Kind.MEME: _meme_models, Kind.POST: _post_models}


def _encoder(config: Config) -> Any:
    """The meme bundle's image encoder built on an installed Keras model (encoder_model), or None (the
    captioner builds its own on first use)."""
    from bot.core.modelstore import encoder_weights

    weights = encoder_weights(config)
    if weights is None:
        return None
    from generator.meme.encoders import get_encoder

    return get_encoder("inception_v3", weights=weights)


def follow_adaptation(model: Any, config: Config) -> int:
    """bot.service.adapt.follow_adaptation (here for the generators' loaders)."""
    from bot.service.adapt import follow_adaptation as follow

    return follow(model, config)


def images_needed(count: int, per_image: int, minimum: int = 1, *, spare: bool = False) -> int:
    """Images whose ``per_image`` forwarded drafts queue ``count``; with ``spare``, one more when they
    would have no room to spare: the demo captioner finds fewer than ``per_image`` good captions for
    about one image in five, and a spare image in the batch costs less than another round."""
    n = max(minimum, math.ceil(count / max(1, per_image)))
    return n + 1 if spare and n * per_image - count < per_image else n


def meme_drafts(captioner: Any, templates: Sequence[Template], req: GenerateRequest, config: Config, prefix: str) -> list[Draft]:
    """k beams for each of a seeded choice of template images, rendered onto their template."""
    import numpy as np

    from generator.annotate import render_meme

    cfg = config.generator.meme
    if not templates:
        raise ValueError("no meme templates found (generator.meme.templates)")
    rng = np.random.default_rng(req.seed)
    n = min(len(templates), images_needed(req.count, cfg.forward_per_image, cfg.images_per_run, spare=True))
    chosen = [templates[i] for i in rng.choice(len(templates), size=n, replace=False)]
    features = template_features(captioner, [t.image_path for t in chosen], config,
                                 also=[t.image_path for t in templates])
    decode = cfg.decode_options()
    adaptation = follow_adaptation(captioner, config)
    options = {**decode, "seed": req.seed} if decode else {}
    beams = captioner.beam_search_batch(features, k=cfg.beam_width, **options, **({"avoid": req.avoid} if req.avoid else {}))
    drafts = []
    for image_index, (template, captions) in enumerate(zip(chosen, beams)):
        base = template_image(template.image_path)
        for cap in captions:
            drafts.append(Draft(
                text=cap.text, group_key=f"{prefix}:{template.slug}", beam_rank=cap.rank, beam_score=float(cap.score),
                image=render_meme(base, cap.text, template.boxes), template=template,
                source_image_path=str(template.image_path),
                params={"k": cfg.beam_width, "template": template.slug, "beam_rank": cap.rank, "seed": req.seed,
                        "image_index": image_index, "logprob": float(cap.logprob), "adaptation": adaptation,
                        "decode": {**decode, "seed": getattr(cap, "seed", None)}}))
    return drafts


def template_image(path: str | Path) -> Any:
    """A template's picture as RGB, decoded once per process while its file stays the same (a warm
    worker renders the same few templates run after run; render_meme never changes its input)."""
    stat = Path(path).stat()
    return _decoded(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _decoded(path: str, _mtime_ns: int, _size: int) -> Any:
    from generator.imageio import open_image

    return open_image(path, animated="first_frame").convert("RGB")


def template_features(captioner: Any, paths: Sequence[Path], config: Config, *, also: Sequence[Path] = ()) -> Any:
    """Features from the on-disk cache beside the media folder; the encoder loads only for new images,
    and then encodes every template in ``also`` it has not seen, once."""
    from generator.meme.feature_cache import FeatureFile

    if not getattr(captioner, "encoder_name", None):  # no named encoder, nothing to key a cache by
        return captioner.encode_batch(list(paths))
    cache = FeatureFile(config.storage.media_dir.parent / "template-features.npz", captioner.encoder_name)
    features, encoded = cache.features(paths, captioner.encode_batch, also=also)
    log.info("meme.features images=%d encoded=%d", len(paths), encoded)
    return features


def post_drafts(gan: Any, writer: Any, req: GenerateRequest, config: Config, prefix: str) -> list[Draft]:
    """One GAN image per queued post, each with captions_per_image captions to choose from."""
    import numpy as np

    per_image = config.generator.post.captions_per_image
    rng = np.random.default_rng(req.seed)
    tones, audiences = list(writer.tones), list(writer.audiences)
    adaptation = follow_adaptation(writer, config)
    drafts = []
    for index, (image, gan_seed) in enumerate(gan.generate(req.count, seed=req.seed)):
        tone = req.tone or (str(rng.choice(tones)) if tones else None)
        audience = req.audience or ("general" if "general" in audiences else None)  # never drawn at random
        writer_seed = int(rng.integers(0, 2**62))
        topic = gan.domain
        texts = writer.write(per_image, tone=tone, audience=audience, seed=writer_seed, topic=topic)
        for rank, text in enumerate(texts):
            drafts.append(Draft(
                text=text, group_key=f"{prefix}:gan{index}", image=image, beam_rank=rank, gan_seed=int(gan_seed),
                tone=tone, audience=audience,
                params={"gan_seed": int(gan_seed), "writer_seed": writer_seed, "caption_index": rank,
                        "captions_per_image": per_image, "topic": topic, "seed": req.seed,
                        "adaptation": adaptation}))
    return drafts


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- the run --------------------------------------------------------------------------------------

MORE_ROUNDS = 3  # extra rounds (new seeds) when the gates left the queue short of `count`


def run_generation(deps: Deps, req: GenerateRequest, *, models: Models | None = None) -> GenerateResult:
    """One generator run, start to finish. Drafts the gates refuse are stored `filtered`; while the
    run has queued fewer than ``req.count`` and more can be made, another round with a new seed
    runs (at most MORE_ROUNDS), asking for what is still missing (``round_count``), unless every
    draft of the last round that reached the platform's preflight failed it (then no seed will do).
    Each round is told what the account already says (``GenerateRequest.avoid``). A failure marks the generations row failed (with the error) before it
    propagates, so the daemon and `memeloop status` can see it."""
    from feedback.repository import generations as gen_repo

    req = with_defaults(deps.config, req)
    generation_id = req.generation_id or open_generation(
        deps, req.account, req.generator, {"count": req.count, "tone": req.tone, "audience": req.audience},
        seed=req.seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    counts = {PENDING: 0, FILTERED: 0, DUPLICATE: 0}
    stored = rounds = 0
    try:
        with _timed(timings, "load_s"):
            models = models or load_models(deps.config, req.generator)
        asked = 0
        while True:
            round_req = req if rounds == 0 else replace(
                req, seed=round_seed(req.seed, rounds), count=round_count(req.count, counts[PENDING], asked))
            round_req = replace(round_req, avoid=_said(deps, req))
            prefix = str(generation_id) if rounds == 0 else f"{generation_id}.{rounds}"
            with _timed(timings, "generate_s"):
                drafts = models.make(round_req, deps.config, prefix)
            with _timed(timings, "render_s"):
                media = _save_all(drafts, deps.media)
            with _timed(timings, "store_s"), deps.tx() as session:
                got = _store(session, deps, round_req, generation_id, models, drafts, media,
                             room=req.count - counts[PENDING])
            asked += round_req.count
            stored += len(drafts)
            for key in counts:
                counts[key] += got[key]
            if counts[PENDING] >= req.count or not models.more or rounds >= MORE_ROUNDS or got["unpublishable"]:
                break
            rounds += 1
        with deps.tx() as session:
            timings["total_s"] = round(time.perf_counter() - started, 3)
            params = {"count": req.count, "tone": req.tone, "audience": req.audience, "seed": req.seed,
                      "rounds": rounds + 1, **content_kind(req.generator).run_settings(deps.config), **models.info}
            gen_repo.finish_generation(session, generation_id, model_version=models.version, params=params,
                                       timings=timings, now=deps.clock())
    except Exception as exc:  # record, then let the CLI turn it into a message and exit 1
        with deps.tx() as session:
            gen_repo.fail_generation(session, generation_id, error=f"{type(exc).__name__}: {exc}"[:2000],
                                     now=deps.clock())
        log.error("generate.failed generation=%s error=%s", generation_id, type(exc).__name__)
        raise
    assert models is not None
    result = GenerateResult(generation_id, models.version, stored, counts[PENDING], counts[FILTERED],
                            counts[DUPLICATE], timings)
    log.info("generate.ok generation=%s stored=%s pending=%s filtered=%s duplicates=%s rounds=%s total_s=%s",
             generation_id, result.stored, result.pending, result.filtered, result.duplicates, rounds + 1,
             timings["total_s"])
    return result


def round_count(count: int, queued: int, asked: int) -> int:
    """What an extra round asks for: the part of ``count`` still missing, scaled by the share of what
    earlier rounds asked that they queued (an account whose queue already says much queues less of
    each round), never more than ``count``: a round makes only the drafts the run still needs."""
    missing = count - queued
    if queued <= 0 or missing <= 0:
        return count
    return min(count, max(missing, math.ceil(missing * asked / queued)))


def _said(deps: Deps, req: GenerateRequest) -> tuple[str, ...]:
    """The account's captions the duplicate gate compares a draft with (pending, approved, scheduled or
    published within the dedupe window), this run's queued ones included; none for words a person
    typed (they may repeat)."""
    from feedback.repository.dedupe import account_said

    if content_kind(req.generator).words_by_person:
        return ()
    since = deps.clock() - deps.config.safety.dedupe_window
    with deps.tx() as session:
        return tuple(text for _, _, text in account_said(session, deps.account_ids[req.account], since=since))


def round_seed(seed: int, round_no: int) -> int:
    """The seed of an extra round: fixed by the run's seed, different from every other round's."""
    digest = hashlib.sha256(f"{seed}:{round_no}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 2


def with_defaults(config: Config, req: GenerateRequest) -> GenerateRequest:
    """Tone and audience from the account's brand profile when the request names none; the audience
    is never drawn at random ("general" when nobody said), and "promotional" only for an account
    that declares the offers it runs (bot.errors.UsageError otherwise)."""
    from bot.errors import UsageError
    from generator.brand import audience_for

    brand = config.account(req.account).brand.to_brand()
    try:
        audience = audience_for(brand, req.audience)
    except ValueError as exc:
        raise UsageError(f"account {req.account}: {exc}") from None
    return replace(req, audience=audience, tone=req.tone or brand.tone)


class _timed:
    def __init__(self, timings: dict[str, float], key: str) -> None:
        self.timings, self.key = timings, key

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.key] = round(self.timings.get(self.key, 0.0) + time.perf_counter() - self.t0, 3)


def open_generation(deps: Deps, account: str, generator: str, params: dict[str, Any], *, seed: int) -> int:
    """The generations row of a run about to start (model version filled in when it finishes); the
    daemon opens it before it starts the child, a run in this process opens its own."""
    from feedback.repository import candidates as cand_repo

    with deps.tx() as session:
        return cand_repo.start_generation(
            session, generator=generator, account_id=deps.account_ids[account], model_version="",
            params=params, seed=seed, now=deps.clock()).id


def _save_all(drafts: Sequence[Draft], store: MediaStore) -> list[Media]:
    """Each draft's image in the media store. A GAN image backs several captions: written once. Memes
    are compared by caption, never by picture, so their perceptual hash is not computed."""
    saved: dict[int, Media] = {}
    out = []
    for d in drafts:
        if id(d.image) not in saved:
            saved[id(d.image)] = store.put_image(d.image, phash=d.template is None)
        out.append(saved[id(d.image)])
    return out


def _store(session: Session, deps: Deps, req: GenerateRequest, generation_id: int, models: Models,
           drafts: Sequence[Draft], media: Sequence[Media], *, room: int) -> dict[str, int]:
    """Gates, safety and duplicate verdicts, ranking, forwarding, rows: all in the caller's transaction.
    ``room``: how many more this run may queue (its count less what earlier rounds queued). The counts include
    "unpublishable": 1 when every draft that reached the platform's preflight failed it."""
    import numpy as np

    from bot.service.pipeline_gates import Gates, Repeats
    from feedback.learning import prediction, recent_for

    cfg, now = deps.config, deps.clock()
    gates = Gates(cfg, req.account, req.generator, sources=models.sources)
    drafts, refusals = gates.apply(drafts, media)
    template_ids = _template_ids(session, drafts, now)
    ranker = deps.ranker(session)
    rng = np.random.default_rng(cfg.ranking.seed if cfg.ranking.seed is not None else req.seed)
    recent = recent_for(session, req.account, now=now)
    items = [_features(deps, req, d, recent) for d in drafts]
    scores = ranker.score(items, rng)
    predictions = [prediction(score, ranker, now=now, hour=item.hour, account=item.account)
                   for score, item in zip(scores, items)]
    counts: dict[str, int] = {PENDING: 0, FILTERED: 0, DUPLICATE: 0}
    # a person may put their own words on another image on purpose: no duplicate gate for them
    repeats = None if gates.kind.words_by_person else Repeats(
        session, deps.account_ids[req.account], now - cfg.safety.dedupe_window)
    preflight = {"run": 0, "refused": 0}
    per_image = models.info.get("forward_per_image") or content_kind(req.generator).forward_per_image(cfg)
    rounds: list[tuple[list[int], list[Verdict], list[int]]] = []  # (group, its verdicts, its picks best first)
    for group in _groups_best_first(drafts, scores):
        verdicts = _verdicts(session, cfg, [(drafts[i], media[i], refusals[i]) for i in group], now,
                             template_ids, unsafe=gates.unsafe)
        if repeats is not None:
            _repeats(group, verdicts, drafts, repeats)
        _preflight(group, verdicts, drafts, gates, preflight)
        rounds.append((group, verdicts, _forward(group, verdicts, scores, drafts, per_image, kind=req.generator)))
    _fill(rounds, scores, drafts, room, repeats, kind=req.generator, asked=req.count)
    for group, verdicts, _ in rounds:
        for i, (status, reason) in zip(group, verdicts):
            _add(session, deps, req, generation_id, models, drafts[i], media[i], predictions[i],
                 template_ids, status, reason, now)
            counts[status] += 1
    counts["unpublishable"] = int(preflight["run"] > 0 and preflight["refused"] == preflight["run"])
    return counts


def _groups_best_first(drafts: Sequence[Draft], scores: Sequence) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i, d in enumerate(drafts):
        groups.setdefault(d.group_key, []).append(i)
    return sorted(groups.values(), key=lambda idx: -max(float(scores[i].sample) for i in idx))


def _verdicts(session: Session, cfg: Config, items: Sequence[tuple[Draft, Media, Any]], now: datetime,
              template_ids: dict[str, int] | None = None,
              unsafe: Callable[[str], str | None] | None = None) -> list[Verdict]:
    """[status, reason] per item: refused by a gate, unsafe (``unsafe``: Gates.unsafe, the shipped
    list and safety.extra_words, then the brand's banned words and topics; without it the shipped
    list and safety.extra_words) or about a sensitive topic -> filtered, near-duplicate of an earlier
    candidate -> duplicate."""
    from feedback.dedupe import DraftPrint, find_duplicates
    from generator.safety import find_unsafe, topic_reason

    out: list[Verdict] = []
    checked: list[tuple[int, DraftPrint]] = []
    for draft, med, refusal in items:
        if refusal is not None:
            out.append((FILTERED, refusal.reason))
            continue
        if unsafe is not None:
            why = unsafe(draft.text)
        else:
            hits = find_unsafe(draft.text, list(cfg.safety.extra_words))
            why = f"unsafe: {', '.join(map(str, hits))}" if hits else None
        if why:
            out.append((FILTERED, why))
            continue
        topic = topic_reason(draft.text)
        if topic:
            out.append((FILTERED, topic))
            continue
        # A meme's picture is its template, reused on purpose with new captions: its caption on that
        # template decides whether a meme repeats (the same text on another template is a new meme).
        # Sibling beams share their image by design, too.
        # The same holds for a user's photo captioned again in another tone, or a story told of it.
        phash = None if draft.template is not None or draft.params.get("by_text_only") else med.phash
        template_id = (template_ids or {}).get(draft.template.slug) if draft.template is not None else None
        checked.append((len(out), DraftPrint(draft.text, phash or None, draft.group_key, template_id)))
        out.append((PENDING, None))
    dups = find_duplicates(session, [d for _, d in checked], now=now, window=cfg.safety.dedupe_window,
                           phash_distance=cfg.safety.phash_distance, text_similarity=cfg.safety.text_similarity)
    for (i, _), dup in zip(checked, dups):
        if dup:
            out[i] = (DUPLICATE, dup)
    return out


def _repeats(group: Sequence[int], verdicts: list[Verdict], drafts: Sequence[Draft], repeats: Repeats) -> None:
    """Clean drafts that say what the account already says (or this run queued) are filtered
    (bot.service.pipeline_gates.Repeats), before the ranker picks among the rest."""
    for j, (status, _) in enumerate(verdicts):
        if status == PENDING:
            why = repeats.reason(drafts[group[j]].text)
            if why is not None:
                verdicts[j] = (FILTERED, why)


def _preflight(group: Sequence[int], verdicts: list[Verdict], drafts: Sequence[Draft], gates: Any,
               tally: dict[str, int]) -> None:
    """The platform's preflight (bot.service.pipeline_gates.Gates.publishable) on the drafts every
    other gate and check let through: it encodes the image, the dearest check a draft gets."""
    for j, (status, _) in enumerate(verdicts):
        if status == PENDING:
            refusal = gates.publishable(drafts[group[j]])
            tally["run"] += 1
            if refusal is not None:
                tally["refused"] += 1
                verdicts[j] = (FILTERED, refusal.reason)


def _forward(group: Sequence[int], verdicts: list[Verdict], scores: Sequence, drafts: Sequence[Draft],
             per_image: int, *, kind: str = "") -> list[int]:
    """Of one image's clean beams the ranker picks up to ``per_image`` that may go to review, each saying
    something its picked siblings do not (generator.gates.siblings); returned best first (indices
    into ``group``), still pending: the run's count is filled across images afterwards (``_fill``).
    The rest are filtered, with a reason in the words of their ``kind`` (a meme's beams, a photo's captions)."""
    from feedback.ranking import choose_beams
    from generator.gates.siblings import MIN_CONTENT_WORDS, too_close

    clean = [j for j, (status, _) in enumerate(verdicts) if status == PENDING]
    if not clean:
        return []
    picked = choose_beams([scores[group[j]] for j in clean], len(clean))  # the ranker's order, best first
    order = [clean[c] for c in picked] + [j for j in clean if j not in {clean[c] for c in picked}]
    chosen: list[int] = []
    close: dict[int, str] = {}
    for j in order:
        if len(chosen) >= per_image:
            break
        near = too_close(drafts[group[j]].text, [drafts[group[k]].text for k in chosen])
        if near is None:
            chosen.append(j)
        else:
            close[j] = near
    for j in clean:
        if j in chosen:
            continue
        if j in close:
            like = " ".join(close[j].split())[:60]
            why = f"siblings: differs from a forwarded sibling ({like!r}) by fewer than {MIN_CONTENT_WORDS} content words"
            verdicts[j] = (FILTERED, why)
            continue
        verdicts[j] = (FILTERED, _not_forwarded(group, j, drafts, kind, "the ranker preferred other {noun}s of this {of}"))
    return chosen


def _fill(rounds: Sequence[tuple[list[int], list[Verdict], list[int]]], scores: Sequence, drafts: Sequence[Draft],
          room: int, repeats: Repeats | None, *, kind: str = "", asked: int = 0) -> None:
    """The run's count (``room`` still free) filled best first across all its images, not first come:
    every image's best pick before any image's second (variety across templates and photos), and within
    each tier by the ranker's score (its Thompson sample, then its mean), then the generator's own
    score. A pick that repeats one this run queued is filtered as a repeat; the picks left over stay
    findable, saying the run's count went to better-scored drafts."""
    tiers = [(tier, g, j) for g, (_, _, chosen) in enumerate(rounds) for tier, j in enumerate(chosen)]

    def key(item: tuple[int, int, int]) -> tuple[int, float, float, float]:
        tier, g, j = item
        i = rounds[g][0][j]
        beam = drafts[i].beam_score
        return (tier, -float(scores[i].sample), -float(scores[i].mean),
                -(beam if beam is not None and math.isfinite(beam) else -math.inf))

    left = max(0, room)
    for tier, g, j in sorted(tiers, key=key):
        group, verdicts, _ = rounds[g]
        text = drafts[group[j]].text
        why = repeats.reason(text) if repeats is not None else None
        if why is not None:  # says what a better draft this run queued says
            verdicts[j] = (FILTERED, why)
        elif left > 0:
            left -= 1
            if repeats is not None:
                repeats.queued(text)
        else:
            verdicts[j] = (FILTERED, _not_forwarded(
                group, j, drafts, kind, f"this run already queued the {asked} asked for, from better-scored drafts"))


def _not_forwarded(group: Sequence[int], j: int, drafts: Sequence[Draft], kind: str, why: str) -> str:
    noun, of = _DRAFT_WORDS.get(kind, ("caption", "image"))
    rank = drafts[group[j]].beam_rank
    return (f"not forwarded: {noun} {(j if rank is None else rank) + 1} of {len(group)} for this {of}; "
            + why.format(noun=noun, of=of))


# how a kind's drafts of one picture are named in a reason: (draft, picture)
_DRAFT_WORDS = {"meme": ("beam", "template"), "photo": ("caption", "photo"), "story": ("version", "story")}


def _features(deps: Deps, req: GenerateRequest, draft: Draft, recent: Any) -> Any:
    from zoneinfo import ZoneInfo

    from bot.service.slots import next_slot
    from feedback.ranking import features_of

    acc = deps.config.account(req.account)
    at = next_slot(acc, deps.clock()).astimezone(ZoneInfo(acc.timezone))  # when it would go out
    return features_of(generator=req.generator, text=draft.text, account=req.account, hour=at.hour,
                       weekday=at.weekday(),
                       template=draft.template.slug if draft.template is not None else None,
                       beam_rank=draft.beam_rank, beam_score=draft.beam_score, tone=draft.tone,
                       audience=draft.audience, recent=recent)


def _template_ids(session: Session, drafts: Sequence[Draft], now: datetime) -> dict[str, int]:
    from feedback.repository import templates as tpl_repo

    ids: dict[str, int] = {}
    for d in drafts:
        t = d.template
        if t is None or t.slug in ids:
            continue
        boxes = [{"x": b.x, "y": b.y, "w": b.w, "h": b.h} for b in t.boxes]
        ids[t.slug] = tpl_repo.ensure_template(session, slug=t.slug, name=t.name, image_path=str(t.image_path),
                                               image_sha256=file_sha256(t.image_path), boxes=boxes, now=now)
    return ids


def _add(session: Session, deps: Deps, req: GenerateRequest, generation_id: int, models: Models, draft: Draft,
         med: Media, predicted: tuple[float, dict], template_ids: dict[str, int], status: str,
         reason: str | None, now: datetime) -> None:
    from bot.service.pipeline_gates import gate_of
    from feedback.repository import candidates as cand_repo

    score, explain = predicted
    row = cand_repo.add_candidate(session, cand_repo.NewCandidate(
        generator=req.generator, text=draft.text, account_id=deps.account_ids[req.account],
        generation_id=generation_id,
        template_id=template_ids.get(draft.template.slug) if draft.template is not None else None,
        model_version=models.version[:64], group_key=draft.group_key[:64], beam_rank=draft.beam_rank,
        beam_score=draft.beam_score, tone=draft.tone, audience=draft.audience, gan_seed=draft.gan_seed,
        params=draft.params, image_path=med.path, source_image_path=draft.source_image_path,
        image_sha256=med.sha256, image_phash=med.phash, status=status, status_reason=reason,
        predicted_score=float(score), predicted_explain=explain, read_as=draft.read_as,
        read_confidence=draft.read_confidence,
        filter_gate=gate_of(reason) if status == FILTERED else None,
        offers_used=draft.params.get("offers_used")), now)
    if models.on_stored is not None:
        models.on_stored(session, row, draft, now)
