"""`memeloop accounts import-history`: X over HTTP-level fakes (recorded answer shapes), Instagram
over an autospec of instagrapi's Client, the outbox over a real folder; the App, SQLite and the
repository run for real."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from unittest.mock import create_autospec
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from sqlalchemy import func, select

from bot.config.secrets import Secret
from bot.publishers.errors import PermanentPublishError, RateLimited
from bot.publishers.instagram import InstagramPublisher
from bot.publishers.outbox import OutboxPublisher
from bot.service.history_import import import_history
from feedback.models import ImportedPost, LearningState, Post
from feedback.repository import history as history_repo
from tests.bot.publishers import fakes
from tests.bot.publishers.apps import BASE, INSTAGRAM, OUTBOX, X, add_candidates, make_app

TIMELINE = f"{fakes.X_API}/2/users/4242/tweets"
T0 = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


def _tweets(ids: list[int], *, next_token: str | None) -> dict:
    page = fakes.load("x/users_tweets_page.json")
    template = page["data"][0]
    data = []
    for i in ids:
        tweet = copy.deepcopy(template)
        tweet |= {"id": str(i), "edit_history_tweet_ids": [str(i)], "text": f"old tweet number {i}",
                  "created_at": (T0 + timedelta(hours=i % 1000)).isoformat().replace("+00:00", ".000Z")}
        tweet["public_metrics"]["like_count"] = i % 50
        data.append(tweet)
    page["data"] = data
    page["meta"] = {"result_count": len(ids)} | ({"next_token": next_token} if next_token else {})
    return page


@pytest.fixture
def xapp(tmp_path, clock, monkeypatch):
    for key, value in fakes.X_SENTINELS.items():
        monkeypatch.setenv(f"MEMELOOP_X_{key.upper()}", value)
    app = make_app(tmp_path, clock, X)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{fakes.X_API}/2/users/me", json={"data": {"id": "4242", "username": "memebot"}})
        yield app, rsps
    app.close()


def _query(call) -> dict[str, list[str]]:
    return parse_qs(urlparse(call.request.url).query)


def _imported(app) -> list[str]:
    with app.tx() as s:
        return sorted(s.scalars(select(ImportedPost.remote_id)))


def test_x_pages_through_the_timeline_with_public_metrics(xapp):
    app, rsps = xapp
    rsps.add(responses.GET, TIMELINE, json=_tweets([1005, 1004, 1003], next_token="tok2"),
             headers=fakes.rate_headers(900, 898))
    rsps.add(responses.GET, TIMELINE, json=_tweets([1002, 1001], next_token=None), headers=fakes.rate_headers(900, 897))
    result = import_history(app.deps, "xacct", page_size=3)
    assert (result.read, result.added, result.finished) == (5, 5, True)
    first, second = [_query(c) for c in rsps.calls if c.request.url.startswith(TIMELINE)]
    assert set(first["tweet.fields"][0].split(",")) >= {"public_metrics", "created_at"}
    assert first["exclude"] == ["retweets,replies"] and "pagination_token" not in first
    assert second["pagination_token"] == ["tok2"]
    with app.tx() as s:
        row = s.scalar(select(ImportedPost).where(ImportedPost.remote_id == "1004"))
        assert (row.likes, row.reposts, row.replies, row.quotes, row.impressions) == (4, 4, 2, 1, 1800)
        assert row.text == "old tweet number 1004" and row.media_count == 1
        assert row.url == "https://x.com/memebot/status/1004"
        ledger = history_repo.progress(s, app.account_ids["xacct"])
        assert ledger is not None
        assert ledger.cursor is None and ledger.imported == 5
    assert app.accounts()[0].imported == 5


def test_a_second_run_adds_nothing_and_reads_only_what_is_newer(xapp):
    app, rsps = xapp
    rsps.add(responses.GET, TIMELINE, json=_tweets([1002, 1001], next_token=None))
    rsps.add(responses.GET, TIMELINE, json=_tweets([1003, 1002], next_token=None))
    assert import_history(app.deps, "xacct").added == 2
    again = import_history(app.deps, "xacct")
    assert (again.added, again.already) == (1, 1)
    calls = [_query(c) for c in rsps.calls if c.request.url.startswith(TIMELINE)]
    assert "start_time" in calls[1]  # from where the finished pass reached, not the whole history again
    assert _imported(app) == ["1001", "1002", "1003"]


def test_limit_stops_and_the_next_run_resumes_without_a_gap(xapp):
    app, rsps = xapp
    rsps.add(responses.GET, TIMELINE, json=_tweets([1006, 1005, 1004, 1003, 1002], next_token="tok2"))
    rsps.add(responses.GET, TIMELINE, json=_tweets([1004, 1003, 1002, 1001], next_token=None))
    first = import_history(app.deps, "xacct", limit=2)
    assert (first.added, first.finished) == (2, False) and "run again" in first.message
    rest = import_history(app.deps, "xacct")
    second = [_query(c) for c in rsps.calls if c.request.url.startswith(TIMELINE)][1]
    assert second["until_id"] == ["1005"]  # the page was cut at the limit: continue below its last tweet
    assert rest.finished and rest.added == 4 and _imported(app) == [str(i) for i in range(1001, 1007)]


def test_rate_limit_stops_stores_the_ledger_and_resumes_at_the_cursor(xapp, clock):
    app, rsps = xapp
    reset = int((clock() + timedelta(minutes=12)).timestamp())
    rsps.add(responses.GET, TIMELINE, json=_tweets([1004, 1003], next_token="tok2"), headers=fakes.rate_headers(900, 1))
    rsps.add(responses.GET, TIMELINE, status=429, json=fakes.load("x/problem_too_many_requests.json"),
             headers=fakes.rate_headers(900, 0, reset))
    result = import_history(app.deps, "xacct", page_size=2)
    assert (result.added, result.finished) == (2, False)
    assert result.resume_at == datetime.fromtimestamp(reset, UTC) and "run again after" in result.message
    # before the reset the ledger alone says no: nothing is asked of X
    before = len(rsps.calls)
    blocked = import_history(app.deps, "xacct")
    assert blocked.resume_at == datetime.fromtimestamp(reset, UTC) and len(rsps.calls) == before
    clock.advance(minutes=13)
    rsps.add(responses.GET, TIMELINE, json=_tweets([1002, 1001], next_token=None), headers=fakes.rate_headers(900, 899))
    done = import_history(app.deps, "xacct", page_size=2)
    assert done.finished and done.added == 2
    assert _query([c for c in rsps.calls if c.request.url.startswith(TIMELINE)][-1])["pagination_token"] == ["tok2"]
    assert _imported(app) == ["1001", "1002", "1003", "1004"]


def test_memeloops_own_posts_are_never_imported(xapp, clock):
    app, rsps = xapp
    cid = add_candidates(app, ["our own meme"], account="xacct", status="approved")[0]
    with app.tx() as s:
        s.add(Post(candidate_id=cid, account_id=app.account_ids["xacct"], state="published", scheduled_at=clock(),
                   next_attempt_at=clock(), marker="m-1", remote_id="1002", published_at=clock(),
                   created_at=clock(), updated_at=clock()))
        s.add(LearningState(name="ranker", fingerprint="f", state=b"", updated_at=clock()))
    rsps.add(responses.GET, TIMELINE, json=_tweets([1003, 1002, 1001], next_token=None))
    result = import_history(app.deps, "xacct")
    assert (result.added, result.skipped_own) == (2, 1)
    assert _imported(app) == ["1001", "1003"]
    with app.tx() as s:  # new history: the ranker's state is rebuilt with it at the next load
        assert s.scalar(select(func.count()).select_from(LearningState)) == 0


def test_x_history_429_is_rate_limited_by_the_publisher(xapp, clock):
    app, rsps = xapp
    rsps.add(responses.GET, TIMELINE, status=429, json={"title": "Too Many Requests"},
             headers=fakes.rate_headers(900, 0, int(clock().timestamp()) + 60))
    with pytest.raises(RateLimited):
        app.publisher("xacct").fetch_history(since=None, cursor=None, limit=10)  # type: ignore[attr-defined]


# -- Instagram: autospec of instagrapi's Client --------------------------------------------------

def _media(pk: int, *, likes: int = 7, hidden: bool = False, pinned: bool = False, age_days: int = 0) -> dict:
    item = fakes.load("instagram/media_item.json", CAPTION=f"old photo {pk}")
    item |= {"pk": str(pk), "id": f"{pk}_31337", "code": f"C{pk}", "like_count": likes,
             "taken_at": int((T0 - timedelta(days=age_days)).timestamp()), "like_and_view_counts_disabled": hidden}
    if pinned:
        item["timeline_pinned_user_ids"] = [31337]
    return item


def test_instagram_reads_pages_hidden_likes_are_unknown_and_pinned_posts_do_not_stop_since(tmp_path, clock):
    from instagrapi import Client

    cl = create_autospec(Client, instance=True)
    cl.user_id, cl.rank_token = "31337", "rt"
    pages = [{"items": [_media(9, pinned=True, age_days=400), _media(8, hidden=True, likes=-1), _media(7)],
              "more_available": True, "next_max_id": "7_31337", "status": "ok"},
             {"items": [_media(6, age_days=2), _media(5, age_days=30)], "more_available": False, "status": "ok"}]
    cl.private_request.side_effect = pages
    app = make_app(tmp_path, clock, INSTAGRAM)
    app.publishers["igacct"] = InstagramPublisher(account="igacct", username="memebot", password=Secret("pw"),
                                                  session_file=tmp_path / "s.json", clock=clock,
                                                  client_factory=lambda: cl)
    result = import_history(app.deps, "igacct", since=T0 - timedelta(days=10))
    assert result.finished and _imported(app) == ["6", "7", "8"]  # 9 (pinned) and 5 are older than --since
    first, second = cl.private_request.call_args_list
    assert first.args[0] == "feed/user/31337/" and "max_id" not in first.kwargs["params"]
    assert second.kwargs["params"]["max_id"] == "7_31337"
    with app.tx() as s:
        rows = {r.remote_id: r for r in s.scalars(select(ImportedPost))}
    assert rows["8"].likes is None and rows["7"].likes == 7 and rows["7"].replies == 2
    assert rows["7"].url == "https://www.instagram.com/p/C7/"
    app.close()


# -- outbox: a real folder ---------------------------------------------------------------------

def _record(folder, marker: str, text: str, at: datetime) -> None:
    (folder / "posts").mkdir(parents=True, exist_ok=True)
    (folder / "posts" / f"{marker}.json").write_text(json.dumps({
        "marker": marker, "remote_id": marker, "text": text, "media": None, "template": None,
        "published_at": at.isoformat(), "account": "demo"}))


def test_outbox_history_is_its_posts_folder_paged_without_gaps(tmp_path, clock):
    folder = tmp_path / "outbox"
    for i in range(7):
        _record(folder, f"old-{i}", f"hand made post {i} #fun", T0 + timedelta(hours=i))
    pub = OutboxPublisher(account="demo", path=folder, clock=clock)
    seen, cursor = [], None
    while True:
        page = pub.fetch_history(since=None, cursor=cursor, limit=3)
        seen += [i.remote_id for i in page.items]
        assert len(page.items) <= 3
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"old-{i}" for i in reversed(range(7))]
    assert all(i.likes is not None for i in pub.fetch_history(since=None, cursor=None, limit=10).items)
    app = make_app(tmp_path, clock, OUTBOX)
    assert import_history(app.deps, "demo", limit=4).added == 4
    assert import_history(app.deps, "demo").added == 3 and import_history(app.deps, "demo").added == 0
    app.close()


def test_cli_import_history_and_stats_imported(tmp_path, clock, monkeypatch, capsys):
    from bot.cli import main

    folder = tmp_path / "outbox"
    for i in range(3):
        _record(folder, f"old-{i}", f"hand made post {i}", T0 + timedelta(days=i))
    make_app(tmp_path, clock, OUTBOX).close()  # the database `memeloop init` would make
    (tmp_path / "config.toml").write_text(BASE + OUTBOX)
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "config.toml", "accounts", "import-history", "demo", "--since", "2025-10-02T00:00"]) == 0
    assert "2 posts added" in capsys.readouterr().out
    assert main(["--config", "config.toml", "stats", "imported", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["account"] == "demo" and rows[0]["imported"] == 2 and rows[0]["state"] == "done"
    assert rows[0]["on_template"] == 0  # text-only posts: no picture, no template
    assert main(["--config", "config.toml", "accounts", "import-history", "nobody"]) == 2
    err = capsys.readouterr().err
    assert "unknown account 'nobody'" in err and "Traceback" not in err


@pytest.mark.parametrize(("since", "added"), [
    ("2025-10-02T07:00", 1),  # 07:00 in New York is 11:00 UTC: after the 09:00 UTC post of Oct 2
    ("2025-10-02", 2),  # midnight in New York: Oct 2 and Oct 3
    ("2025-10-02T07:00+00:00", 2),  # an offset is kept: 07:00 UTC, before the post of Oct 2
])
def test_cli_import_history_reads_since_in_the_accounts_time_zone(tmp_path, clock, monkeypatch, capsys, since,
                                                                   added):
    from bot.cli import main

    for i in range(3):
        _record(tmp_path / "outbox", f"old-{i}", f"hand made post {i}", T0 + timedelta(days=i))  # 09:00 UTC
    make_app(tmp_path, clock, OUTBOX).close()
    (tmp_path / "config.toml").write_text(BASE + OUTBOX.replace('platform = "outbox"',
                                                                'platform = "outbox"\ntimezone = "America/New_York"'))
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "config.toml", "accounts", "import-history", "demo", "--since", since]) == 0
    assert f"{added} posts added" in capsys.readouterr().out


@pytest.mark.parametrize(("since", "says"), [
    ("2025-13-45", "is not a time"),
    ("yesterday", "is not a time"),
    ("2026-03-08T02:30", "does not exist in America/New_York"),  # the clocks skip it
    ("1999-12-31", "out of range"),
])
def test_cli_import_history_refuses_a_bad_since_naming_the_option(tmp_path, clock, monkeypatch, capsys, since, says):
    from bot.cli import main

    make_app(tmp_path, clock, OUTBOX).close()
    (tmp_path / "config.toml").write_text(BASE + OUTBOX.replace('platform = "outbox"',
                                                                'platform = "outbox"\ntimezone = "America/New_York"'))
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "config.toml", "accounts", "import-history", "demo", "--since", since]) == 2
    err = capsys.readouterr().err
    assert "'--since'" in err and says in err and "Traceback" not in err


# -- the template of an imported post's picture --------------------------------------------------

def _jpeg(image, width: int = 420) -> bytes:
    import io

    from PIL import Image

    image = image.convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def _cat_meme() -> bytes:
    """The shipped "cat" template with a caption, as a person would have posted it."""
    from generator.annotate import render_meme
    from generator.imageio import open_image
    from generator.meme.templates import DEMO_DATA_DIR, load_template

    cat = load_template(DEMO_DATA_DIR / "cat")
    return _jpeg(render_meme(open_image(cat.image_path), "me when the vet says no more treats", list(cat.boxes)))


def _photo() -> bytes:
    """A picture that is no template (a scikit-image photo the library does not hold)."""
    import numpy as np
    import skimage.data
    from PIL import Image

    return _jpeg(Image.fromarray(np.asarray(skimage.data.immunohistochemistry())))


def _templates(app) -> dict[str, tuple[str | None, float | None]]:
    with app.tx() as s:
        return {r.remote_id: (r.template, r.template_score) for r in s.scalars(select(ImportedPost))}



def _outbox_posts(folder, meme_text):
    """Four outbox posts: a meme on a library template, a photo, text only and a broken picture."""
    for marker, text, picture in (("old-0", meme_text, _cat_meme()), ("old-1", "lab day", _photo()),
                                  ("old-2", "just words", None), ("old-3", "broken upload", b"\x89PNG not really")):
        _record(folder, marker, text, T0 + timedelta(hours=int(marker[-1])))
        if picture is not None:
            record = json.loads((folder / "posts" / f"{marker}.json").read_text())
            (folder / "posts" / f"{marker}.jpg").write_bytes(picture)
            (folder / "posts" / f"{marker}.json").write_text(json.dumps(record | {"media": f"posts/{marker}.jpg"}))


def test_outbox_pictures_get_their_template_recognised_and_a_photo_gets_none(tmp_path, clock):
    from feedback.learning import IMPORTED, Settings, imported_outcomes

    _outbox_posts(tmp_path / "outbox", "me at the vet #cats")
    app = make_app(tmp_path, clock, OUTBOX)
    result = import_history(app.deps, "demo")
    assert (result.added, result.templates) == (4, 1) and "1 on a recognised template" in result.message
    found = _templates(app)
    assert found["old-0"][0] == "cat" and found["old-0"][1] is not None and found["old-0"][1] >= 0.6
    assert found["old-1"][0] is None and found["old-1"][1] is not None  # compared, and no template is like it
    assert found["old-2"] == (None, None) and found["old-3"] == (None, None)  # no picture / unreadable: unknown
    with app.tx() as s:  # the ranker's template feature of that outcome is the recognised template
        readings = history_repo.readings(s)
        assert history_repo.summary(s)[0]["on_template"] == 1  # the dashboard's and `stats imported`'s count
    outcomes = imported_outcomes(readings, Settings(weights={"likes": 1.0}, engagement_age=timedelta(hours=24),
                                                    baseline_posts=30))
    assert {o.features.template for o in outcomes} == {"cat", None}
    assert all(o.features.generator == IMPORTED for o in outcomes)
    app.close()


def test_outbox_media_outside_its_folder_is_never_read(tmp_path, clock):
    pub = OutboxPublisher(account="demo", path=tmp_path / "outbox", clock=clock)
    (tmp_path / "secret.jpg").write_bytes(_photo())
    with pytest.raises(PermanentPublishError, match="not a file of this outbox"):
        pub.fetch_media((tmp_path / "outbox" / ".." / "secret.jpg").as_uri())


def test_instagram_pictures_are_read_from_the_media_host_and_recognised(tmp_path, clock):
    from instagrapi import Client

    cl = create_autospec(Client, instance=True)
    cl.user_id, cl.rank_token = "31337", "rt"
    items = [_media(3), _media(2), _media(1)]
    for item in items:
        item["image_versions2"]["candidates"] = [
            {"width": 1080, "height": 1080, "url": f"https://scontent.cdninstagram.com/v/t51/{item['pk']}_1080.jpg"},
            {"width": 480, "height": 480, "url": f"https://scontent.cdninstagram.com/v/t51/{item['pk']}_480.jpg"}]
    cl.private_request.side_effect = [{"items": items, "more_available": False, "status": "ok"}]
    app = make_app(tmp_path, clock, INSTAGRAM)
    app.publishers["igacct"] = InstagramPublisher(account="igacct", username="memebot", password=Secret("pw"),
                                                  session_file=tmp_path / "s.json", clock=clock,
                                                  client_factory=lambda: cl)
    cdn = "https://scontent.cdninstagram.com/v/t51"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{cdn}/3_480.jpg", body=_cat_meme(), content_type="image/jpeg")
        rsps.add(responses.GET, f"{cdn}/2_480.jpg", body=_photo(), content_type="image/jpeg")
        rsps.add(responses.GET, f"{cdn}/1_480.jpg", status=404)
        result = import_history(app.deps, "igacct")
        assert [c.request.url for c in rsps.calls] == [f"{cdn}/{pk}_480.jpg" for pk in (3, 2, 1)]  # the small size
    assert result.finished and (result.added, result.templates) == (3, 1)
    found = _templates(app)
    assert found["3"][0] == "cat" and found["2"][0] is None and found["1"] == (None, None)
    app.close()


def test_x_pictures_come_from_the_media_expansion_and_are_recognised(xapp):
    app, rsps = xapp
    page = fakes.load("x/users_tweets_page_media.json")  # a photo tweet (a cat meme) and a video (its cover)
    photo, cover = (m.get("url") or m["preview_image_url"] for m in page["includes"]["media"])
    rsps.add(responses.GET, TIMELINE, json=page)
    rsps.add(responses.GET, photo, body=_cat_meme(), content_type="image/jpeg")
    rsps.add(responses.GET, cover, body=_photo(), content_type="image/jpeg")
    assert import_history(app.deps, "xacct").templates == 1
    asked = _query([c for c in rsps.calls if c.request.url.startswith(TIMELINE)][0])
    assert asked["expansions"] == ["attachments.media_keys"] and "url" in asked["media.fields"][0].split(",")
    found = _templates(app)
    assert found["1850000000000000005"][0] == "cat"
    assert found["1850000000000000004"][0] is None and found["1850000000000000004"][1] is not None
    # a second run reads no picture again: the posts are known
    rsps.add(responses.GET, TIMELINE, json=page)
    before = len([c for c in rsps.calls if "pbs.twimg.com" in c.request.url])
    assert import_history(app.deps, "xacct").added == 0
    assert len([c for c in rsps.calls if "pbs.twimg.com" in c.request.url]) == before


def test_rescan_fills_the_template_of_posts_imported_before_pictures_were_compared(tmp_path, clock, monkeypatch,
                                                                                    capsys):
    """Posts imported before migration r25_warm keep template and score NULL; --rescan compares their
    pictures once, and changes nothing else."""
    from sqlalchemy import update

    from bot.cli import main

    _outbox_posts(tmp_path / "outbox", "me at the vet")
    app = make_app(tmp_path, clock, OUTBOX)
    assert import_history(app.deps, "demo").added == 4
    with app.tx() as s:  # as the rows stood before r25_warm: nothing compared
        s.execute(update(ImportedPost).values(template=None, template_score=None))
        s.execute(update(ImportedPost).where(ImportedPost.remote_id == "old-2").values(likes=41))
        before = {r.remote_id: (r.text, r.likes, r.read_at, r.imported_at) for r in s.scalars(select(ImportedPost))}
    app.close()
    (tmp_path / "config.toml").write_text(BASE + OUTBOX)
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "config.toml", "accounts", "import-history", "demo"]) == 0  # reads only newer posts
    assert "compared" not in capsys.readouterr().out
    assert main(["--config", "config.toml", "accounts", "import-history", "demo", "--rescan"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "0 posts added" in out and "the pictures of 2 posts stored before were compared" in out
    assert "(1 on a recognised template, now filled in)" in out
    app = make_app(tmp_path, clock, OUTBOX)
    found = _templates(app)
    assert found["old-0"][0] == "cat" and found["old-1"][0] is None and found["old-1"][1] is not None
    assert found["old-2"] == (None, None) and found["old-3"] == (None, None)  # no picture / unreadable: unknown
    with app.tx() as s:
        after = {r.remote_id: (r.text, r.likes, r.read_at, r.imported_at) for r in s.scalars(select(ImportedPost))}
        assert s.scalar(select(func.count()).select_from(LearningState)) == 0  # rebuilt with the templates
    assert after == before  # nothing else of a stored post changed
    again = import_history(app.deps, "demo", rescan=True)
    assert (again.added, again.compared, again.filled) == (0, 0, 0) and _templates(app) == found  # idempotent
    app.close()
    assert main(["--config", "config.toml", "accounts", "import-history", "--help"]) == 0
    assert "--rescan" in capsys.readouterr().out


def _styles(app) -> dict[str, tuple[str | None, str | None]]:
    with app.tx() as s:
        return {r.remote_id: (r.tone, r.audience) for r in s.scalars(select(ImportedPost))}


def test_captions_are_read_for_tone_and_audience_and_older_posts_get_theirs(tmp_path, clock):
    """A new post's caption is stored with the tone and audience it reads as (the writer's labels), the
    ranker's features of that outcome carry them, and posts stored before migration r25_style (NULL)
    are read at the next run, which rebuilds the ranker's state once."""
    from sqlalchemy import update

    from feedback.learning import Settings, imported_outcomes

    _outbox_posts(tmp_path / "outbox", "Our team kept talking about this one over lunch. #smallbusiness")
    app = make_app(tmp_path, clock, OUTBOX)
    assert import_history(app.deps, "demo").styled == 0
    first = _styles(app)
    assert first["old-0"][1] == "promotional" and first["old-0"][0] in {"funny", "informative", "inspirational"}
    with app.tx() as s:
        readings = history_repo.readings(s)
    outcomes = imported_outcomes(readings, Settings(weights={"likes": 1.0}, engagement_age=timedelta(hours=24),
                                                    baseline_posts=30))
    assert {(o.features.tone, o.features.audience) for o in outcomes} == set(first.values())
    with app.tx() as s:  # as the rows stood before r25_style, with a learning state built without styles
        s.execute(update(ImportedPost).values(tone=None, audience=None))
        s.add(LearningState(name="ranker", fingerprint="x", state=b"", observations=0, last_review_id=0,
                            updated_at=clock()))
    result = import_history(app.deps, "demo")
    assert result.added == 0 and result.styled == sum(1 for v in first.values() if v != (None, None)) >= 1
    assert "were read for their tone and audience" in result.message
    assert _styles(app) == first
    with app.tx() as s:
        assert s.scalar(select(func.count()).select_from(LearningState)) == 0
    assert import_history(app.deps, "demo").styled == 0  # nothing left to read
    app.close()
