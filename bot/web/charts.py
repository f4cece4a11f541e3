"""Server-rendered SVG charts: a line over time, horizontal bars and a weekday x hour heatmap. Every
label is escaped here; the result is safe markup for the templates.

The line and bar charts have no viewBox: their positions are percentages of the width the page gives
them and their heights are CSS pixels, so text stays at the stylesheet's size on a phone and at the
desk (a scaled viewBox made 40 px axis numbers on a wide screen and 8 px labels on a narrow one). The
line itself is drawn in an inner viewBox stretched over the plot area, with strokes that do not
scale. Axis labels, gridlines at "nice" ticks, and each value on hover (<title>)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from html import escape
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from bot.service.read_models import HourCell

W, H, PAD = 640, 200, 36  # the heatmap's viewBox
LINE_H, TOP, BOTTOM = 250, 28, 44  # line chart: height and plot margins in px
LEFT, RIGHT = 11.0, 97.0  # plot area, % of the width
ROW = 38  # bar chart: px per bar (label line + bar)


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    if v == 0:
        return "0"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten apart) covering lo..hi."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    ticks, v = [], first
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _tick(v: float, ticks: Sequence[float]) -> str:
    """A tick value with as many decimals as the tick step needs (0, 10, 20; 0, 0.25, 0.5)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = 0 if step >= 1 else min(3, max(1, -math.floor(math.log10(step)) + (0 if step * 10 % 1 == 0 else 1)))
    return f"{v:.{decimals}f}"


def empty(message: str, hint: str = "") -> Markup:
    """A designed empty state in place of a chart."""
    extra = f"<br><small>{escape(hint)}</small>" if hint else ""
    return Markup(f'<p class="empty chart-empty">{escape(message)}{extra}</p>')


def _short(label: str) -> str:
    """A day label as '05 Dec' (ISO dates are long for an axis); anything else as it is."""
    try:
        return date.fromisoformat(label[:10]).strftime("%d %b")
    except ValueError:
        return label[:12]


def line_chart(points: Sequence[tuple[str, float | None]], *, title: str, x_label: str = "day",
               y_label: str = "mean engagement") -> Markup:
    """Values over labels (e.g. days), missing values skipped; up to 6 x ticks and 5 y ticks."""
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    if not known:
        return empty("No measured posts yet.", "The chart fills in once published posts have metrics.")
    ticks = nice_ticks(min(0.0, *(v for _, v in known)), max(v for _, v in known), 5)
    lo, hi = ticks[0], ticks[-1]
    plot_h = LINE_H - TOP - BOTTOM
    n = max(len(points) - 1, 1)

    def y_px(v: float) -> float:
        return TOP + plot_h * (1 - (v - lo) / ((hi - lo) or 1.0))

    def x_pct(i: int) -> float:
        return LEFT + (RIGHT - LEFT) * (i / n if len(points) > 1 else 0.5)

    parts = [f'<svg class="chart line" role="img" width="100%" height="{LINE_H}" xmlns="http://www.w3.org/2000/svg">'
             f'<title>{escape(title)}</title>']
    for t in ticks:
        parts.append(f'<line class="grid" x1="{LEFT}%" x2="{RIGHT}%" y1="{y_px(t):.1f}" y2="{y_px(t):.1f}"/>'
                     f'<text class="tick" x="{LEFT - 1}%" y="{y_px(t) + 4:.1f}" text-anchor="end">{_tick(t, ticks)}</text>')
    shown = sorted({round(k * (len(points) - 1) / 4) for k in range(5)}) if len(points) > 5 else range(len(points))
    for i in shown:  # the first and last label inside the chart, the others centred on their point
        anchor = "start" if i == 0 and len(points) > 1 else "end" if i == len(points) - 1 and i else "middle"
        parts.append(f'<text class="tick" x="{x_pct(i):.2f}%" y="{LINE_H - BOTTOM + 18}" text-anchor="{anchor}">'
                     f'{escape(_short(points[i][0]))}</text>')
    parts.append(f'<line class="axis" x1="{LEFT}%" x2="{RIGHT}%" y1="{y_px(lo):.1f}" y2="{y_px(lo):.1f}"/>'
                 f'<text class="axis-label" x="{(LEFT + RIGHT) / 2}%" y="{LINE_H - 6}" text-anchor="middle">'
                 f'{escape(x_label)}</text>'
                 f'<text class="axis-label" x="0" y="12">{escape(y_label)}</text>')
    # the series in a stretched inner viewBox (x: 0..1000 over the points, y: 0..100 over lo..hi)
    coords = [(1000 * (i / n if len(points) > 1 else 0.5), 100 * (1 - (v - lo) / ((hi - lo) or 1.0))) for i, v in known]
    path = " ".join(f"{x:.1f},{y:.2f}" for x, y in coords)
    parts.append(f'<svg x="{LEFT}%" y="{TOP}" width="{RIGHT - LEFT}%" height="{plot_h}" viewBox="0 0 1000 100" '
                 f'preserveAspectRatio="none" overflow="visible">'
                 f'<polyline class="series" vector-effect="non-scaling-stroke" points="{path}"/>')
    for (i, v), (x, y) in zip(known, coords, strict=True):
        # a zero-length line with round caps: a dot that stays round in the stretched viewBox
        parts.append(f'<line class="dot" x1="{x:.1f}" y1="{y:.2f}" x2="{x:.1f}" y2="{y:.2f}" '
                     f'vector-effect="non-scaling-stroke"><title>{escape(points[i][0])}: {_num(v)}</title></line>')
    parts.append("</svg></svg>")
    return Markup("".join(parts))


