"""The pipeline's gates (bot/pipeline_gates.py) on every draft: the platform's own preflight at
generation, the brand profile's truth, internals, fluency, siblings, more rounds until the count is
queued, approve refusing what the platform refuses, one approval per image. Real pipeline, ranker,
media store and database; the drafts come from a small Models whose make() is plain Python."""
from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.app import build_app
from bot.config import load_config
from bot.errors import UsageError
from bot.service.pipeline import Draft, GenerateRequest, Models, run_generation
from feedback.lifecycle import Refused
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
{demo_brand}
[[accounts]]
name = "ig"
platform = "instagram"
[accounts.instagram]
username = "someone"
"""
SHOP = """[accounts.brand]
offers = ["Use code MOSS15 for 15% off prints this month."]
link = "https://moss.example/shop"
hashtags = ["#mossandco"]
banned_words = ["cheap"]
"""
GOOD = ["Moss grows slowly on old walls.", "The kettle sings before the rain.", "Coffee tastes better with friends.",
        "Cats own every sunny windowsill.", "Autumn leaves crunch under tired boots.", "Bread rises while we sleep."]


def _app(tmp_path: Path, demo_brand: str = ""):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(demo_brand=demo_brand), encoding="utf-8")
    return build_app(load_config(path))


def _image(size: int, colour=(30, 120, 60), seed: int | None = None) -> Image.Image:
    """A flat colour, or (with a seed) noise: flat images share one perceptual hash (duplicates)."""
    if seed is None:
        return Image.new("RGB", (size, size), colour)
    import numpy as np

    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8))


def _models(texts_per_round, *, size: int = 400, generator: str = "post", audience=None) -> Models:
    """Round r (told apart by the group prefix) gets texts_per_round[r], one image per text."""
    def make(req: GenerateRequest, _config, prefix: str) -> list[Draft]:
        round_no = int(prefix.split(".")[1]) if "." in prefix else 0
        texts = texts_per_round[min(round_no, len(texts_per_round) - 1)]
        return [Draft(text=t, group_key=f"{prefix}:img{i}", image=_image(size, seed=zlib.crc32(f"{prefix}:{i}".encode())),
                      beam_rank=0,
                      gan_seed=i, audience=req.audience if audience is None else audience, params={"i": i})
                for i, t in enumerate(texts)]
    return Models(generator, "test-1", make, {"forward_per_image": 1})


def _rows(app) -> list[Candidate]:
    with app.tx() as session:
        rows = list(session.query(Candidate).order_by(Candidate.id))
        session.expunge_all()
    return rows


def test_a_post_instagram_would_refuse_is_filtered_with_the_reason_and_approve_refuses_it(tmp_path):
    app = _app(tmp_path)
    result = run_generation(app.deps, GenerateRequest("ig", "post", count=2, seed=3), models=_models([GOOD[:2]], size=32))
    rows = _rows(app)
    assert result.pending == 0 and len(rows) == 2  # no new seed makes a 32 px GAN bigger: no more rounds
    for row in rows:
        assert row.status == "filtered" and row.filter_gate == "preflight"
        assert row.status_reason is not None
        assert row.status_reason.startswith("preflight (instagram): instagram: image is 32 px wide")
        with pytest.raises(Refused) as refused:
            app.approve(row.id, actor="ann")
        assert row.status_reason in str(refused.value)
    # the web card shows the reason, and the image's alt text says what it is
    card = app.card(rows[0].id)
    assert card.status_reason == rows[0].status_reason and card.alt == "An abstract generated image."
    # `generate` says why it queued none of the 2 it was asked for, in the gate's words
    short = app.generation_shortfall(result.generation_id, 2)
    assert short is not None and short.startswith("queued 0 of the 2 asked for; drafts refused 2 by preflight")
    assert "image is 32 px wide" in short
    # the same image is fine for the outbox: the gate is the target platform's own preflight
    ok = run_generation(app.deps, GenerateRequest("demo", "post", count=2, seed=3), models=_models([GOOD[2:4]], size=32))
    assert ok.pending == 2 and app.generation_shortfall(ok.generation_id, 2) is None


def test_the_run_generates_more_until_it_queued_the_count(tmp_path):
    app = _app(tmp_path)
    rounds = [["me trying to the wall", "when you go to the", GOOD[0]], [GOOD[1], "i am the the best", GOOD[2]]]
    result = run_generation(app.deps, GenerateRequest("demo", "post", count=3, seed=5), models=_models(rounds))
    assert result.pending == 3 and result.stored == 6
    reasons = sorted(r.status_reason for r in _rows(app) if r.status == "filtered")
    assert [r.split(":")[0] for r in reasons] == ["fluency", "fluency", "fluency"]
    with app.tx() as session:
        from feedback.models import Generation
        assert session.get(Generation, result.generation_id).params["rounds"] == 2


def test_invented_offers_are_removed_from_written_captions_and_memes_with_one_are_filtered(tmp_path):
    app = _app(tmp_path)
    texts = ["Moss grows slowly. Use code LOOP10 for 10% off this week.", "Use code LOOP10 for 10% off this week.",
             "A small neural network drew this moss for you."]
    run_generation(app.deps, GenerateRequest("demo", "post", count=3, seed=1), models=_models([texts, GOOD[:3]]))
    rows = {r.params.get("i"): r for r in _rows(app) if r.group_key.endswith(("img0", "img1", "img2"))
            and "." not in r.group_key.split(":")[0]}
    assert rows[0].status == "pending" and rows[0].text == "Moss grows slowly."
    assert "removed undeclared code" in rows[0].params["gates"][0]
    assert rows[1].status == "filtered" and rows[1].filter_gate == "truth"
    assert rows[1].status_reason is not None
    assert rows[1].status_reason.startswith("truth: undeclared code 'Use code LOOP10'")
    assert rows[2].filter_gate == "internals" and "neural network" in rows[2].status_reason


def test_promotional_posts_carry_only_the_profiles_offer_and_the_audience_defaults_to_general(tmp_path):
    app = _app(tmp_path, SHOP)
    run_generation(app.deps, GenerateRequest("demo", "post", count=1, seed=1, audience="promotional"),
                   models=_models([[GOOD[0] + " Limited edition, get yours today.\n\n#moss"]]))
    row = next(r for r in _rows(app) if r.status == "pending")
    assert row.text == ("Moss grows slowly on old walls. Use code MOSS15 for 15% off prints this month. "
                        "https://moss.example/shop\n\n#mossandco #moss")
    assert row.offers_used == ["Use code MOSS15 for 15% off prints this month."]
    run_generation(app.deps, GenerateRequest("demo", "post", count=1, seed=2), models=_models([[GOOD[1]]]))
    assert _rows(app)[-1].audience == "general" and _rows(app)[-1].offers_used is None
    with pytest.raises(UsageError, match="offers"):
        run_generation(app.deps, GenerateRequest("ig", "post", count=1, seed=2, audience="promotional"),
                       models=_models([[GOOD[1]]]))


def test_the_brands_banned_words_filter(tmp_path):
    app = _app(tmp_path, SHOP)
    run_generation(app.deps, GenerateRequest("demo", "post", count=1, seed=1), models=_models([["This cheap mug is ours."],
                                                                                         [GOOD[0]]]))
    bad = next(r for r in _rows(app) if "cheap" in r.text)
    assert bad.status == "filtered" and bad.filter_gate == "brand"
    assert bad.status_reason == "brand: the account's brand profile never uses 'cheap'"


def test_siblings_of_one_image_that_say_the_same_are_not_both_forwarded(tmp_path):
    app = _app(tmp_path)
    image = _image(400)

    def make(req, _config, prefix):
        texts = ["when you order a cup of coffee and forget why", "when you order a cup of coffee and forget why out",
                 "when the cat steals your chair at breakfast"]
        return [Draft(text=t, group_key=f"{prefix}:one", image=image, beam_rank=i, params={}) for i, t in enumerate(texts)]

    run_generation(app.deps, GenerateRequest("demo", "meme", count=3, seed=1),
                   models=Models("meme", "t", make, {"forward_per_image": 3}, more=False))
    rows = _rows(app)
    pending = [r.text for r in rows if r.status == "pending"]
    assert len(pending) == 2 and "when the cat steals your chair at breakfast" in pending
    assert [r.filter_gate for r in rows if r.status == "filtered"] == ["siblings"]


def test_auto_approve_never_takes_two_of_one_image(tmp_path):
    from bot.service.maintenance import one_per_image

    app = _app(tmp_path)
    image = _image(400)

    def make(req, _config, prefix):
        return [Draft(text=t, group_key=f"{prefix}:one", image=image, beam_rank=i, params={})
                for i, t in enumerate(GOOD[:3])]

    run_generation(app.deps, GenerateRequest("demo", "meme", count=3, seed=1),
                   models=Models("meme", "t", make, {"forward_per_image": 3}, more=False))
    queue = app.queue(account="demo")
    assert len(queue) == 3
    picked = one_per_image(app.deps, queue, 3)
    assert len(picked) == 1
    app.approve(picked[0].id, actor="auto-approve")
    assert one_per_image(app.deps, app.queue(account="demo"), 3) == []  # its siblings stay for a human


def test_auto_approve_never_takes_two_of_one_template_or_source_image_from_two_runs(tmp_path):
    """Two runs' memes on one template (the demo's two Motorcycle memes posted in one round), or two
    runs' captions of one photo, are two group keys but one picture: one of them is picked."""
    from bot.service.maintenance import one_per_image
    from generator.types import Box, Template

    app = _app(tmp_path)
    folder = tmp_path / "bike"
    folder.mkdir()
    _image(64).save(folder / "image.jpg")
    bike = Template("bike", "Motorcycle", folder / "image.jpg", (Box(0.0, 0.0, 1.0, 0.25),))

    def make(req, _config, prefix):
        i = req.seed
        return [Draft(text=GOOD[i], group_key=f"{prefix}:bike", image=_image(64, seed=i), template=bike,
                      source_image_path=str(bike.image_path), params={}),
                Draft(text=GOOD[i + 2], group_key=f"{prefix}:photo", image=_image(64, seed=10 + i),
                      source_image_path=str(tmp_path / "cat.jpg"), params={"by_text_only": True})]

    for seed in (0, 1):
        run_generation(app.deps, GenerateRequest("demo", "meme", count=2, seed=seed),
                       models=Models("meme", "t", make, {"forward_per_image": 1}, more=False))
    queue = app.queue(account="demo")
    assert len(queue) == 4 and len({r.id for r in queue}) == 4
    picked = one_per_image(app.deps, queue, 4)
    with app.tx() as session:
        sources = [session.get(Candidate, r.id).source_image_path for r in picked]
    assert len(picked) == 2 and sorted(sources) == sorted({str(bike.image_path), str(tmp_path / "cat.jpg")})


