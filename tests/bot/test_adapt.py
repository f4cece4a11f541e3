"""`memeloop adapt`: the meme captioner learns from winners, keeps every version, rolls back; the
pipeline decodes with the current one (re-read each run)."""
from __future__ import annotations

import json
from datetime import timedelta

from feedback.polling import Counts
from feedback.repository import history as history_repo
from tests.bot.publishers.apps import BASE, OUTBOX, make_app

WINNERS = ("coffee", "espresso", "latte")
LOSERS = ("monday", "alarm", "commute")


def _history(app, now, n: int = 90) -> None:
    """The account's past: captions about coffee did 6x what captions about monday mornings did."""
    with app.tx() as s:
        items = []
        for i in range(n):
            good = i % 2 == 0
            words = WINNERS if good else LOSERS
            text = f"{words[i % 3]} {words[(i + 1) % 3]} again"
            items.append(history_repo.NewImport(f"r{i}", now - timedelta(hours=7 * (i + 1)), text, None, 0,
                                                Counts(likes=60 if good else 10)))
        history_repo.add(s, app.account_ids["demo"], items, now=now)


def _cli(tmp_path, monkeypatch, capsys, *args: str) -> tuple[int, str]:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    code = main(["--config", "config.toml", "adapt", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_adapt_meme_writes_more_of_the_winners_keeps_versions_and_rolls_back(tmp_path, clock, monkeypatch, capsys):
    app = make_app(tmp_path, clock, OUTBOX)
    _history(app, clock())
    app.close()
    (tmp_path / "config.toml").write_text(BASE + OUTBOX)
    code, out = _cli(tmp_path, monkeypatch, capsys, "show")
    assert code == 0 and "writes as trained" in out
    code, out = _cli(tmp_path, monkeypatch, capsys, "meme", "--json")
    assert code == 0, out
    made = json.loads(out)
    bias = {r["word"]: r["bias"] for r in made["words"]}
    assert made["version"] == 1 and made["observations"] >= 90
    assert any(bias.get(w, 0) > 0 for w in WINNERS) and any(bias.get(w, 0) < 0 for w in LOSERS)
    assert all(bias.get(w, 0) >= 0 for w in WINNERS) and all(bias.get(w, 0) <= 0 for w in LOSERS)
    assert _cli(tmp_path, monkeypatch, capsys, "meme", "--strength", "0.5")[0] == 0
    code, out = _cli(tmp_path, monkeypatch, capsys, "show", "--json")
    shown = json.loads(out)
    assert shown["version"] == 2 and shown["versions"] == [1, 2]
    assert max(abs(r["bias"]) for r in shown["words"]) < max(abs(b) for b in bias.values())
    code, out = _cli(tmp_path, monkeypatch, capsys, "rollback")
    assert code == 0 and "adaptation 1 is current" in out
    code, out = _cli(tmp_path, monkeypatch, capsys, "rollback")
    assert code == 0 and "writes as trained" in out
    code, out = _cli(tmp_path, monkeypatch, capsys, "rollback")
    assert code == 2 and "nothing to roll back" in out and "Traceback" not in out
    code, out = _cli(tmp_path, monkeypatch, capsys, "meme", "--strength", "9")
    assert code == 2 and "--strength" in out


def test_adapt_meme_refuses_before_the_ranker_has_learned_anything(tmp_path, clock, monkeypatch, capsys):
    make_app(tmp_path, clock, OUTBOX).close()
    (tmp_path / "config.toml").write_text(BASE + OUTBOX)
    code, out = _cli(tmp_path, monkeypatch, capsys, "meme")
    assert code == 2 and "needs at least 30" in out and "Traceback" not in out
    assert not (tmp_path / "adaptations" / "meme" / "0001.json").exists()


def test_the_pipeline_decodes_with_the_current_adaptation(tmp_path, clock):
    from bot.service.adapt import adaptation_store
    from bot.service.pipeline import follow_adaptation
    from generator.meme import load_captioner
    from generator.meme.adapt import Adaptation
    from generator.meme.tiny import write_random_bundle

    (tmp_path / "config.toml").write_text(BASE + OUTBOX)
    from bot.config import load_config

    config = load_config(tmp_path / "config.toml")
    captioner = load_captioner(write_random_bundle(tmp_path / "bundle", seed=7))
    assert follow_adaptation(captioner, config) == 0 and captioner.rules.word_bias is None
    store = adaptation_store(config)
    store.save(Adaptation({"nap": 2.0}))
    assert follow_adaptation(captioner, config) == 1
    assert captioner.rules.word_bias is not None and captioner.rules.word_bias[captioner.vocab.index()["nap"]] == 2.0
    store.rollback()
    assert follow_adaptation(captioner, config) == 0 and captioner.rules.word_bias is None
