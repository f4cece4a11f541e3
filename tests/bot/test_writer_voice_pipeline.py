"""The ``voice`` and ``off_topic`` gates in the pipeline (bot/service/pipeline_gates.py): a written
caption in a business's voice is refused on an account that promotes nothing, allowed for the
promotional audience of a profile with offers; a caption naming another topic's words is refused
unless the owner's words name them; more rounds still queue the count asked for."""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from bot.app import build_app
from bot.config import load_config
from bot.service.pipeline import Draft, GenerateRequest, Models, run_generation
from feedback.models import Candidate

CONFIG = """
[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"
[ranking]
seed = 1
[[accounts]]
name = "demo"
platform = "outbox"
{brand}
"""
SHOP = """[accounts.brand]
offers = ["Use code MOSS15 for 15% off prints this month."]
link = "https://moss.example/shop"
"""
BUSINESS = "This one reminds our whole team why we do this."


def _app(tmp_path: Path, brand: str = ""):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(brand=brand), encoding="utf-8")
    return build_app(load_config(path))


def _models(texts_per_round, *, topic: str = "cats", about: str | None = None, reading: str = "") -> Models:
    def make(req: GenerateRequest, _config, prefix: str) -> list[Draft]:
        round_no = int(prefix.split(".")[1]) if "." in prefix else 0
        texts = texts_per_round[min(round_no, len(texts_per_round) - 1)]
        return [Draft(text=t, group_key=f"{prefix}:img{i}", beam_rank=0, audience=req.audience or "general",
                      image=Image.fromarray(np.random.default_rng(zlib.crc32(f"{prefix}:{i}".encode()))
                                            .integers(0, 255, (300, 300, 3), dtype=np.uint8)),
                      params={"topic": topic, "about": about, "labels": ["tabby"], "reading": reading})
                for i, t in enumerate(texts)]
    return Models("photo", "test-1", make, {"forward_per_image": 1})


def _rows(app) -> list[Candidate]:
    with app.tx() as session:
        rows = list(session.query(Candidate).order_by(Candidate.id))
        session.expunge_all()
    return rows


def test_business_voice_is_refused_without_a_promotional_profile_and_more_rounds_fill_the_count(tmp_path):
    app = _app(tmp_path)
    rounds = [[BUSINESS, "Curl up where it is warm and let the world be loud."],
              ["Some days you hunt, some days you nap, and both count."]]
    result = run_generation(app.deps, GenerateRequest("demo", "photo", count=2, seed=3), models=_models(rounds))
    rows = _rows(app)
    assert result.pending == 2
    refused = [r for r in rows if r.text == BUSINESS]
    assert refused and refused[0].status == "filtered" and refused[0].filter_gate == "voice"
    reason = refused[0].status_reason or ""
    assert "speaks as a business" in reason and "'our whole team'" in reason
    app.close()


def test_a_profile_with_offers_may_speak_as_a_business_to_the_promotional_audience(tmp_path):
    app = _app(tmp_path, SHOP)
    run_generation(app.deps, GenerateRequest("demo", "photo", count=1, seed=3, audience="promotional"),
                   models=_models([[BUSINESS]]))
    run_generation(app.deps, GenerateRequest("demo", "photo", count=1, seed=4, audience="general"),
                   models=_models([[BUSINESS]]))
    by_audience = {r.audience: r for r in _rows(app) if r.text.startswith(BUSINESS)}
    assert by_audience["promotional"].status == "pending"
    assert by_audience["general"].filter_gate == "voice"
    app.close()


def test_another_topics_words_are_refused_unless_the_owner_named_them(tmp_path):
    app = _app(tmp_path)
    mug = "Every great plan began at a kitchen table with a mug."
    run_generation(app.deps, GenerateRequest("demo", "photo", count=1, seed=3), models=_models([[mug]]))
    run_generation(app.deps, GenerateRequest("demo", "photo", count=1, seed=4),
                   models=_models([[mug]], about="my cat next to her favourite mug"))
    rows = [r for r in _rows(app) if r.text == mug]
    # the first run's rounds (it asks again) are all refused; the owner's run queues it
    assert [r.filter_gate for r in rows[:-1]] == ["off_topic"] * (len(rows) - 1) and len(rows) > 1
    assert rows[-1].status == "pending"
    assert "names 'mug' (coffee) on a photo read as cats" in (rows[0].status_reason or "")
    app.close()


def test_an_unsure_photos_common_ground_may_be_named(tmp_path):
    app = _app(tmp_path)
    line = "A big cat, by the look of it."
    reading = "read as tiger (31%, unsure); written for neutral; the top guesses share: a big cat"
    run_generation(app.deps, GenerateRequest("demo", "photo", count=1, seed=3),
                   models=_models([[line]], topic="neutral", reading=reading))
    assert [r.status for r in _rows(app)] == ["pending"]
    app.close()