def test_publishing_sends_alt_text_that_describes_the_image(tmp_path):
    from bot.service.publishing import Job, prepare_post

    app = _app(tmp_path)
    path = tmp_path / "img.png"
    _image(400, (200, 30, 30)).save(path)
    base: dict[str, Any] = {"post_id": 1, "account": "demo", "account_id": 1, "candidate_id": 1, "marker": "m", "attempts": 0,
                "image_path": str(path), "template": None, "template_name": None}
    post = prepare_post(app.config.account("demo"), Job(**base, text="Red. #art", generator="post", gan=True))
    assert post.alt_text == "An abstract generated image in red."
    photo = prepare_post(app.config.account("demo"), Job(**base, text="Hi #cats", generator="photo",
                                                         labels=("tabby",)))
    assert photo.alt_text == "A photo of tabby."
    meme = prepare_post(app.config.account("demo"), Job(**{**base, "template_name": "Cat"}, text="me #x",
                                                        generator="meme"))
    assert meme.alt_text == 'Meme on the "Cat" template with the text "me".'


def _meme_models(texts_per_round, app) -> Models:
    """Memes: round r's texts rendered each on its own real template (as meme_drafts does)."""
    from bot.service.templates import all_templates
    from generator.annotate import render_meme

    templates = all_templates(app.config)

    def make(req: GenerateRequest, _config, prefix: str) -> list[Draft]:
        round_no = int(prefix.split(".")[1]) if "." in prefix else 0
        texts = texts_per_round[min(round_no, len(texts_per_round) - 1)]
        out = []
        for i, t in enumerate(texts):
            tpl = templates[(3 * round_no + i) % len(templates)]
            base = Image.open(tpl.image_path).convert("RGB")
            out.append(Draft(text=t, group_key=f"{prefix}:{tpl.slug}", image=render_meme(base, t, tpl.boxes),
                             template=tpl, beam_rank=0, params={"i": i}))
        return out
    return Models("meme", "test-1", make, {"forward_per_image": 1})


