"""The lifecycle through the CLI, as a user drives it: a reject wins over an earlier approve, an edit of
an approved post goes out as edited, cancel unschedules, and a post in flight refuses with its state."""
from __future__ import annotations

import json

import pytest

from tests.bot.publishers.prepared import image_bytes


@pytest.fixture
def cfg(write_config, tmp_path):
    (tmp_path / "img.png").write_bytes(image_bytes())
    return str(write_config())


def _outbox_texts(tmp_path) -> list[str]:
    return [json.loads(p.read_text())["text"] for p in sorted((tmp_path / "outbox" / "posts").glob("*.json"))]


def _post(run_cli, cfg, post_id: int = 1) -> dict:
    rows = json.loads(run_cli("--config", cfg, "posts", "list", "--json").out)
    return next(r for r in rows if r["id"] == post_id)


def test_reject_after_approve_is_never_published(cfg, run_cli, tmp_path):
    """The reproduction of the issue: approve --at now, reject, run --once -> nothing goes out."""
    assert run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "img.png"),
                   "--text", "rejected after approval").code == 0
    assert run_cli("--config", cfg, "approve", "1", "--at", "now").code == 0
    rejected = run_cli("--config", cfg, "reject", "1", "--reason", "no")
    assert rejected.code == 0 and "post 1 cancelled" in rejected.out
    once = run_cli("--config", cfg, "run", "--once")
    assert once.code == 0 and "published=0" in once.out
    assert not (tmp_path / "outbox" / "posts").exists() or _outbox_texts(tmp_path) == []
    assert _post(run_cli, cfg)["state"] == "cancelled"
    history = json.loads(run_cli("--config", cfg, "queue", "show", "1", "--json").out)["history"]
    assert [h["action"] for h in history] == ["add", "approve", "reject"]


def test_edit_of_an_approved_candidate_goes_out_edited(cfg, run_cli, tmp_path):
    run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "img.png"), "--text", "first words")
    run_cli("--config", cfg, "approve", "1", "--at", "now")
    edited = run_cli("--config", cfg, "edit", "1", "--text", "better words", "--actor", "ann")
    assert edited.code == 0 and "still approved" in edited.out
    assert run_cli("--config", cfg, "run", "--once").code == 0
    assert _outbox_texts(tmp_path) == ["better words"]
    detail = json.loads(run_cli("--config", cfg, "queue", "show", "1", "--json").out)
    assert detail["status"] == "posted"
    assert [(h["action"], h["actor"], h["before"], h["after"]) for h in detail["history"]][2] == (
        "edit", "ann", "first words", "better words")


def test_cancel_unschedules_and_the_candidate_can_be_approved_again(cfg, run_cli, tmp_path):
    run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "img.png"), "--text", "not today")
    run_cli("--config", cfg, "approve", "1", "--at", "2030-01-01T09:00")
    cancelled = run_cli("--config", cfg, "cancel", "1", "--reason", "wrong day")
    assert cancelled.code == 0 and "candidate 1 is pending again" in cancelled.out
    assert _post(run_cli, cfg)["state"] == "cancelled"
    again = run_cli("--config", cfg, "approve", "1", "--at", "now")
    assert again.code == 0 and "post 1" in again.out  # the cancelled row is revived, not duplicated
    assert run_cli("--config", cfg, "run", "--once").code == 0
    assert _outbox_texts(tmp_path) == ["not today"]
    assert run_cli("--config", cfg, "cancel", "1").code == 1  # published: nothing to cancel


def test_a_published_post_refuses_reject_edit_and_says_what_to_do(cfg, run_cli, tmp_path):
    run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "img.png"), "--text", "out there")
    run_cli("--config", cfg, "approve", "1", "--at", "now")
    run_cli("--config", cfg, "run", "--once")
    for args in (("reject", "1", "--reason", "late"), ("edit", "1", "--text", "too late")):
        refused = run_cli("--config", cfg, *args)
        assert refused.code == 1 and refused.err.count("\n") == 1
        assert "already published" in refused.err and "delete it on the platform" in refused.err


def test_a_post_being_published_refuses_a_reject_with_its_state(write_config, tmp_path):
    from bot.app import build_app
    from bot.config import load_config
    from feedback import Conflict
    from feedback.repository import posts as posts_repo

    (tmp_path / "img.png").write_bytes(image_bytes())
    app = build_app(load_config(write_config()))
    cid = app.add_candidate(tmp_path / "img.png", "in flight", account=None, actor="t")
    app.approve(cid, actor="t", at=app.clock())
    with app.tx() as session:
        assert posts_repo.claim_due(session, owner="w", now=app.clock(), lease=app.config.publishing.lease)
    with pytest.raises(Conflict, match="being published right now"):
        app.reject(cid, actor="t", reason="stop it")
    with pytest.raises(Conflict, match="being published"):
        app.edit(cid, actor="t", text="new")
    assert app.candidate(cid).status == "approved"
    app.close()


def test_unknown_status_is_a_usage_error(cfg, run_cli):
    out = run_cli("--config", cfg, "queue", "list", "--status", "nonsense")
    assert out.code == 2 and "nonsense" in out.err
    out = run_cli("--config", cfg, "posts", "list", "--state", "nonsense")
    assert out.code == 2 and "nonsense" in out.err
