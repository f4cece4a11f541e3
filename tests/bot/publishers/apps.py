"""A wired App (real config, real SQLite, real repository) for publishing tests."""
from __future__ import annotations

from pathlib import Path

from bot.app import App, build_app
from bot.config import parse_config
from feedback.repository import candidates as cand_repo
from tests.bot.publishers.prepared import image_bytes

BASE = """
[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"

[publishing]
max_attempts = 3
backoff = "1m"
lease = "5m"
late_window = "2h"
"""

OUTBOX = """
[[accounts]]
name = "demo"
platform = "outbox"
post_slots = ["09:00", "13:00", "19:00"]
[accounts.outbox]
path = "outbox"
audience_seed = 7
"""

X = """
[[accounts]]
name = "xacct"
platform = "x"
handle = "memebot"
"""

INSTAGRAM = """
[[accounts]]
name = "igacct"
platform = "instagram"
[accounts.instagram]
username = "memebot"
session_file = "ig-session.json"
delay_range = [0.0, 0.0]
"""


def make_app(tmp_path: Path, clock, *accounts: str, extra: str = "") -> App:
    text = BASE + extra + "".join(accounts or (OUTBOX,))
    config = parse_config(text, source="test.toml", base=tmp_path)
    return build_app(config, clock=clock)


def add_candidates(app: App, texts: list[str], *, account: str = "demo", status: str = "pending") -> list[int]:
    images = Path(app.config.storage.media_dir)
    images.mkdir(parents=True, exist_ok=True)
    ids = []
    with app.tx() as session:
        for i, text in enumerate(texts):
            path = images / f"img{i}.png"
            path.write_bytes(image_bytes(480, 400, color=(i * 7 % 255, 90, 140)))
            row = cand_repo.add_candidate(session, cand_repo.NewCandidate(
                generator="manual", text=text, account_id=app.account_ids[account], image_path=str(path),
                status=status), app.clock())
            ids.append(row.id)
    return ids
