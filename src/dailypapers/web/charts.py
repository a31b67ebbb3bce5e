"""Bar charts as inline SVG, drawn on the server: no script, and they scale to a phone's width."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 480, 200
LEFT, BOTTOM, TOP = 48, 26, 12  # room for the y labels, the x labels, the top label
FONT = 15


def bar_chart(points: Sequence[tuple[str, int]], label: str) -> Markup:
    """One bar per (label, count), oldest left; each bar's <title> names its label and count."""
    peak = max((count for _, count in points), default=0) or 1
    plot_width, plot_height = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    step = plot_width / max(len(points), 1)
    bars = []
    for index, (name, count) in enumerate(points):
        height = plot_height * count / peak
        x, y = LEFT + index * step + step * 0.1, TOP + plot_height - height
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.8:.1f}" height="{height:.1f}">'
            f"<title>{escape(name)}: {count}</title></rect>"
        )
    base = TOP + plot_height
    axis = [
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}" class="axis"/>',
        f'<text x="{LEFT - 6}" y="{TOP + FONT / 2:.0f}" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{base}" text-anchor="end">0</text>',
    ]
    if points:
        first, last = escape(points[0][0]), escape(points[-1][0])
        axis.append(f'<text x="{LEFT}" y="{HEIGHT - 4}">{first}</text>')
        if len(points) > 1:
            axis.append(f'<text x="{WIDTH}" y="{HEIGHT - 4}" text-anchor="end">{last}</text>')
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(label)}" font-size="{FONT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(axis)}{''.join(bars)}</svg>"
    )
