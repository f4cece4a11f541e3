"""The warm generate worker: protocol, limits, and real runs with the shipped demo models."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from bot.runtime.worker import Limits, WorkerClient, WorkerError, parse_request, serve

CONFIG = """
[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"
[[accounts]]
name = "demo"
platform = "outbox"
"""


def test_parse_request_reads_a_line_and_names_what_is_wrong():
    req, now = parse_request('{"account": "demo", "count": 3, "seed": 9, "generation_id": 4}', "meme")
    assert (req.account, req.generator, req.count, req.seed, req.generation_id, now) == ("demo", "meme", 3, 9, 4, None)
    with pytest.raises(ValueError, match="not JSON"):
        parse_request("{nope", "meme")
    with pytest.raises(ValueError, match="account"):
        parse_request('{"count": 3}', "meme")
    with pytest.raises(ValueError, match="bad request field"):
        parse_request('{"account": "demo", "count": "many"}', "meme")


def test_limits_retire_after_runs_or_memory():
    limits = Limits(max_runs=3, max_rss_mb=500)
    assert not limits.retire(2, 499) and limits.retire(3, 10) and limits.retire(1, 500)


@pytest.fixture
def app(tmp_path):
    from bot.app import build_app
    from bot.config import load_config
    from feedback import migrate

    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    app = build_app(load_config(path))
    migrate.upgrade(app.engine)
    yield app
    app.close()


@pytest.mark.slow
def test_serve_answers_every_line_once_and_retires_at_its_limit(app):
    from feedback.models import Candidate

    lines = ['{"account": "demo", "count": 4, "seed": 1}', "not json", '{"account": "nobody", "count": 2}',
             '{"account": "demo", "count": 4, "seed": 2, "now": "2026-01-05T12:00:00+00:00"}',
             '{"account": "demo", "count": 4, "seed": 3}']
    out = io.StringIO()
    # serve() runs in this test process, whose RSS holds whatever earlier tests loaded (TF, torch):
    # only the run count may retire it here (the RSS limit has its own test above)
    runs = serve(app, "meme", lines, out, Limits(max_runs=4, max_rss_mb=1e9))
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert runs == 4 and answers[0]["ready"] and answers[0]["generator"] == "meme"
    assert [a["ok"] for a in answers[1:]] == [True, False, False, True]
    assert "not JSON" in answers[2]["error"] and "nobody" in answers[3]["error"]
    assert answers[-1]["retire"] and not answers[1]["retire"]
    with app.tx() as s:
        stored = s.query(Candidate).count()
    assert stored == answers[1]["stored"] + answers[4]["stored"] > 0


@pytest.mark.slow
def test_client_runs_requests_in_one_process_and_restarts_a_retired_worker(tmp_path, app):
    client = WorkerClient(str(app.config.path), "meme", limits=Limits(max_runs=2), stderr=subprocess.DEVNULL)
    try:
        first = client.run({"account": "demo", "count": 2, "seed": 1}, timeout_s=300)
        pid = client.ready["pid"]
        second = client.run({"account": "demo", "count": 2, "seed": 2}, timeout_s=300)
        assert first["ok"] and second["ok"] and second["retire"] and client.proc is None
        third = client.run({"account": "demo", "count": 2, "seed": 3}, timeout_s=300)
        assert third["ok"] and client.ready["pid"] != pid and client.peak_rss_mb > 0
    finally:
        client.close()


def test_client_kills_a_worker_that_does_not_answer(tmp_path):
    client = WorkerClient(str(tmp_path / "missing.toml"), "meme")
    client.argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(WorkerError, match="no answer within"):
        client.run({"account": "demo"}, timeout_s=1)
    assert client.proc is None
