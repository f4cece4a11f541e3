"""The dashboard's SVG charts: round ticks, gridlines, axis labels, a value on hover for every point
and bar, text at the stylesheet's size (no scaled viewBox), escaped labels, designed empty states."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from bot.web.charts import bar_chart, heatmap, line_chart, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0, 32, [0, 10, 20, 30, 40]), (0, 18.7, [0, 5, 10, 15, 20]), (0, 0.83, [0, 0.25, 0.5, 0.75, 1.0]),
    (-0.3, 0.6, [-0.5, -0.25, 0, 0.25, 0.5, 0.75]), (0, 1234, [0, 500, 1000, 1500]), (7, 7, [6, 8, 10, 12, 14])])
def test_nice_ticks_are_round_and_cover_the_range(lo, hi, expected):
    ticks = nice_ticks(lo, hi)
    assert ticks == pytest.approx(expected)
    assert ticks[0] <= min(lo, hi) and ticks[-1] >= max(lo, hi)


def _text(element: ET.Element | None) -> str | None:
    assert element is not None
    return element.text


def _tree(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_line_chart_has_gridlines_axis_labels_few_ticks_and_hover_values():
    days = [(f"2026-11-{d:02d}", float(d * 3 % 17) if d != 5 else None) for d in range(1, 31)]
    root = _tree(line_chart(days, title="mean engagement per publishing day"))
    assert root.get("viewBox") is None and root.get("height") == "250"  # text is never scaled
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    ticks = [t for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    y_ticks = [t.text for t in ticks if t.text and t.get("text-anchor") == "end" and t.text[0].isdigit() and " " not in t.text]
    assert y_ticks == ["0", "5", "10", "15", "20"]
    x_ticks = [t.text for t in ticks if t.text and " " in t.text]
    assert 3 <= len(x_ticks) <= 6 and x_ticks[0] == "01 Nov" and x_ticks[-1] == "30 Nov"
    assert "day" in texts and "mean engagement" in texts
    assert len([g for g in root.iter(f"{SVG}line") if g.get("class") == "grid"]) == 5
    hovers = [t.text or "" for t in root.iter(f"{SVG}title")][1:]
    assert len(hovers) == 29 and hovers[0] == "2026-11-01: 3.00" and "2026-11-05" not in " ".join(hovers)
    assert len(list(root.iter(f"{SVG}polyline"))) == 1


def test_bar_chart_labels_escaped_values_on_hover_and_negative_bars():
    root = _tree(bar_chart([("<b>cat</b>", 0.4), ("dog", -0.2), ("none", None)], title="effects"))
    assert root.get("viewBox") is None
    groups = [g for g in root.iter(f"{SVG}g")]
    assert [_text(g.find(f"{SVG}title")) for g in groups] == ["<b>cat</b>: 0.40", "dog: -0.20", "none: -"]
    assert [r.get("class") for r in root.iter(f"{SVG}rect")] == ["bar", "bar neg", "bar"]
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["-0.2", "0.0", "0.2", "0.4"]
    assert "&lt;b&gt;cat" in str(bar_chart([("<b>cat</b>", 1.0)], title="t"))


def test_empty_charts_are_a_designed_message_not_a_tiny_svg():
    for markup in (line_chart([("2026-11-01", None)], title="t"), bar_chart([], title="t"), heatmap([], title="t")):
        assert "<svg" not in markup and re.match(r'<p class="empty chart-empty">[A-Z]', str(markup))
