"""`memeloop demo`: the whole loop, offline, on the shipped demo models, ending by itself.

It drives the same pieces the daemon schedules (the generate child process, approve-and-schedule,
publish_due, poll_due with re-ranking) one round at a time. Two things differ from a real service
and the demo says so on screen: candidates are auto-approved (demo mode only), and the audience's
hours pass on a simulated clock instead of the wall clock.
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import App, build_app
from bot.config import load_config
from bot.errors import UsageError

MARKER = "# written by `memeloop demo`"
ACCOUNT = "demo"
APPROVE_PER_ROUND = 3
DEMO_FILES = ("demo.db", "demo.db-wal", "demo.db-shm", "media", "outbox", "logs")

DEMO_CONFIG = MARKER + """ -- rewritten on every run; copy it elsewhere to keep changes.
# An accelerated schedule: `memeloop --config THIS run` runs the same loop as a service in real time.

[storage]
url = "sqlite:///demo.db"
media_dir = "media"

[logging]
level = "INFO"
file = "logs/memeloop.log"

[generator]
timeout = "10m"

[generator.meme]
beam_width = 5
images_per_run = 3
forward_per_image = 2

[generator.post]
captions_per_image = 3

[ranking]
engagement_age = "24h"
baseline_posts = 5
seed = 7

[polling]
ages = ["1h", "6h", "24h"]

[publishing]
auto_approve = true   # DEMO ONLY: a real service waits for a human (`memeloop approve ID`)

[scheduler]
tick = "10s"
misfire_grace = "1m"
reconcile_every = "1m"
prune_every = "1h"

[[accounts]]
name = "demo"
platform = "outbox"
handle = "memeloop_demo"
post_cron = "*/20 * * * *"
generate = [
  { generator = "meme", every = "2m", count = 8 },
  { generator = "post", every = "3m", count = 3, audience = "general" },
]

[accounts.outbox]
path = "outbox"
latency_ms = 0
audience_seed = 7
"""


class SimClock:
    """The demo's clock: starts at the wall clock and is moved forward by hand (never backwards)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@dataclass
class RoundReport:
    generated: dict[str, str]
    approved: int
    published: int
    snapshots: int


def prepare_folder(folder: Path, *, fresh: bool) -> Path:
    """Create (or reset) the demo folder and write its config; refuses a folder that is not ours."""
    config = folder / "config.toml"
    ours = config.is_file() and config.read_text(encoding="utf-8").startswith(MARKER)
    if folder.exists() and any(folder.iterdir()) and not ours:
        raise UsageError(f"{folder} exists and is not a memeloop demo folder; pick another --dir")
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in DEMO_FILES:  # each run starts from an empty database, so running it twice works
        target = folder / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    config.write_text(DEMO_CONFIG, encoding="utf-8")
    return config


def run_demo(folder: Path, *, fresh: bool = False, rounds: int = 2, console=None) -> dict:
    from rich.console import Console

    console = console or Console()
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # offline by construction, children included
        os.environ.setdefault(var, "1")
    started = time.monotonic()
    config_path = prepare_folder(folder, fresh=fresh)
    _log_to_file(folder / "logs" / "demo.log")
    clock = SimClock(datetime.now(UTC).replace(second=0, microsecond=0))
    app = build_app(load_config(config_path), clock=clock)
    _banner(console, folder)
    reports = []
    try:
        for number in range(1, rounds + 1):
            console.rule(f"[bold]round {number} of {rounds}")
            reports.append(_round(app, clock, console))
        from bot.runtime.demo_content import content_systems  # photo captions, text -> meme, a story thread

        content = content_systems(app, console, _step)
        summary = _dashboard(app, console, folder, reports)
        summary["content"] = content
    finally:
        app.close()
    console.print(f"[dim]demo finished in {time.monotonic() - started:.0f}s (wall clock)[/dim]")
    return summary


def _log_to_file(path: Path) -> None:
    """The screen is for the story; the log (and each generate child's own log) goes to files."""
    import logging

    from bot.core.logs import OurStreamHandler, configure_logging

    configure_logging(level="INFO", file=path)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, OurStreamHandler):
            root.removeHandler(handler)


def _banner(console, folder: Path) -> None:
    from rich.panel import Panel

    console.print(Panel.fit(
        "[bold]memeloop demo[/bold]: generate -> review -> publish -> audience -> learn, offline.\n"
        f"Data folder: {folder.resolve()}\n"
        "[yellow]DEMO MODE[/yellow]: candidates are [bold]auto-approved[/bold] (a real service waits for a human).\n"
        "[yellow]SIMULATED CLOCK[/yellow]: the audience's hours pass on a simulated clock, not in real time.",
        border_style="cyan"))


def _step(console, text: str, fn: Callable):
    with console.status(text, spinner="dots"):
        started = time.monotonic()
        result = fn()
    console.print(f"[green]done[/green] {text} [dim]({time.monotonic() - started:.1f}s)[/dim]")
    return result