def bar_chart(rows: Sequence[tuple[str, float | None]], *, title: str, limit: int = 12,
              value_label: str = "mean engagement") -> Markup:
    """One horizontal bar per label (the label above its bar, the value after it); negative values
    grow left of the zero line; vertical gridlines at up to 5 round ticks."""
    rows = [(str(label), v) for label, v in rows[:limit]]
    values = [v for _, v in rows if v is not None]
    if not values:
        return empty("No data yet.", f"Each bar will show the {value_label} of one group.")
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values), 5)
    lo, hi = ticks[0], ticks[-1]
    left, right = 3.0, 88.0  # % of the width: room for the first tick's number, and after the longest bar for its value

    def x_pct(v: float) -> float:
        return left + (right - left) * (v - lo) / ((hi - lo) or 1.0)

    height = len(rows) * ROW + 40
    parts = [f'<svg class="chart bars" role="img" width="100%" height="{height}" xmlns="http://www.w3.org/2000/svg">'
             f'<title>{escape(title)}</title>']
    for t in ticks:
        parts.append(f'<line class="grid" x1="{x_pct(t):.2f}%" x2="{x_pct(t):.2f}%" y1="0" y2="{height - 30}"/>'
                     f'<text class="tick" x="{x_pct(t):.2f}%" y="{height - 16}" text-anchor="middle">{_tick(t, ticks)}</text>')
    parts.append(f'<text class="axis-label" x="{(left + right) / 2}%" y="{height - 2}" text-anchor="middle">'
                 f'{escape(value_label)}</text>')
    zero = x_pct(0.0)
    for k, (label, v) in enumerate(rows):
        y = k * ROW
        a, b = sorted((zero, x_pct(v or 0.0)))
        parts.append(f'<g><title>{escape(label)}: {_num(v)}</title>'
                     f'<text x="{left}%" dx="6" y="{y + 13}">{escape(label[:48])}</text>'
                     f'<rect class="bar{" neg" if (v or 0) < 0 else ""}" x="{a:.2f}%" y="{y + 18}" '
                     f'width="{max(b - a, 0.2):.2f}%" height="14" rx="2"/>'
                     f'<text class="value" x="{max(b, zero):.2f}%" dx="6" y="{y + 30}">{_num(v)}</text></g>')
    parts.append(f'<line class="axis" x1="{zero:.2f}%" x2="{zero:.2f}%" y1="0" y2="{height - 30}"/></svg>')
    return Markup("".join(parts))


def heatmap(rows: Sequence[HourCell], *, title: str) -> Markup:
    """Weekday x hour cells (rows of App.hours, allowed hours only) shaded by the learned effect
    (green above the baseline, red below), each with the posts behind it; hover for the range."""
    shown = [r for r in rows if r.allowed]
    if not shown:
        return empty("No allowed posting hours.", "Set the account's posting hours in the config.")
    head = (f'<svg class="chart heatmap" role="img" viewBox="0 0 {W} {H + 40}" width="{W}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>')
    hours = sorted({r.hour for r in shown})
    days = list(dict.fromkeys(r.weekday for r in shown))
    cw, ch = (W - PAD - 8) / len(hours), (H + 40 - PAD) / len(days)
    parts = [head]
    for j, h in enumerate(hours):
        parts.append(f'<text class="tick" x="{PAD + cw * (j + 0.5):.1f}" y="12" text-anchor="middle" font-size="11">{h:02d}</text>')
    for i, d in enumerate(days):
        y = 18 + ch * i
        parts.append(f'<text x="2" y="{y + ch / 2 + 4:.1f}" font-size="12">{escape(str(d))}</text>')
        for j, h in enumerate(hours):
            r = next(r for r in shown if r.weekday == d and r.hour == h)
            shade = max(-1.0, min(1.0, math.log(max(r.ratio, 1e-6)) / 0.7))
            color = f"rgba(30,150,60,{shade:.2f})" if shade >= 0 else f"rgba(200,40,40,{-shade:.2f})"
            tip = (f"{d} {h:02d}:00: {r.ratio:.2f}x baseline (likely {r.low:.2f}x-{r.high:.2f}x), "
                   f"{r.posts:.0f} posts")
            parts.append(f'<g><title>{escape(tip)}</title><rect x="{PAD + cw * j:.1f}" y="{y:.1f}" width="{cw - 1:.1f}" '
                         f'height="{ch - 1:.1f}" fill="{color}" class="cell"/>'
                         f'<text x="{PAD + cw * (j + 0.5):.1f}" y="{y + ch / 2 + 4:.1f}" text-anchor="middle" '
                         f'font-size="11">{r.posts:.0f}</text></g>')
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
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_metric_tick(v)}</text>')
    grid.append(f'<text x="{left}" y="{h - 8}">{_age(0)}</text>'
                f'<text x="{w - 12}" y="{h - 8}" text-anchor="end">{_age(x_hi)} after publishing</text>')
    points = [px(x, v) for x, v in known]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{_age(a)}: {_num(v)}</title></circle>'
                   for (x, y), (a, v) in zip(points, known))
    return Markup(f'{head}{"".join(grid)}<polyline class="series" fill="none" points="{line}"/>{dots}</svg>')


def _metric_tick(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"


def _age(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} d"