def test_a_caption_the_account_already_says_is_filtered_and_the_run_still_queues_its_count(tmp_path):
    app = _app(tmp_path)
    face = ["this is my face", "This is my face!", "when the cat steals your chair"]  # the same line, 2 templates
    result = run_generation(app.deps, GenerateRequest("demo", "meme", count=3, seed=1),
                            models=_meme_models([face, ["when the kettle sings", "me on monday morning"]], app))
    assert result.pending == 3
    rows = _rows(app)
    pending = [r for r in rows if r.status == "pending"]
    assert len([r for r in pending if "face" in r.text]) == 1
    (dup,) = [r for r in rows if r.filter_gate == "duplicate"]
    assert dup.status == "filtered" and "face" in dup.text.casefold()
    assert dup.status_reason.startswith("duplicate: another draft of this run already says this")
    # a later run: what is pending on the account is not said again, on any template
    run_generation(app.deps, GenerateRequest("demo", "meme", count=1, seed=2),
                   models=_meme_models([["this is my face today"], ["my plants after one week"]], app))
    later = [r for r in _rows(app) if r.id > rows[-1].id]
    assert [r.status for r in later] == ["filtered", "pending"]
    first = next(r for r in pending if "face" in r.text)
    assert f"candidate {first.id} (pending) already says this" in (later[0].status_reason or "")
    # another account may say it
    run_generation(app.deps, GenerateRequest("ig", "meme", count=1, seed=3),
                   models=_meme_models([["this is my face"]], app))
    assert _rows(app)[-1].status == "pending"


