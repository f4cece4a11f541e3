"""Server-rendered SVG charts: a line over time and horizontal bars. Every label is escaped here;
the result is safe markup for the templates."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from html import escape
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    from bot.service.read_models import HourCell

W, H, PAD = 640, 200, 36


def _num(v: float | None) -> str:
    return "-" if v is None else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}")


def line_chart(points: Sequence[tuple[str, float | None]], *, title: str) -> Markup:
    """Values over labels (e.g. days), missing values skipped; first and last label on the axis."""
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    head = (f'<svg class="chart" role="img" viewBox="0 0 {W} {H}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{escape(title)}</title>')
    if not known:
        return Markup(head + f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">no data yet</text></svg>')
    lo, hi = min(0.0, *(v for _, v in known)), max(v for _, v in known)
    span, n = (hi - lo) or 1.0, max(len(points) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{PAD + (W - 2 * PAD) * i / n:.1f},{H - PAD - (H - 2 * PAD) * (v - lo) / span:.1f}"

    path = " ".join(xy(i, v) for i, v in known)
    dots = "".join(f'<circle cx="{xy(i, v).split(",")[0]}" cy="{xy(i, v).split(",")[1]}" r="2.5">'
                   f'<title>{escape(points[i][0])}: {_num(v)}</title></circle>' for i, v in known)
    axis = (f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" class="axis"/>'
            f'<text x="{PAD}" y="{H - 12}">{escape(points[0][0])}</text>'
            f'<text x="{W - PAD}" y="{H - 12}" text-anchor="end">{escape(points[-1][0])}</text>'
            f'<text x="4" y="{PAD}">{_num(hi)}</text><text x="4" y="{H - PAD}">{_num(lo)}</text>')
    return Markup(f'{head}{axis}<polyline class="series" fill="none" points="{path}"/>{dots}</svg>')


def bar_chart(rows: Sequence[tuple[str, float | None]], *, title: str, limit: int = 12) -> Markup:
    """One horizontal bar per label; negative values grow left of the zero line."""
    rows = [(str(label), v) for label, v in rows[:limit]]
    height = max(1, len(rows)) * 22 + 10
    head = (f'<svg class="chart" role="img" viewBox="0 0 {W} {height}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{escape(title)}</title>')
    values = [v for _, v in rows if v is not None]
    if not values:
        return Markup(head + '<text x="10" y="20">no data yet</text></svg>')
    lo, hi = min(0.0, *values), max(0.0, *values)
    span, left, width = (hi - lo) or 1.0, 200, W - 200 - 60
    zero = left + width * (0 - lo) / span
    bars = []
    for i, (label, v) in enumerate(rows):
        y = 6 + i * 22
        x0 = zero if (v or 0) >= 0 else zero - width * abs(v or 0) / span
        bars.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(label[:32])}</text>'
                    f'<rect class="bar{" neg" if (v or 0) < 0 else ""}" x="{x0:.1f}" y="{y}" '
                    f'width="{width * abs(v or 0) / span:.1f}" height="16"><title>{escape(label)}: {_num(v)}'
                    f'</title></rect><text x="{left + width + 6}" y="{y + 13}">{_num(v)}</text>')
    return Markup(head + f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" class="axis"/>'
                  + "".join(bars) + "</svg>")


def heatmap(rows: Sequence[HourCell], *, title: str) -> Markup:
    """Weekday x hour cells (rows of App.hours, allowed hours only) shaded by the learned effect
    (green above the baseline, red below), each with the posts behind it; hover for the range."""
    shown = [r for r in rows if r.allowed]
    head = (f'<svg class="chart heatmap" role="img" viewBox="0 0 {W} {H + 40}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{escape(title)}</title>')
    if not shown:
        return Markup(head + f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">no allowed hours</text></svg>')
    hours = sorted({r.hour for r in shown})
    days = list(dict.fromkeys(r.weekday for r in shown))
    cw, ch = (W - PAD - 8) / len(hours), (H + 40 - PAD) / len(days)
    parts = [head]
    for j, h in enumerate(hours):
        parts.append(f'<text x="{PAD + cw * (j + 0.5):.1f}" y="12" text-anchor="middle" font-size="10">{h:02d}</text>')
    for i, d in enumerate(days):
        y = 18 + ch * i
        parts.append(f'<text x="2" y="{y + ch / 2 + 4:.1f}" font-size="11">{escape(str(d))}</text>')
        for j, h in enumerate(hours):
            r = next(r for r in shown if r.weekday == d and r.hour == h)
            shade = max(-1.0, min(1.0, math.log(max(r.ratio, 1e-6)) / 0.7))
            color = f"rgba(30,150,60,{shade:.2f})" if shade >= 0 else f"rgba(200,40,40,{-shade:.2f})"
            tip = (f"{d} {h:02d}:00: {r.ratio:.2f}x baseline (likely {r.low:.2f}x-{r.high:.2f}x), "
                   f"{r.posts:.0f} posts")
            parts.append(f'<g><title>{escape(tip)}</title><rect x="{PAD + cw * j:.1f}" y="{y:.1f}" width="{cw - 1:.1f}" '
                         f'height="{ch - 1:.1f}" fill="{color}" stroke="#ccc"/>'
                         f'<text x="{PAD + cw * (j + 0.5):.1f}" y="{y + ch / 2 + 4:.1f}" text-anchor="middle" '
                         f'font-size="9">{r.posts:.0f}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def metrics_chart(rows: Sequence[Any], *, title: str, key: str = "engagement") -> Markup:
    """One post's readings over its age (hours since publishing): ``key`` per snapshot, with a
    gridline and label at zero, the middle and the top, the age at both ends and every point's value
    on hover. Readings without the value are left out."""
    known = [(r.age_s / 3600, float(getattr(r, key))) for r in rows if getattr(r, key) is not None]
    w, h, left, bottom = 480, 200, 44, 30
    head = (f'<svg class="chart metrics" role="img" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{escape(title)}</title>')
    if not known:
        return Markup(head + f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle">no readings yet</text></svg>')
    x_hi = max(x for x, _ in known) or 1.0
    y_hi = max(max(v for _, v in known), 1.0)
    y_lo = min(0.0, *(v for _, v in known))

    def px(x: float, v: float) -> tuple[float, float]:
        return (left + (w - left - 12) * x / x_hi, 10 + (h - bottom - 10) * (1 - (v - y_lo) / ((y_hi - y_lo) or 1)))

    grid = []
    for v in sorted({y_lo, (y_lo + y_hi) / 2, y_hi}):
        _, y = px(0, v)
        grid.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{w - 12}" y2="{y:.1f}" stroke="#ddd"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_tick(v)}</text>')
    grid.append(f'<text x="{left}" y="{h - 8}">{_age(0)}</text>'
                f'<text x="{w - 12}" y="{h - 8}" text-anchor="end">{_age(x_hi)} after publishing</text>')
    points = [px(x, v) for x, v in known]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{_age(a)}: {_num(v)}</title></circle>'
                   for (x, y), (a, v) in zip(points, known))
    return Markup(f'{head}{"".join(grid)}<polyline class="series" fill="none" points="{line}"/>{dots}</svg>')


def _tick(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"


def _age(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} d"
