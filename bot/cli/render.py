"""What the review commands show in a terminal: a candidate's full picture (the read model is
bot/service/review_view.py), inline terminal images, the contact sheet."""
from __future__ import annotations

import base64
import html
import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.output import _cell, human_age, table_text

if TYPE_CHECKING:
    from bot.service.read_models import CandidateDetail
    from feedback.repository import candidates as cand_repo

THUMB = 240
SHEET_COLUMNS = 6
KITTY_CHUNK = 4096


def print_detail(d: CandidateDetail) -> None:
    from rich.console import Console
    from rich.table import Table

    from bot.service.read_models import as_row

    console = Console()
    head = Table(show_header=False, title=f"candidate {d.id}", title_justify="left")
    head.add_column(style="bold")
    head.add_column(overflow="fold")
    for key in ("status", "status_reason", "text", "original_text", "account", "generator", "model_version",
                "template", "group_key", "beam_rank", "beam_score", "tone", "audience", "gan_seed", "reading",
                "image_path", "source_image_path", "version"):
        value = getattr(d, key)
        if value is not None and not (key == "original_text" and value == d.text):
            head.add_row(key, table_text(value))
    head.add_row("age", human_age(d.age))
    console.print(head)
    rank = d.ranking
    where = f"#{rank.queue_rank} in the pending queue" if rank.queue_rank else "not in the pending queue"
    console.print(f"[bold]ranking[/bold]: {where}; predicted score {_num(rank.predicted_score)} "
                  f"(posterior mean {_num(rank.posterior_mean)}, model {rank.model or '-'}, "
                  f"{rank.observations or 0} observations)")
    for name, contribution in rank.explain:
        console.print(f"  {_num(contribution):>8}  {table_text(name)}")
    if rank.sentences:
        console.print("[bold]what the ranker learned[/bold] (90% interval, evidence):")
        for line in rank.sentences:
            console.print(f"  - {table_text(line)}", highlight=False, soft_wrap=True)
    for title, models in (("sibling beams", d.siblings), ("review history", d.history), ("posts", d.posts)):
        rows = [as_row(m) for m in models]
        if rows:
            table = Table(title=title, title_justify="left")
            for col in rows[0]:
                table.add_column(col, overflow="fold")
            for row in rows:
                table.add_row(*(_cell(v) for v in row.values()))
            console.print(table)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def inline_protocol(env: dict[str, str] | os._Environ = os.environ) -> str | None:
    """Which inline-image escape the terminal understands: 'kitty', 'iterm' or None."""
    term, program = env.get("TERM", ""), env.get("TERM_PROGRAM", "")
    if "kitty" in term or env.get("KITTY_WINDOW_ID") or program in ("ghostty",):
        return "kitty"
    if program in ("iTerm.app", "WezTerm") or env.get("LC_TERMINAL") == "iTerm2":
        return "iterm"
    return None


def inline_image(path: Path, *, force: bool | None = None, env=os.environ) -> str | None:
    """The escape sequence drawing ``path`` inline, or None (not a tty, unknown terminal, no file)."""
    if force is False or not path.is_file():
        return None
    protocol = inline_protocol(env)
    if force is None and not (protocol and sys.stdout.isatty()):
        return None
    from PIL import Image

    with Image.open(path) as img:
        img.thumbnail((512, 512))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    if protocol == "iterm" or protocol is None:
        return f"\033]1337;File=inline=1;size={len(buf.getvalue())};preserveAspectRatio=1:{data}\a"
    chunks = [data[i:i + KITTY_CHUNK] for i in range(0, len(data), KITTY_CHUNK)]
    parts = []
    for i, chunk in enumerate(chunks):
        more = 1 if i < len(chunks) - 1 else 0
        parts.append(f"\033_G{'f=100,a=T,' if i == 0 else ''}m={more};{chunk}\033\\")
    return "".join(parts)


def write_sheet(rows: list[tuple[cand_repo.QueueRow, str | None]], folder: Path) -> tuple[Path, Path]:
    """A grid of thumbnails with id, rank and score under each, as PNG and as HTML."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    label_h = 44
    cols = min(SHEET_COLUMNS, len(rows))
    lines = (len(rows) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * THUMB, lines * (THUMB + label_h)), "white")
    draw = ImageDraw.Draw(sheet)
    cards = []
    for i, (row, image_path) in enumerate(rows):
        x, y = (i % cols) * THUMB, (i // cols) * (THUMB + label_h)
        thumb = _thumbnail(image_path)
        sheet.paste(thumb, (x + (THUMB - thumb.width) // 2, y + (THUMB - thumb.height) // 2))
        score = "-" if row.predicted_score is None else f"{row.predicted_score:+.2f}"
        draw.text((x + 4, y + THUMB + 2), f"#{row.rank} id {row.id} score {score}", fill="black")
        draw.text((x + 4, y + THUMB + 18), row.text[:38], fill="dimgray")
        src = Path(image_path).resolve().as_uri() if image_path and Path(image_path).is_file() else ""
        cards.append(
            f'<figure><img src="{html.escape(src)}" alt="candidate {row.id}" loading="lazy">'
            f"<figcaption><b>#{row.rank}</b> id {row.id} · {row.status} · score {score}<br>"
            f"{html.escape(row.text)}<br><small>{html.escape(row.status_reason or '')}</small>"
            f"</figcaption></figure>")
    png = folder / "sheet.png"
    sheet.save(png)
    page = folder / "sheet.html"
    page.write_text(
        "<!doctype html><meta charset=utf-8><title>memeloop review sheet</title><style>"
        "body{font-family:sans-serif;display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));"
        "gap:12px}img{max-width:100%;background:#eee}figure{margin:0}</style>\n" + "\n".join(cards),
        encoding="utf-8")
    return png, page


def _thumbnail(image_path: str | None):
    from PIL import Image, ImageDraw

    if image_path and Path(image_path).is_file():
        with Image.open(image_path) as opened:
            img = opened.convert("RGB")
            img.thumbnail((THUMB - 8, THUMB - 8))
            return img
    tile = Image.new("RGB", (THUMB - 8, THUMB - 8), (225, 225, 225))
    ImageDraw.Draw(tile).text((10, 10), "no image", fill="gray")
    return tile
