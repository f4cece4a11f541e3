"""Instagram specifics: the session is re-used and kept private, the SDK is slowed down, hidden
likes are unknown, and "slow down" signals pause instead of retrying."""
from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest
from instagrapi import exceptions as ig

from bot.publishers.base import ChallengeRequired
from bot.publishers.instagram import InstagramPublisher
from bot.secrets import Secret
from tests.bot.publishers.fakes import FakeInstagramClient, FakeMedia
from tests.bot.publishers.prepared import prepared

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _pub(tmp_path, client: FakeInstagramClient) -> InstagramPublisher:
    return InstagramPublisher(account="igacct", username="memebot", password=Secret("hunter2-secret"),
                              session_file=tmp_path / "sessions" / "ig.json", delay_range=(2.0, 6.0),
                              clock=lambda: NOW, client_factory=lambda: client)


def test_session_is_loaded_before_login_and_saved_0600(tmp_path):
    first = FakeInstagramClient(clock=lambda: NOW)
    _pub(tmp_path, first).publish(prepared("a caption"), marker="ml-1")
    session = tmp_path / "sessions" / "ig.json"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert first.calls[:2] == ["login", "dump_settings"] and first.delay_range == [2.0, 6.0]
    second = FakeInstagramClient(clock=lambda: NOW)
    _pub(tmp_path, second).find_recent(since=NOW, limit=5)
    assert second.calls[:3] == ["load_settings", "login", "dump_settings"]
    assert second.settings["uuids"] == {"phone_id": "fake"}  # the same device comes back
    assert "hunter2" not in session.read_text()


def test_unreadable_session_file_falls_back_to_login(tmp_path):
    (tmp_path / "sessions").mkdir()
    (tmp_path / "sessions" / "ig.json").write_text("{not json")
    client = FakeInstagramClient(clock=lambda: NOW)
    _pub(tmp_path, client).find_recent(since=NOW, limit=5)
    assert "login" in client.calls


def test_hidden_likes_are_unknown_not_minus_one(tmp_path):
    client = FakeInstagramClient(clock=lambda: NOW, medias=[
        FakeMedia(pk="1", code="A", taken_at=NOW, caption_text="x", like_count=-1, comment_count=4),
        FakeMedia(pk="2", code="B", taken_at=NOW, caption_text="y", like_count=12)])
    readings = _pub(tmp_path, client).fetch_metrics(["1", "2"], now=NOW)
    assert [(r.likes, r.comments) for r in readings] == [(None, 4), (12, 1)]
    assert readings[0].raw["like_count"] == -1


@pytest.mark.parametrize("exc", [ig.PleaseWaitFewMinutes("Please wait a few minutes before you try again."),
                                 ig.ClientThrottledError("429")])
def test_please_wait_pauses_for_a_while_without_retrying(tmp_path, exc):
    client = FakeInstagramClient(clock=lambda: NOW, fail={"photo_upload": exc})
    with pytest.raises(ChallengeRequired) as info:
        _pub(tmp_path, client).publish(prepared(), marker="ml-1")
    assert info.value.pause_until == NOW + timedelta(hours=1)
    assert client.calls.count("photo_upload") == 1


@pytest.mark.parametrize("exc", [ig.FeedbackRequired(message="feedback_required",
                                                     feedback_message="This action was blocked."),
                                 ig.LoginRequired("login_required")])
def test_feedback_required_and_logged_out_need_the_admin(tmp_path, exc):
    client = FakeInstagramClient(clock=lambda: NOW, fail={"photo_upload": exc})
    with pytest.raises(ChallengeRequired) as info:
        _pub(tmp_path, client).publish(prepared(), marker="ml-1")
    assert info.value.pause_until is None
    assert "memeloop accounts resume igacct" in str(info.value)
    if isinstance(exc, ig.FeedbackRequired):
        assert "This action was blocked." in str(info.value)
