"""Generation pipeline: beams -> render -> safety -> duplicates -> rank -> one transaction.

Ranking, learning, the duplicate guard, rendering (generator.annotate) and the safety filter
(generator.safety) are the real ones. The captioner, GAN and writer are tiny random-weight fixtures
with the real interfaces."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.app import build_app
from bot.config import load_config
from bot.service.pipeline import GenerateRequest, Models, meme_drafts, post_drafts, run_generation
from feedback.models import Candidate, Generation
from generator.types import Box, Template

CONFIG = """
[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"
[generator.meme]
beam_width = 3
images_per_run = 2
forward_per_image = 2
[generator.post]
captions_per_image = 3
[safety]
extra_words = {extra}
[ranking]
seed = 1
[[accounts]]
name = "demo"
platform = "outbox"
"""


@pytest.fixture
def collaborators():
    """The real annotate and safety modules, always (a test of the pipeline never runs on stand-ins)."""
    import generator.annotate
    import generator.safety

    return [generator.annotate, generator.safety]


# --- tiny models with the real interfaces -------------------------------------------------------------

@dataclass(frozen=True)
class Caption:
    text: str
    score: float
    logprob: float
    tokens: tuple
    rank: int


# Content words only: every beam reads as a list of things, never as a broken sentence (the fluency
# gate would filter "me the finally", and these tests are about the pipeline's other steps).
WORDS = ("cats", "mondays", "coffee", "deploys", "rockets", "builds", "naps", "snacks", "fridays", "tests", "memes")


class TinyCaptioner:
    """Random-weight linear 'decoder': features -> word scores; k distinct captions per image."""

    version = "tiny-captioner-1"

    def __init__(self, seed: int = 0, dim: int = 8) -> None:
        self.w = np.random.default_rng(seed).normal(size=(dim, len(WORDS)))
        self.dim = dim

    def encode_batch(self, images):
        out = []
        for path in images:
            digest = hashlib.sha256(Path(path).read_bytes()).digest()
            out.append(np.frombuffer(digest[: self.dim], dtype=np.uint8).astype(np.float32) / 255)
        return np.stack(out)

    def beam_search_batch(self, features, k=5, **options):
        self.options = options  # decoding options from [generator.meme] (the real captioner samples with them)
        results = []
        for row in np.asarray(features):
            logits = row @ self.w
            order = np.argsort(-logits)
            caps = []
            for r in range(k):
                words = [WORDS[order[(2 * r + j) % len(WORDS)]] for j in range(3 + r % 2)]  # siblings differ by >= 2 words
                score = float(-np.mean(np.abs(logits[order[r:r + 3]])) - 0.1 * r)
                caps.append(Caption(" ".join(words), score, score * len(words), tuple(words), r))
            results.append(caps)
        return results


class TinyGan:
    version = "tiny-gan-1"
    domain = "abstract textures"

    def generate(self, n, seed=None):
        seeds = np.random.default_rng(seed).integers(0, 2**31, size=n)
        return [(Image.fromarray(np.random.default_rng(int(s)).integers(0, 255, (32, 32, 3), dtype=np.uint8)),
                 int(s)) for s in seeds]


class TinyWriter:
    version = "tiny-writer-1"
    tones = ("funny", "wholesome")
    audiences = ("general",)

    def write(self, n, tone=None, audience=None, seed=None, topic=None):
        rng = np.random.default_rng(seed)
        return [f"{tone} {' '.join(rng.choice(WORDS, size=4))} #{topic.split()[0]} #{i}" for i in range(n)]


@pytest.fixture
def templates(tmp_path) -> list[Template]:
    out = []
    for i, slug in enumerate(("cat", "coffee", "rocket")):
        folder = tmp_path / "templates" / slug
        folder.mkdir(parents=True)
        Image.new("RGB", (96, 96), (40 * i, 90, 200 - 50 * i)).save(folder / "image.jpg")
        out.append(Template(slug, slug.title(), folder / "image.jpg", (Box(0.0, 0.0, 1.0, 0.25),)))
    return out


def _app(tmp_path, extra="[]"):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return build_app(load_config(path))


def _meme_models(templates) -> Models:
    cap = TinyCaptioner()
    return Models("meme", cap.version, lambda req, conf, prefix: meme_drafts(cap, templates, req, conf, prefix))


def _post_models() -> Models:
    gan, writer = TinyGan(), TinyWriter()
    return Models("post", f"{gan.version}+{writer.version}",
                  lambda req, conf, prefix: post_drafts(gan, writer, req, conf, prefix))


def _rows(app, model):
    with app.tx() as session:
        return list(session.query(model).order_by(model.id))


def test_every_beam_is_stored_and_the_ranker_forwards_some_per_image(tmp_path, templates, collaborators):
    app = _app(tmp_path)
    result = run_generation(app.deps, GenerateRequest("demo", "meme", count=4, seed=7), models=_meme_models(templates))
    cands = _rows(app, Candidate)
    # 2 images x forward_per_image 2 queue the count with no room to spare: one spare image
    assert result.stored == len(cands) == 3 * 3  # 3 images x k=3 beams, all kept
    assert result.pending == 4 and result.filtered == 5
    by_group: dict[str, list[Candidate]] = {}
    for c in cands:
        by_group.setdefault(c.group_key, []).append(c)
    assert len(by_group) == 3
    for group in by_group.values():
        assert sorted(c.beam_rank for c in group) == [0, 1, 2]
        assert sum(c.status == "pending" for c in group) <= 2  # forward_per_image
        for c in group:
            if c.status == "filtered":
                assert c.status_reason is not None
                # the ranker's choice, or (the tiny captioner's three-word captions often share two
                # words) a repeat of a caption this run queued for the other image
                assert c.status_reason.startswith(("not forwarded: beam ", "duplicate: another draft of this run"))
    # every image's best pick before any image's second (variety), then the better second
    assert sorted(sum(c.status == "pending" for c in g) for g in by_group.values()) == [1, 1, 2]
    for c in cands:  # everything needed to regenerate it, and the file it will be posted with
        assert c.model_version == "tiny-captioner-1" and c.template_id is not None
        assert c.params["seed"] == 7 and c.params["template"] and c.params["k"] == 3
        assert c.params["decode"] == {"temperature": 1.0, "top_p": 0.95, "groups": 2, "group_penalty": 1.0,
                                      "seed": None}
        data = Path(c.image_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == c.image_sha256
        assert c.image_phash is None  # memes are compared by caption; their picture is the template
        assert c.predicted_score is not None and c.predicted_explain["explain"]
        assert c.source_image_path.endswith("image.jpg")
    (gen,) = _rows(app, Generation)
    assert gen.status == "ok" and gen.seed == 7 and gen.model_version == "tiny-captioner-1"
    assert gen.params["beam_width"] == 3 and {"load_s", "generate_s", "render_s", "total_s"} <= set(gen.timings)
    app.close()


def test_count_caps_what_reaches_the_review_queue(tmp_path, templates, collaborators):
    app = _app(tmp_path)
    result = run_generation(app.deps, GenerateRequest("demo", "meme", count=1, seed=7), models=_meme_models(templates))
    assert result.pending == 1 and result.stored == 6  # images_per_run still captioned; all beams kept
    reasons = [c.status_reason for c in _rows(app, Candidate) if c.status == "filtered"]
    assert any(r.startswith("not forwarded: beam ") and r.endswith("this run already queued the 1 asked for, from better-scored drafts")
               and "`" not in r for r in reasons), reasons
    app.close()


def test_the_count_is_filled_best_first_across_images_not_first_come(tmp_path, templates, collaborators):
    """Of the picks every image offers (forward_per_image each), the count goes to the best: each image's
    best pick first, then the best of the seconds, by the ranker's score, whatever the images' order."""
    app = _app(tmp_path)
    run_generation(app.deps, GenerateRequest("demo", "meme", count=4, seed=7), models=_meme_models(templates))
    cands = _rows(app, Candidate)
    left = [c for c in cands if c.status_reason and c.status_reason.endswith("from better-scored drafts")]
    pending = [c for c in cands if c.status == "pending"]
    assert len(pending) == 4 and left  # 3 images x 2 picks offered 6 for 4
    groups = {c.group_key for c in cands}
    assert {c.group_key for c in pending} == groups  # every image has one in the queue
    seconds = [c for c in pending if any(o.group_key == c.group_key and o.predicted_score > c.predicted_score
                                         for o in pending)]
    assert len(seconds) == 1
    # a pick the count left out scores no better than the second pick that was queued
    assert all(c.predicted_score <= seconds[0].predicted_score for c in left), \
        [(c.group_key, c.predicted_score, c.text) for c in [*left, *seconds]]
    app.close()


def test_unsafe_captions_are_kept_as_filtered_with_the_reason(tmp_path, templates, collaborators):
    app = _app(tmp_path, extra='["cats", "mondays", "coffee", "deploys", "rockets", "builds", "naps", "snacks", '
                               '"fridays", "tests", "memes"]')
    result = run_generation(app.deps, GenerateRequest("demo", "meme", count=4, seed=7), models=_meme_models(templates))
    cands = _rows(app, Candidate)
    assert result.pending == 0 and all(c.status == "filtered" for c in cands)
    assert all(c.status_reason.startswith("unsafe: ") for c in cands)
    app.close()


class TopicCaptioner(TinyCaptioner):
    """Every image's best caption is about religion, as a model trained on scraped memes writes."""

    def beam_search_batch(self, features, k=5, **options):
        results = super().beam_search_batch(features, k=k, **options)
        return [[replace(c, text=f"praying for {c.text}") if c.rank == 0 else c for c in caps]
                for caps in results]


def test_captions_about_sensitive_topics_are_kept_as_filtered_with_the_reason(tmp_path, templates, collaborators):
    app = _app(tmp_path)
    cap = TopicCaptioner()
    models = Models("meme", cap.version, lambda req, conf, prefix: meme_drafts(cap, templates, req, conf, prefix))
    result = run_generation(app.deps, GenerateRequest("demo", "meme", count=2, seed=7), models=models)
    cands = _rows(app, Candidate)
    topical = [c for c in cands if c.text.startswith("praying")]
    assert topical and all(c.status == "filtered" for c in topical)
    assert {c.status_reason for c in topical} == {'sensitive topic: religion ("praying")'}
    assert result.pending == 2 and not any(c.text.startswith("praying") for c in cands if c.status == "pending")
    app.close()


def test_a_repeat_run_is_caught_by_the_duplicate_guard(tmp_path, templates, collaborators):
    app = _app(tmp_path)
    first = run_generation(app.deps, GenerateRequest("demo", "meme", count=4, seed=7), models=_meme_models(templates))
    again = run_generation(app.deps, GenerateRequest("demo", "meme", count=4, seed=7), models=_meme_models(templates))
    rows = _rows(app, Candidate)
    queued_before = {c.text for c in rows if c.generation_id == first.generation_id and c.status == "pending"}
    second = {c.text: c for c in rows if c.generation_id == again.generation_id}
    assert len(queued_before) == 4 and again.duplicates >= 4
    for text in queued_before:  # what already went to review never comes back as new
        assert second[text].status == "duplicate" and "candidate" in second[text].status_reason
    app.close()


def test_post_generator_one_caption_per_image_goes_forward(tmp_path, collaborators):
    app = _app(tmp_path)
    result = run_generation(app.deps, GenerateRequest("demo", "post", count=2, seed=3), models=_post_models())
    cands = _rows(app, Candidate)
    assert result.stored == 6 and result.pending == 2
    groups = {c.group_key for c in cands}
    assert len(groups) == 2
    for key in groups:
        members = [c for c in cands if c.group_key == key]
        assert len({c.image_path for c in members}) == 1 and len({c.gan_seed for c in members}) == 1
        assert members[0].tone in TinyWriter.tones and members[0].params["writer_seed"] is not None
    assert all(c.template_id is None and c.model_version == "tiny-gan-1+tiny-writer-1" for c in cands)
    app.close()


def test_a_failing_run_marks_its_generation_failed(tmp_path, collaborators):
    app = _app(tmp_path)

    def explode(req, conf, prefix):
        raise RuntimeError("decoder fell over")

    with pytest.raises(RuntimeError):
        run_generation(app.deps, GenerateRequest("demo", "meme", count=2, seed=1), models=Models("meme", "v", explode))
    (gen,) = _rows(app, Generation)
    assert gen.status == "failed" and "decoder fell over" in gen.error
    assert _rows(app, Candidate) == []
    app.close()


def test_a_template_reused_with_new_captions_is_not_a_duplicate(tmp_path, collaborators):
    from skimage import data as photos  # a real photo: its meme renderings share a perceptual hash

    folder = tmp_path / "templates" / "astronaut"
    folder.mkdir(parents=True)
    Image.fromarray(photos.astronaut()).resize((256, 256)).save(folder / "image.jpg")
    one = [Template("astronaut", "Astronaut", folder / "image.jpg", (Box(0.0, 0.0, 1.0, 0.25),))]
    app = _app(tmp_path)
    for captioner_seed in (0, 5):  # different weights -> different captions on the same picture
        cap = TinyCaptioner(seed=captioner_seed)
        models = Models("meme", cap.version, partial(meme_drafts, cap, one))
        result = run_generation(app.deps, GenerateRequest("demo", "meme", count=2, seed=1), models=models)
    texts = {c.text for c in _rows(app, Candidate) if c.generation_id == 1}
    fresh = [c for c in _rows(app, Candidate) if c.generation_id == 2 and c.text not in texts]
    assert fresh and all(c.status != "duplicate" for c in fresh)
    assert result.pending >= 1
    app.close()


class SeamCaptioner(TinyCaptioner):
    """Every image's best caption joins two demo training captions at a seam that means nothing."""

    def beam_search_batch(self, features, k=5, **options):
        results = super().beam_search_batch(features, k=k, **options)
        return [[replace(c, text="the bike is my face") if c.rank == 0 else c for c in caps] for caps in results]


def test_meme_captions_whose_seam_joins_words_that_do_not_go_together_are_filtered(tmp_path, templates, collaborators):
    from generator.gates.meaning import bundle_sources

    app = _app(tmp_path)
    cap = SeamCaptioner()
    models = Models("meme", cap.version, lambda req, conf, prefix: meme_drafts(cap, templates, req, conf, prefix),
                    sources=bundle_sources(None))
    run_generation(app.deps, GenerateRequest("demo", "meme", count=2, seed=7), models=models)
    odd = [c for c in _rows(app, Candidate) if c.text == "the bike is my face"]
    assert odd and all(c.status == "filtered" and c.status_reason.startswith("meaning: ") for c in odd)
    app.close()


class SpeakerCaptioner(TinyCaptioner):
    """Every image's best caption stitches two speakers of two demo training captions together."""

    def beam_search_batch(self, features, k=5, **options):
        results = super().beam_search_batch(features, k=k, **options)
        text = "when you pay for the coffee and i can buy a sandwich"
        return [[replace(c, text=text) if c.rank == 0 else c for c in caps] for caps in results]


def test_meme_captions_whose_pieces_do_not_hold_together_are_filtered(tmp_path, templates, collaborators):
    from generator.gates.meaning import bundle_sources

    app = _app(tmp_path)
    cap = SpeakerCaptioner()
    models = Models("meme", cap.version, lambda req, conf, prefix: meme_drafts(cap, templates, req, conf, prefix),
                    sources=bundle_sources(None))
    run_generation(app.deps, GenerateRequest("demo", "meme", count=2, seed=7), models=models)
    odd = [c for c in _rows(app, Candidate) if c.text.startswith("when you pay for the coffee and i")]
    assert odd and all(c.status == "filtered" and c.status_reason.startswith("coherence: ")
                       and c.filter_gate == "coherence" for c in odd)
    app.close()


def test_an_extra_round_asks_for_what_is_missing_scaled_by_what_earlier_rounds_queued():
    from bot.service.pipeline import images_needed, round_count

    assert round_count(10, 0, 10) == 10  # nothing queued yet: the whole count again
    assert round_count(10, 8, 10) == 3  # 2 missing, 8 of 10 queued: ask for 3
    assert round_count(10, 5, 10) == 10  # half queued: 5 missing need 10 asked
    assert round_count(10, 2, 10) == 10  # never more than the count
    assert round_count(10, 9, 20) == 3  # the share over every earlier round
    # one spare image when the images would have no room to spare
    assert images_needed(10, 2, 2) == 5 and images_needed(10, 2, 2, spare=True) == 6
    assert images_needed(1, 2, 2, spare=True) == 2  # two images for one: room already
    assert images_needed(3, 2, 2, spare=True) == 3