def _round(app: App, clock: SimClock, console) -> RoundReport:
    from bot.core.kinds import content_kind
    from bot.runtime.jobs import run_generate_child
    from bot.service.maintenance import one_per_image

    generated: dict[str, str] = {}
    for index, plan in enumerate(app.config.account(ACCOUNT).schedules):
        what = content_kind(plan.generator).what
        outcome = _step(console, f"generating with the {what} in a child process",
                        lambda i=index: run_generate_child(app.deps, ACCOUNT, i))
        generated[plan.generator] = outcome.status
        if outcome.status != "ok":
            console.print(f"[red]generation {outcome.generation_id} {outcome.status}[/red]; see {outcome.log_path}")
    queue = _queue(app, limit=8)
    _show_queue(console, queue, "review queue (best predicted score first)")
    ids = [row.id for row in one_per_image(app.deps, _queue(app, limit=50), APPROVE_PER_ROUND)]  # never two of one image
    console.print(f"[yellow]auto-approving (demo mode only)[/yellow] candidates {ids}")
    posts = [app.approve(i, actor="demo-auto-approve", at=clock()) for i in ids]
    summary = _step(console, "publishing to the outbox", lambda: app.publish_due(owner="memeloop-demo"))
    before = {row.id: row for row in _queue(app, limit=50)}
    snapshots = 0
    for hours in (1, 5, 18):  # the polling ages 1h, 6h, 24h
        clock.advance(timedelta(hours=hours))
        snapshots += _step(console, f"[yellow]simulated clock[/yellow] +{hours}h: the audience reacts; "
                                    "polling metrics", app.poll)
    _show_rank_moves(console, before, _queue(app, limit=50))
    _show_learned(app, console)
    clock.advance(timedelta(hours=1))
    return RoundReport(generated, len(posts), summary.published, snapshots)


def _queue(app: App, limit: int):
    return app.queue(limit=limit)


def _show_queue(console, rows, title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in ("rank", "id", "score", "generator", "text"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(str(row.rank), str(row.id), _fmt(row.predicted_score), row.generator, row.text[:70])
    console.print(table if rows else "[dim]the review queue is empty[/dim]")


def _show_rank_moves(console, before: dict, after_rows) -> None:
    """The learning, made visible: the pending queue's scores and order before and after engagement."""
    from rich.table import Table

    rows = [r for r in after_rows if r.id in before][:8]
    if not rows:
        console.print("[dim]no pending candidates left to re-rank[/dim]")
        return
    moved = sum(before[r.id].rank != r.rank for r in after_rows if r.id in before)
    table = Table(title=f"re-ranked after the audience reacted: {moved} of {len(before)} pending moved")
    for col in ("rank before", "rank now", "score before", "score now", "id", "text"):
        table.add_column(col, overflow="fold")
    for row in rows:
        old = before[row.id]
        arrow = "" if old.rank == row.rank else (" [green]up[/green]" if row.rank < old.rank else " [red]down[/red]")
        table.add_row(str(old.rank), f"{row.rank}{arrow}", _fmt(old.predicted_score), _fmt(row.predicted_score),
                      str(row.id), row.text[:60])
    console.print(table)


def _fmt(score: float | None) -> str:
    return "-" if score is None else f"{score:.3f}"


def _show_learned(app: App, console) -> None:
    """The ranker's strongest learned feature weights (what the audience and approvals taught it)."""
    with app.tx() as session:
        ranker = app.deps.ranker(session)
    weights = ranker.weights()
    top = sorted(((n, w) for n, w in weights.items() if n != "bias"), key=lambda nw: -abs(nw[1]))[:5]
    if top:
        shown = ", ".join(f"{name} {value:+.2f}" for name, value in top)
        console.print(f"ranker learned ({ranker.observations} observations): {shown}")


def _dashboard(app: App, console, folder: Path, reports: list[RoundReport]) -> dict:
    from rich.panel import Panel

    candidates, posts = app.counts()
    published = app.posts(states=("published",), limit=None)
    engagement = _engagement(app, published)
    lines = ["candidates: " + ", ".join(f"{k} {v}" for k, v in sorted(candidates.items())),
             "posts: " + ", ".join(f"{k} {v}" for k, v in sorted(posts.items())),
             f"snapshots polled: {sum(r.snapshots for r in reports)}"]
    for generator, (n, likes, reposts) in sorted(engagement.items()):
        lines.append(f"{generator}: {n} posts, {likes} likes, {reposts} reposts (simulated audience)")
    config = folder / "config.toml"
    lines += ["", "[bold]where to look[/bold]",
              f"  gallery:  {(folder / 'outbox' / 'index.html').resolve()}",
              f"  database: {(folder / 'demo.db').resolve()}",
              f"  queue:    memeloop --config {config} queue list",
              f"  stats:    memeloop --config {config} stats --help",
              f"  service:  memeloop --config {config} run   (same loop, accelerated schedule, real time)",
              f"  web:      memeloop --config {config} web   (open the one-time login link it prints)"]
    console.print(Panel("\n".join(lines), title="dashboard", border_style="green"))
    return {"candidates": candidates, "posts": posts, "engagement": engagement,
            "rounds": [r.__dict__ for r in reports]}


def _engagement(app: App, published) -> dict[str, tuple[int, int, int]]:
    publisher = app.publisher(ACCOUNT)
    readings = {m.remote_id: m for m in publisher.fetch_metrics([p.remote_id for p in published if p.remote_id],
                                                                now=app.clock())}
    out: dict[str, tuple[int, int, int]] = {}
    for post in published:
        generator = app.candidate(post.candidate_id).generator
        m = readings.get(post.remote_id)
        n, likes, reposts = out.get(generator, (0, 0, 0))
        out[generator] = (n + 1, likes + ((m.likes or 0) if m else 0), reposts + ((m.reposts or 0) if m else 0))
    return out
