"""`memeloop adapt`: the meme captioner learns from winners, keeps every version, rolls back; the
pipeline decodes with the current one (re-read each run)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

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
    assert code == 0 and "write as trained" in out
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
    assert [(h["version"], h["trigger"], h["observations"]) for h in shown["history"]] == [
        (1, "command", made["observations"]), (2, "command", made["observations"])]
    assert max(abs(r["bias"]) for r in shown["words"]) < max(abs(b) for b in bias.values())
    code, out = _cli(tmp_path, monkeypatch, capsys, "rollback")
    assert code == 0 and "adaptation 1 is current" in out
    code, out = _cli(tmp_path, monkeypatch, capsys, "rollback")
    assert code == 0 and "write as trained" in out
    code, out = _cli(tmp_path, monkeypatch, capsys, "rollback")
    assert code == 2 and "nothing to roll back" in out and "Traceback" not in out
    code, out = _cli(tmp_path, monkeypatch, capsys, "meme", "--strength", "9")
    assert code == 2 and "--strength" in out


def test_adapt_show_lists_the_writers_tilts_beside_the_captioners_offsets(tmp_path, clock, monkeypatch, capsys):
    from generator.meme.adapt import AdaptationStore, captioner_bias
    from generator.textgen.bias import writer_bias

    app = make_app(tmp_path, clock, OUTBOX)
    _history(app, clock())
    app.close()
    (tmp_path / "config.toml").write_text(BASE + OUTBOX)
    assert _cli(tmp_path, monkeypatch, capsys, "meme", "--strength", "0.5")[0] == 0
    code, out = _cli(tmp_path, monkeypatch, capsys, "show", "--json")
    assert code == 0, out
    shown = json.loads(out)
    # what the writer follows is the stored adaptation's writer_bias, not its stored offsets
    stored = writer_bias(AdaptationStore(tmp_path / "adaptations" / "meme").load(1))
    writer = {r["word"]: r["bias"] for r in shown["writer_words"]}
    assert writer and all(stored[w] == b for w, b in writer.items())
    assert all((r["writes"] == "more") == (r["bias"] > 0) for r in shown["writer_words"])
    assert any(writer.get(w, 0) > 0 for w in WINNERS) and any(writer.get(w, 0) < 0 for w in LOSERS)
    captioner = {r["word"]: r["bias"] for r in shown["words"]}
    # the captioner follows the same means, scaled for its beam search (captioner_bias), not the stored offsets
    followed = captioner_bias(AdaptationStore(tmp_path / "adaptations" / "meme").load(1))
    assert captioner and all(followed[w] == b for w, b in captioner.items())
    assert writer != captioner
    code, out = _cli(tmp_path, monkeypatch, capsys, "show")
    assert code == 0 and "captioner" in out and "writer" in out
    assert any(w in out for w in WINNERS) and "caption writer" in out


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


def test_the_scheduled_adaptation_waits_for_new_evidence_records_what_it_made_and_respects_a_rollback(
        tmp_path, clock, monkeypatch, caplog):
    import logging

    from bot.runtime import jobs
    from bot.service.adapt import AdaptStatus, adaptation_store, rollback, scheduled

    monkeypatch.chdir(tmp_path)
    fresh = make_app(tmp_path / "fresh", clock, OUTBOX, extra="[learning]\nadapt_min_outcomes = 40\n")
    try:
        with caplog.at_level(logging.INFO, logger="bot.service.adapt"):
            assert jobs.job_adapt(fresh.deps) == AdaptStatus.TOO_LITTLE_EVIDENCE  # a new account: nothing learned
        assert "adapt.skipped reason=too_little_evidence new_outcomes=0 min=40" in caplog.text
        assert adaptation_store(fresh.config).versions() == []
    finally:
        fresh.close()
    app = make_app(tmp_path, clock, OUTBOX, extra="[learning]\nadapt_min_outcomes = 40\n")
    try:
        _history(app, clock())
        with caplog.at_level(logging.INFO, logger="bot.service.adapt"):
            made = scheduled(app.deps)
        assert made.status == AdaptStatus.ADAPTED and made.view is not None and made.new_outcomes >= 90
        stored = adaptation_store(app.config).current()
        assert stored is not None and stored.version == 1 and stored.created == clock().isoformat(timespec="seconds")
        assert stored.source["trigger"] == "scheduled" and stored.source["observations"] == made.new_outcomes
        assert any(stored.bias.get(w, 0) > 0 for w in WINNERS) and any(stored.bias.get(w, 0) < 0 for w in LOSERS)
        # the effects it was made from are kept: the caption writer follows their means
        assert all(stored.effects[w][0] > 0 for w in WINNERS) and all(stored.effects[w][0] < 0 for w in LOSERS)
        assert "adapt.done version=1" in caplog.text and "top=" in caplog.text
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="bot.service.adapt"):
            assert scheduled(app.deps).status == AdaptStatus.TOO_LITTLE_EVIDENCE  # the same evidence again
        assert "new_outcomes=0" in caplog.text
        rollback(app.config)  # a person went back: the schedule does not undo it from the same evidence
        assert scheduled(app.deps).status == AdaptStatus.TOO_LITTLE_EVIDENCE
        assert adaptation_store(app.config).current_version() == 0
    finally:
        app.close()
    off = make_app(tmp_path / "off", clock, OUTBOX, extra="[learning]\nadapt = false\n")
    try:
        assert scheduled(off.deps).status == AdaptStatus.OFF
    finally:
        off.close()


def test_the_daemon_plans_the_adaptation_from_the_config_and_names_a_bad_key(tmp_path, clock):
    from datetime import timedelta

    from bot.config import ConfigError
    from bot.config.model import parse_config
    from bot.runtime.daemon import planned_jobs

    app = make_app(tmp_path, clock, OUTBOX, extra="[learning]\nadapt_every = \"3d\"\n")
    try:
        spec = {s.id: s for s in planned_jobs(app)}["adapt"]
        assert spec.job.__name__ == "job_adapt" and spec.trigger.interval == timedelta(days=3)
    finally:
        app.close()
    off = make_app(tmp_path / "off", clock, OUTBOX, extra="[learning]\nadapt = false\n")
    try:
        assert "adapt" not in {s.id for s in planned_jobs(off)}
    finally:
        off.close()
    for bad, key in (("adapt_every = \"soon\"", "learning.adapt_every"), ("adapt_min_outcomes = 0", "learning.adapt_min_outcomes"),
                     ("adapt = \"yes\"", "learning.adapt"), ("adapt_strength = 9", "learning.adapt_strength"),
                     ("adapt_evry = \"7d\"", "learning.adapt_evry")):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            parse_config(BASE + f"[learning]\n{bad}\n" + OUTBOX, source="test.toml", base=tmp_path)


def test_the_daemon_runs_the_scheduled_adaptation(tmp_path, clock, monkeypatch, caplog):
    """A real daemon (APScheduler, threads): the adaptation job, due a minute ago, runs once at start
    and is skipped for want of evidence (a fresh account), with its log line."""
    import logging
    import threading
    import time
    from datetime import UTC, datetime

    from bot.runtime import jobs
    from bot.runtime.daemon import Daemon, planned_jobs
    from bot.service.adapt import AdaptStatus
    from feedback.repository import jobstate

    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path, clock, OUTBOX)
    results: list[object] = []
    done = threading.Event()
    real = jobs.job_adapt

    def spy(deps):  # the real job, watched
        results.append(real(deps))
        done.set()
        return results[-1]

    monkeypatch.setattr(jobs, "job_adapt", spy)
    spec = {s.id: s for s in planned_jobs(app)}["adapt"]
    now = datetime.now(UTC)
    with app.tx() as session:
        jobstate.save(session, "adapt", signature=spec.signature(), next_run_at=now - timedelta(minutes=1),
                      last_run_at=now - timedelta(days=7, minutes=1), now=now)
    daemon = Daemon(app)
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
    try:
        with caplog.at_level(logging.INFO):
            thread.start()
            assert done.wait(20)
            time.sleep(0.3)
    finally:
        daemon.stop()
        thread.join(15)
        app.close()
    assert results == [AdaptStatus.TOO_LITTLE_EVIDENCE]
    assert "adapt.skipped reason=too_little_evidence" in caplog.text and "job=adapt outcome=ok" in caplog.text


def test_a_config_without_a_file_keeps_its_adaptations_in_its_data_folder_not_the_working_one(
        tmp_path, clock, monkeypatch):
    """parse_config(base=...) resolves the database, media and outbox against ``base``: the data folder
    (adaptations, logs, models, templates) is there too, wherever the process happens to run."""
    from bot.core.modelstore import data_dir
    from bot.service.adapt import adaptation_store
    from generator.meme.adapt import Adaptation

    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    site.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    app = make_app(site, clock, OUTBOX)
    try:
        assert app.config.path is None
        adaptation_store(app.config).save(Adaptation({"nap": 1.0}))
        assert (site / "adaptations" / "meme").is_dir() and (site / "memeloop.db").is_file()
        assert app.data_dir() == data_dir(app.config) == site
        assert list(elsewhere.iterdir()) == []
    finally:
        app.close()
