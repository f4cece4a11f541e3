"""A real App on a real SQLite database with real rows, and a logged-in TestClient on the web admin."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from starlette.testclient import TestClient

from bot.app import App, build_app
from bot.config import load_config
from bot.service.read_models import CandidateDetail
from bot.web.auth import LoginLimiter, OneTimeToken
from bot.web.server import create_web
from tests.feedback import feedback_rows as rows

PASSWORD = "correct horse battery"
TOKEN = "one-time-token-for-tests"


@dataclass
class Site:
    app: App
    client: TestClient
    ids: list[int]
    tmp: Path

    def csrf(self) -> str:
        page = self.client.get("/board")
        return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)

    def post(self, url: str, data: dict, *, csrf: str | None = None, fragment: bool = True):
        body = {"csrf": self.csrf() if csrf is None else csrf, **data}
        return self.client.post(url, data=body, headers={"X-Fragment": "1"} if fragment else {},
                                follow_redirects=False)

    def candidate(self, cid: int) -> CandidateDetail:
        return self.app.candidate(cid)


def picture(path: Path, color: str, size: tuple[int, int] = (240, 180)) -> str:
    Image.new("RGB", size, color).save(path)
    return str(path)


def seed(app: App, tmp: Path, *, texts: tuple[str, ...]) -> list[int]:
    """A template with a real picture and one pending meme candidate per text (the first two are
    sibling beams of one image)."""
    base = picture(tmp / "template.png", "white")
    ids = []
    with app.tx() as s:
        t = rows.template(s, "cat", now=app.clock())
        t.image_path = base
        for i, text in enumerate(texts):
            img = picture(tmp / f"c{i}.png", ["red", "green", "blue", "orange", "purple"][i % 5])
            c = rows.candidate(s, now=app.clock(), text=text, account_id=app.account_ids["demo"], template_id=t.id,
                               image_path=img, source_image_path=base, group_key="img0" if i < 2 else f"img{i}",
                               beam_rank=i if i < 2 else 0, predicted_score=1.0 - i / 10,
                               predicted_explain={"explain": [["template=cat", 0.25], ["hour=09h", -0.1]]})
            ids.append(c.id)
    return ids


def login(client: TestClient, name: str = "ann", password: str = PASSWORD, *, token: str = "", nxt: str = "/board"):
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"csrf": csrf, "name": name, "password": password, "token": token,
                                       "next": nxt}, follow_redirects=False)


def make_site(write_config, tmp_path: Path, clock, texts: tuple[str, ...]) -> Site:
    app = build_app(load_config(write_config()), clock=clock)
    app.add_web_user("ann", PASSWORD)
    ids = seed(app, tmp_path, texts=texts)
    client = TestClient(create_web(app, token=OneTimeToken(TOKEN), limiter=LoginLimiter(clock=lambda: 0.0)))
    assert login(client).status_code == 303
    return Site(app=app, client=client, ids=ids, tmp=tmp_path)
