"""The national series as a small hand-written SVG line chart (one line per population
type over the rounds, in time order), deterministic and self-contained."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape

from app.reports.content import SeriesPoint
from app.reports.words import number

COLOURS = {
    "idp": "#E69F00",
    "returnee": "#0072B2",
    "migrant": "#009E73",
}  # as app/static/js/constants.js
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 16, 28
FONT = "Noto Sans, Noto Sans Arabic, DejaVu Sans, sans-serif"


def _nice(top: float) -> float:
    """A round upper bound for the axis (1, 2 or 5 times a power of ten)."""
    step = 1.0
    while step * 10 <= top:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= top:
            return m * step
    return 10 * step


def line_chart(points: list[SeriesPoint], lang: str) -> str:
    rounds = sorted(
        {(p.when or date.max, p.round_label) for p in points}, key=lambda r: (r[0], r[1])
    )
    at = {label: n for n, (_, label) in enumerate(rounds)}
    top = _nice(max((p.individuals for p in points), default=1) * 1.05)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(n: int) -> float:
        return LEFT + (inner_w * n / (len(rounds) - 1) if len(rounds) > 1 else inner_w / 2)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - v / top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{FONT}" font-size="10" '
        f'lang="{lang}" direction="ltr">'
    ]
    for i in range(5):  # horizontal grid and the axis' numbers
        v = top * i / 4
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            'stroke="#dddddd"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y(v) + 3:.1f}" text-anchor="end">{number(v, lang)}</text>'
        )
    every = max(1, len(rounds) // 12)  # at most a dozen round labels
    for n, (_, label) in enumerate(rounds):
        last = len(rounds) - 1
        if n == last or (n % every == 0 and last - n >= every / 2 + 0.5):
            out.append(
                f'<text x="{x(n):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    kinds = [k for k in COLOURS if any(p.population_type == k for p in points)]
    for kind in kinds:  # the key is the page's (app.reports.html): SVG text is not shaped
        mine = [p for p in points if p.population_type == kind]
        coords = " ".join(f"{x(at[p.round_label]):.1f},{y(p.individuals):.1f}" for p in mine)
        colour = COLOURS[kind]
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [
            f'<circle cx="{x(at[p.round_label]):.1f}" cy="{y(p.individuals):.1f}" r="2.5" '
            f'fill="{colour}"/>'
            for p in mine
        ]
    out.append("</svg>")
    return "\n".join(out)