def test_a_rejected_caption_may_be_written_again(tmp_path):
    app = _app(tmp_path)
    run_generation(app.deps, GenerateRequest("demo", "meme", count=1, seed=1),
                   models=_meme_models([["this is my face"]], app))
    first = _rows(app)[0]
    with app.tx() as session:
        session.get(Candidate, first.id).status = "rejected"
    run_generation(app.deps, GenerateRequest("demo", "meme", count=1, seed=2),
                   models=_meme_models([["this is my face, again"]], app))
    assert _rows(app)[-1].status == "pending"  # a rejected line is not what the account says


def test_stock_calls_to_action_are_filtered_unless_the_brand_declares_them(tmp_path):
    app = _app(tmp_path, SHOP + 'call_to_action = "Tag a friend who needs this."\n')
    texts = [GOOD[0] + " Now you know.\n\n#moss", GOOD[1] + " Tag a friend who needs this.", GOOD[2]]
    run_generation(app.deps, GenerateRequest("demo", "post", count=3, seed=1),
                   models=_models([texts, [GOOD[3]]]))
    by_text = {r.params.get("i"): r for r in _rows(app) if ":" in r.group_key and "." not in r.group_key.split(":")[0]}
    assert by_text[0].status == "filtered" and by_text[0].filter_gate == "stock_line"
    assert by_text[0].status_reason.startswith("stock_line: 'Now you know.' is a call to action or filler line")
    assert by_text[1].status == "pending" and by_text[2].status == "pending"  # the brand's own call to action
    # which every written caption of the account carries, once, before its hashtags
    assert by_text[1].text.count("Tag a friend who needs this.") == 1
    assert by_text[2].text.startswith(GOOD[2] + " Tag a friend who needs this.")
    (tmp_path / "plain").mkdir()
    plain = _app(tmp_path / "plain")
    run_generation(plain.deps, GenerateRequest("demo", "post", count=1, seed=1),
                   models=_models([[GOOD[1] + " Tag a friend who needs this."], [GOOD[2]]]))
    assert _rows(plain)[0].filter_gate == "stock_line"


def test_offers_a_person_typed_are_theirs_and_only_generated_words_are_judged(tmp_path):
    from generator.brand import Brand
    from generator.gates.truth import enforce_truth

    typed = "The coffee was still half price after the promo ended."
    app = _app(tmp_path)
    run_generation(app.deps, GenerateRequest("demo", "manual", count=1, seed=1), models=_models([[typed]],
                                                                                                 generator="manual"))
    row = _rows(app)[-1]
    assert row.status == "pending" and row.text == typed, row.status_reason
    # the same words written by a generator are still an undeclared discount; typed ones next to them are kept
    assert not enforce_truth(typed, Brand()).ok
    kept = enforce_truth(f"{typed} Shop now for 20% off.", Brand(), given=typed)
    assert kept.ok and kept.text == typed and "20% off" in kept.notes[0]


def test_a_written_caption_not_forwarded_says_so_in_the_words_of_its_kind(tmp_path):
    app = _app(tmp_path)

    def make(req, _config, prefix):
        image = _image(400, seed=3)
        return [Draft(text=t, group_key=f"{prefix}:img0", image=image, beam_rank=r, params={"i": r})
                for r, t in enumerate(GOOD[:2])]
    run_generation(app.deps, GenerateRequest("demo", "post", count=1, seed=1),
                   models=Models("post", "t", make, {"forward_per_image": 2}, more=False))
    reasons = [r.status_reason for r in _rows(app) if r.status == "filtered"]
    assert len(reasons) == 1 and reasons[0].startswith("not forwarded: caption ") \
        and " of 2 for this image; this run already queued the 1 asked for" in reasons[0], reasons


def test_filler_about_the_page_is_filtered_unless_a_promotional_profile_writes_it(tmp_path):
    filler = GOOD[4] + " Thank you for being part of this little corner of the internet."
    plain = _app(tmp_path)
    run_generation(plain.deps, GenerateRequest("demo", "post", count=1, seed=1), models=_models([[filler], [GOOD[2]]]))
    first = _rows(plain)[0]
    assert first.status == "filtered" and first.filter_gate == "stock_line"
    assert "speaks of the page or its makers" in first.status_reason
    (tmp_path / "shop").mkdir()
    shop = _app(tmp_path / "shop", SHOP)
    run_generation(shop.deps, GenerateRequest("demo", "post", count=1, seed=1, audience="promotional"),
                   models=_models([[filler], [GOOD[2]]]))
    row = _rows(shop)[0]
    assert row.status == "pending", row.status_reason
