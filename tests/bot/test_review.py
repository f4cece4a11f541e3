"""The review CLI end to end in-process: real config, real database, real rows."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import update

from bot.app import build_app
from bot.cli.render import inline_image, inline_protocol
from bot.config import load_config
from feedback.models import Candidate
from feedback.repository import candidates as cand_repo
from feedback.repository import reviews
from tests.feedback import feedback_rows as rows


@pytest.fixture
def setup(write_config, clock, tmp_path):
    config = write_config()
    app = build_app(load_config(config), clock=clock)
    yield config, app
    app.close()


def _image(tmp_path, name: str, color: str = "red"):
    path = tmp_path / name
    Image.new("RGB", (64, 48), color).save(path)
    return str(path)


def test_queue_list_shows_held_back_candidates_with_their_reason(setup, run_cli):
    config, app = setup
    app.clock.now = datetime.now(UTC)  # the CLI reads the real clock
    with app.tx() as s:
        rows.candidate(s, now=app.clock(), text="fine one", predicted_score=0.4)
        rows.candidate(s, now=app.clock(), text="bad word", status="filtered", status_reason="profanity: 'heck'")
        rows.candidate(s, now=app.clock(), text="again", status="duplicate",
                       status_reason="near-duplicate of candidate 1: caption similarity 0.93")
    out = run_cli("--config", str(config), "queue", "list", "--status", "filtered", "--status", "duplicate",
                  "--json")
    assert out.code == 0, out.err
    assert {(r["status"], r["status_reason"][:12]) for r in json.loads(out.out)} == {
        ("filtered", "profanity: '"), ("duplicate", "near-duplica")}
    table = run_cli("--config", str(config), "queue", "list", "--status", "filtered")
    assert "status_reason" in table.out and "profanity" in table.out
    pending = json.loads(run_cli("--config", str(config), "queue", "list", "--json").out)
    assert [(r["rank"], r["text"], r["predicted_score"]) for r in pending] == [(1, "fine one", 0.4)]
    assert re.fullmatch(r"\d+s", pending[0]["age"])  # the CLI reads the real clock


def test_queue_show_has_siblings_history_ranking_and_image(setup, run_cli, tmp_path):
    config, app = setup
    img = _image(tmp_path, "c.png")
    app.clock.now = datetime.now(UTC) - timedelta(hours=2)  # the CLI reads the real clock
    with app.tx() as s:
        main = rows.candidate(s, now=app.clock(), text="beam zero", group_key="img1", image_path=img,
                              predicted_score=0.2, predicted_explain={
                                  "mean": 0.1, "sample": 0.2, "model": "blr-1", "observations": 9,
                                  "explain": [["template=cat", 0.3], ["hour=09h", -0.1]]})
        rows.candidate(s, now=app.clock(), text="beam one", group_key="img1", beam_rank=1)
        rows.candidate(s, now=app.clock(), text="elsewhere", group_key="img2", predicted_score=0.9)
        main_id = main.id
        reviews.edit(s, main_id, actor="ann", now=app.clock(), text="beam zero!")
    got = run_cli("--config", str(config), "queue", "show", str(main_id), "--json")
    assert got.code == 0, got.err
    detail = json.loads(got.out)
    assert [s["text"] for s in detail["siblings"]] == ["beam one"]
    assert [(h["action"], h["before"], h["after"]) for h in detail["history"]] == [
        ("edit", "beam zero", "beam zero!")]
    assert detail["ranking"]["queue_rank"] == 2 and detail["ranking"]["explain"][0] == ["template=cat", 0.3]
    assert 7200 <= detail["age"] < 7300 and detail["image_path"] == img
    shown = run_cli("--config", str(config), "queue", "show", str(main_id), "--no-image")
    assert f"image: {img}" in shown.out and "template=cat" in shown.out and "#2 in the pending" in shown.out
    forced = run_cli("--config", str(config), "queue", "show", str(main_id), "--image")
    assert "\033]1337;File=inline=1" in forced.out
    missing = run_cli("--config", str(config), "queue", "show", "999")
    assert missing.code == 1 and missing.err.strip() == "memeloop: error: candidate 999 does not exist"


def test_queue_show_says_what_the_ranker_learned_with_its_uncertainty(setup, run_cli):
    config, app = setup
    app.clock.now = datetime.now(UTC)
    said = 'captions about "monday" do 1.8x baseline at 19:00 for demo (likely 1.2x-2.7x, from 14 posts)'
    with app.tx() as s:
        told = rows.candidate(s, now=app.clock(), text="monday again", predicted_score=0.5, predicted_explain={
            "mean": 0.4, "sample": 0.5, "model": "blr-2", "observations": 30,
            "explain": [["word=monday", 0.59]], "effects": [["word=monday", 0.59, 0.25, 14.0]],
            "sentences": [said]})
        # scored before sentences were stored: told from its effects
        older = rows.candidate(s, now=app.clock(), text="coffee", predicted_score=0.1, predicted_explain={
            "mean": 0.1, "sample": 0.1, "explain": [["template=cat", 0.3]],
            "effects": [["template=cat", 0.3, 0.1, 20.0]]})
        told_id, older_id = told.id, older.id
    detail = json.loads(run_cli("--config", str(config), "queue", "show", str(told_id), "--json").out)
    assert detail["ranking"]["sentences"] == [said]
    assert detail["ranking"]["effects"] == [
        {"feature": "word=monday", "contribution": 0.59, "sd": 0.25, "evidence": 14.0}]
    shown = run_cli("--config", str(config), "queue", "show", str(told_id), "--no-image")
    assert shown.code == 0, shown.err
    assert "what the ranker learned" in shown.out and said in shown.out
    again = json.loads(run_cli("--config", str(config), "queue", "show", str(older_id), "--json").out)
    assert again["ranking"]["sentences"] == [
        'the "cat" template does 1.3x baseline (likely 1.1x-1.6x, from 20 posts)']


def test_stats_learned_lists_the_rankers_effects_in_words(setup, run_cli):
    config, app = setup
    with app.tx() as s:
        for i, value in enumerate((0.5, 0.7)):
            rows.candidate(s, now=app.clock(), text=f"monday {i}", predicted_explain={
                "explain": [["word=monday", value]], "effects": [["word=monday", value, 0.2, 10.0 + i]]})
    out = run_cli("--config", str(config), "stats", "learned")
    assert out.code == 0, out.err
    assert '- captions about "monday" do 1.8x baseline (likely 1.3x-2.5x, from 11 posts)' in out.out
    got = json.loads(run_cli("--config", str(config), "stats", "learned", "--json").out)
    assert [(r["feature"], round(r["weight"], 3), r["sd"], r["evidence"], r["candidates"]) for r in got] == [
        ("word=monday", 0.6, 0.2, 11.0, 2)]
    with app.tx() as s:  # nothing scored: says so instead of an empty table
        s.execute(update(Candidate).values(predicted_explain=None))
    assert "nothing learned yet" in run_cli("--config", str(config), "stats", "learned").out


def test_inline_protocol_follows_the_terminal(tmp_path):
    assert inline_protocol({"TERM": "xterm-kitty"}) == "kitty"
    assert inline_protocol({"TERM_PROGRAM": "iTerm.app"}) == "iterm"
    assert inline_protocol({"TERM": "xterm-256color"}) is None
    img = tmp_path / "big.png"
    noise = np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    Image.fromarray(noise).save(img)
    kitty = inline_image(img, force=True, env={"TERM": "xterm-kitty"})
    assert kitty is not None
    assert kitty.startswith("\033_Gf=100,a=T,m=1;") and kitty.endswith("\033\\")
    assert inline_image(img, env={"TERM": "dumb"}) is None  # not a terminal that can, and not a tty


def test_reject_many_with_reason_keeps_going_past_a_conflict(setup, run_cli):
    config, app = setup
    with app.tx() as s:
        ids = [rows.candidate(s, now=app.clock(), text=f"c{i}").id for i in range(3)]
        reviews.reject(s, ids[1], actor="bob", now=app.clock(), reason="earlier")
    out = run_cli("--config", str(config), "reject", *map(str, ids), "--reason", "off brand", "--actor", "ann")
    assert out.code == 1
    assert out.err.strip() == f"memeloop: error: candidate {ids[1]}: cannot reject: the candidate is rejected"
    assert f"rejected {ids[0]} (was pending)" in out.out and f"rejected {ids[2]}" in out.out
    with app.tx() as s:
        assert [h.reason for h in reviews.history(s, ids[2])] == ["off brand"]
    assert run_cli("--config", str(config), "reject", str(ids[0])).code == 2  # --reason is required


def test_edit_without_an_image_changes_text_and_keeps_history(setup, run_cli):
    config, app = setup
    with app.tx() as s:
        cid = rows.candidate(s, now=app.clock(), text="old words", generator="post", status="filtered").id
    out = run_cli("--config", str(config), "edit", str(cid), "--text", "new words", "--actor", "ann")
    assert out.code == 0, out.err
    with app.tx() as s:
        c = cand_repo.get_candidate(s, cid)
        assert (c.status, c.text, c.original_text) == ("pending", "new words", "old words")
        assert [h.actor for h in reviews.history(s, cid)] == ["ann"]


def test_edit_rerenders_a_meme_from_its_template(setup, run_cli, tmp_path):
    config, app = setup
    with app.tx() as s:
        tpl = rows.template(s, now=app.clock())
        tpl.image_path = _image(tmp_path, "tpl.png", "gray")
        tpl.boxes = [{"x": 0.0, "y": 0.0, "w": 1.0, "h": 0.3}]
        cid = rows.candidate(s, now=app.clock(), template_id=tpl.id, image_path=_image(tmp_path, "r.png")).id
    out = run_cli("--config", str(config), "edit", str(cid), "--text", "brand new caption")
    assert out.code == 0, out.err
    with app.tx() as s:
        c = cand_repo.get_candidate(s, cid)
    assert c.image_path is not None and c.image_phash is not None
    assert Path(c.image_path).parent.parent == tmp_path / "media" and len(c.image_phash) == 16  # content-addressed
    assert Image.open(c.image_path).size == (64, 48)


def test_queue_sheet_writes_png_and_html(setup, run_cli, tmp_path):
    config, app = setup
    with app.tx() as s:
        for i in range(8):
            rows.candidate(s, now=app.clock(), text=f"caption <{i}>",
                           image_path=_image(tmp_path, f"{i}.png") if i % 2 else None)
    out = run_cli("--config", str(config), "queue", "sheet", "--out", str(tmp_path / "sheet"))
    assert out.code == 0, out.err and "candidates=8" in out.out
    png = Image.open(tmp_path / "sheet" / "sheet.png")
    assert png.size == (6 * 240, 2 * (240 + 44))
    page = (tmp_path / "sheet" / "sheet.html").read_text()
    assert page.count("<figure>") == 8 and "caption &lt;3&gt;" in page
