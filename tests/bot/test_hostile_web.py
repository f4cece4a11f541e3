"""The web admin as a hostile logged-in or anonymous user tries it (issue 30): no server path through
a form, no existence oracle, no lockout of the real user, no 500 from an odd date, and the smaller
gaps (cookie flags, Host/Origin checks, no off-site redirect). Real App, real SQLite."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from feedback.models import Candidate
from tests.bot.web_helpers import make_site, picture


@pytest.fixture
def site(write_config, tmp_path, clock):
    s = make_site(write_config, tmp_path, clock, ("seeded one", "seeded two", "seeded three"))
    yield s
    s.app.close()


def _count(site) -> int:
    with site.app.tx() as session:
        return int(session.scalar(select(func.count()).select_from(Candidate)) or 0)


def _message(html: str) -> str:
    found = re.findall(r'class="message [^"]*"[^>]*>([^<]*)<', html)
    return found[0] if found else html[:200]


def test_finding_3_story_template_is_a_library_choice_never_a_path(site, tmp_path):
    readable_image = picture(tmp_path / "server-side.png", "red")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    before, media = _count(site), sorted((site.app.config.storage.media_dir).rglob("*"))
    answers = {}
    for value in (readable_image, "/etc/shadow", "/etc/passwd", "/no/such/file.png", str(fifo), "../../etc/hosts"):
        got = site.post("/create/story", {"template": value, "parts": "2"}, fragment=False)
        assert got.status_code == 400, (value, got.status_code)
        answers[value] = _message(got.text).replace(repr(value[:64]).replace("'", "&#39;"), "VALUE")
    short = {answers[v] for v in answers if len(v) <= 64}
    assert len(short) == 1 and "not a template in the library" in short.pop(), answers
    for answer in answers.values():  # the same refusal whatever exists on the server
        assert not re.search(r"no such|not an image|regular file|exist|denied", answer), answer
    assert _count(site) == before and sorted(site.app.config.storage.media_dir.rglob("*")) == media


def test_finding_3_memeloop_story_never_opens_a_fifo(write_config, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cfg = write_config()
    done = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "story", str(fifo)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    assert done.returncode == 2, done.stderr
    assert "not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_finding_7_failed_logins_for_a_name_do_not_lock_out_the_real_user(site):
    from starlette.testclient import TestClient

    from bot.web.auth import LoginLimiter
    from bot.web.server import create_web
    from tests.bot.web_helpers import login

    times = [1000.0]
    limiter = LoginLimiter(attempts=5, window_s=900, base_wait_s=30, name_delay_s=0.05, clock=lambda: times[0])
    web = create_web(site.app, limiter=limiter)
    attacker = TestClient(web, client=("203.0.113.7", 40000))
    for _ in range(5):
        assert login(attacker, password="wrong guess").status_code == 401
    blocked = login(attacker, password="still guessing")
    assert blocked.status_code == 429 and "try again in 30 s" in blocked.text
    real_user = TestClient(web, client=("198.51.100.2", 40001))  # another address: unaffected
    assert login(real_user).status_code == 303
    assert real_user.get("/board").status_code == 200
    assert 0 < limiter.delay_s("ann") <= 0.05  # the attacked name is only slowed, from every address
    times[0] += 31  # the attacker's wait doubles with each failure after it
    assert login(attacker, password="guess six").status_code == 401
    assert "try again in 60 s" in login(attacker, password="guess seven").text
    times[0] += 61
    assert login(attacker).status_code == 303  # the right password from there works after the wait
    assert limiter.wait_s("ip:203.0.113.7") == 0  # and clears that address's record


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01"])
def test_finding_8_schedule_at_the_ends_of_the_calendar_is_a_400_not_a_500(site, start):
    got = site.client.get(f"/schedule?start={start}")
    assert got.status_code == 400 and "start" in _message(got.text) and "out of range" in _message(got.text)


def test_finding_8_truncated_meme_weights_are_one_line_not_a_traceback(write_config, tmp_path):
    import shutil

    from generator.meme.bundle import DEMO_BUNDLE_DIR

    bundle = tmp_path / "bundle"
    shutil.copytree(DEMO_BUNDLE_DIR, bundle)
    weights = bundle / "weights.npz"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    cfg = write_config('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n'
                       f'[generator.meme]\nbundle = "{bundle}"\n'
                       '[[accounts]]\nname = "demo"\nplatform = "outbox"\n'
                       'generate = { generator = "meme", every = "7d" }\n')
    done = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "generate", "--account", "demo",
                           "--count", "1"], capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert f"{weights}: unreadable decoder weights" in done.stderr


# -- finding 10: the smaller gaps of the web admin ---------------------------------------------------

def test_finding_10_cookie_is_secure_beyond_loopback(site):
    from starlette.testclient import TestClient

    from bot.web.server import create_web

    local = TestClient(create_web(site.app)).get("/login").headers["set-cookie"]
    public = TestClient(create_web(site.app, secure_cookies=True)).get("/login").headers["set-cookie"]
    assert "secure" not in local.lower() and "secure" in public.lower() and "httponly" in public.lower()


def test_finding_10_loopback_server_refuses_other_host_names(site):
    from starlette.testclient import TestClient

    from bot.web.server import create_web

    web = create_web(site.app, allowed_hosts=("127.0.0.1", "localhost", "[::1]"))
    rebound = TestClient(web, base_url="http://attacker.example:8080").get("/login")
    assert rebound.status_code == 421 and "attacker.example" in rebound.text
    for host in ("127.0.0.1:8080", "localhost", "[::1]:8080"):
        assert TestClient(web, base_url=f"http://{host}").get("/login").status_code == 200, host


def test_finding_10_cross_site_post_is_refused(site):
    cid = site.ids[0]
    form = {"csrf": site.csrf(), "version": str(site.candidate(cid).version)}
    refused = site.client.post(f"/board/{cid}/approve", data=form, headers={"Origin": "https://evil.example"},
                               follow_redirects=False)
    assert refused.status_code == 403 and "another site" in refused.text
    assert site.candidate(cid).status == "pending"


def test_finding_10_a_form_without_javascript_never_redirects_off_site(site):
    cid = site.ids[0]
    form = {"csrf": site.csrf(), "version": str(site.candidate(cid).version)}
    done = site.client.post(f"/board/{cid}/approve", data=form,
                            headers={"Referer": "https://evil.example/phish"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/board"
    back = site.client.post(f"/board/{site.ids[1]}/approve", follow_redirects=False, headers={
        "Referer": "http://testserver/board?status=pending"},
        data={"csrf": site.csrf(), "version": str(site.candidate(site.ids[1]).version)})
    assert back.headers["location"] == "/board?status=pending"
