"""A real publishing worker for the crash test: reconcile, publish a few due posts, repeat.

    python -m tests.bot.publishers.crash_worker CONFIG [--until-done]

Prints "ready" once wired (so the test kills it while it works, not while Python starts). With
--until-done it exits 0 once every post is published (the final, un-killed run).
"""
from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> int:

    from bot import publishing
    from bot.app import build_app
    from bot.config import load_config
    from bot.logs import configure_logging
    from feedback.repository import posts as posts_repo

    configure_logging(level="INFO")
    app = build_app(load_config(argv[0]))
    owner = publishing.worker_id()
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        publishing.reconcile_unconfirmed(app)
        summary = publishing.publish_due(app, owner=owner, limit=5)
        if "--until-done" in argv:
            with app.tx() as session:
                open_posts = sum(n for state, n in posts_repo.count_by_state(session).items()
                                 if state != "published")
            if open_posts == 0:
                return 0
        if summary.claimed == 0:
            time.sleep(0.05)  # waiting for a dead worker's lease to run out
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
