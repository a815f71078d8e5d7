"""Colour classes of a map: one rule for the web map, the static SVG and print.

- Figures: quantile breaks over the areas' values (at most six classes, fewer when values
  repeat), coloured with viridis from light (low) to dark (high): colour-blind safe, and
  it prints in grey. The web map takes them from `GET /api/v1/maps/{round}/classes`.
- Change between rounds: diverging classes centred on zero (ColorBrewer PuOr, colour-blind
  safe): the cuts are symmetric about zero, a middle class holds zero (and the smallest
  changes), decreases are orange and increases purple.
- Indicators: sequential (viridis), equal steps for a share or a percentage, quantiles
  for counts; text answers (a priority need) by category (Okabe-Ito).

A value on a cut belongs to the class above it, as MapLibre's `step` expression has it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

VIRIDIS = ("#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154")
NO_DATA = "#e3e3e3"
# ColorBrewer PuOr with 3, 5 and 7 classes, orange (decrease) to purple (increase)
PUOR = {
    1: ("#f1a340", "#f7f7f7", "#998ec3"),
    2: ("#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99"),
    3: ("#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788"),
}
ZERO = PUOR[1][1]
# an area with no figure in one of the two rounds: neither zero's near-white nor the
# light grey of an area with no data, and dark enough to tell from either in grey print
NO_FIGURE = "#7f7f7f"
# Okabe & Ito's colour-blind safe qualitative palette (without black)
OKABE_ITO = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7")
OTHER = "#bbbbbb"


@dataclass(frozen=True)
class Classes:
    """`cuts` are the lower bounds of the classes after the first; `colours` one per
    class; `lowest`/`highest` the values' range (None when no area has a value)."""

    cuts: tuple[float, ...]
    colours: tuple[str, ...]
    lowest: float | None
    highest: float | None
    method: str = "quantile"
    zero_apart: bool = False  # the first class is zero alone (counts: _counts)

    def colour(self, value: float | None) -> str:
        if value is None:
            return NO_DATA
        index = sum(1 for cut in self.cuts if value >= cut)
        return self.colours[index]

    def ranges(self) -> list[tuple[float, float, str]]:
        """(from, to, colour) of each class, for a legend."""
        if self.lowest is None:
            return []
        edges = [self.lowest, *self.cuts, self.highest]
        found = [(edges[i], edges[i + 1], self.colours[i]) for i in range(len(self.colours))]
        if self.zero_apart:
            found[0] = (0, 0, self.colours[0])
        return found

    def as_json(self) -> dict:
        body = {
            "method": self.method,
            "cuts": list(self.cuts),
            "classes": [{"from": a, "to": b, "colour": c} for a, b, c in self.ranges()],
            "no_data": NO_DATA,
        }
        if self.method == "diverging":
            body["no_figure"] = NO_FIGURE  # no figure in one of the rounds: not zero
        return body


def quantile_classes(values: Iterable[float | None], n: int = len(VIRIDIS)) -> Classes:
    """Classes of `values` (None and non-finite values are areas without data)."""
    ordered = sorted(v for v in values if v is not None and math.isfinite(v))
    if not ordered:
        return Classes((), (VIRIDIS[2],), None, None)
    cuts: list[float] = []
    for i in range(1, n):
        q = ordered[min(len(ordered) - 1, (i * len(ordered)) // n)]
        if not cuts or q > cuts[-1]:
            cuts.append(q)
    cuts = [c for c in cuts if c > ordered[0]]
    if not cuts:  # every area has the same value: one class
        return Classes((), (VIRIDIS[2],), ordered[0], ordered[-1])
    last = len(VIRIDIS) - 1
    # spread the classes over the whole ramp: the first light, the last dark
    above = (VIRIDIS[math.floor(i * last / len(cuts) + 0.5)] for i in range(1, len(cuts) + 1))
    colours = (VIRIDIS[0], *above)
    return Classes(tuple(cuts), colours, ordered[0], ordered[-1])


def _finite(values: Iterable[float | None]) -> list[float]:
    return sorted(v for v in values if v is not None and math.isfinite(v))


def diverging_classes(values: Iterable[float | None], per_side: int = 3) -> Classes:
    """Classes of changes, symmetric about zero: `per_side` classes of decrease and of
    increase (fewer when the magnitudes repeat) around a middle class holding zero.

    The breaks follow the quantiles of the magnitudes |v| (the middle class about a
    quarter of the areas, at least those with no change), each halfway between two
    magnitudes found, so that no value lies on a cut and -v falls in the class mirroring
    v's. `lowest`/`highest` are -/+ the largest magnitude: the legend is symmetric too."""
    ordered = _finite(values)
    counts = sorted(abs(v) for v in ordered)
    magnitudes = sorted(set(counts))
    if not magnitudes or magnitudes[-1] == 0:  # no area, or none changed: the middle class
        edge = 0.0 if ordered else None
        return Classes((), (ZERO,), edge, edge, "diverging")
    breaks: list[float] = []
    for i in range(1, per_side + 1):
        at = magnitudes.index(counts[min(len(counts) - 1, (i * len(counts)) // (per_side + 1))])
        if at + 1 < len(magnitudes):
            cut = round((magnitudes[at] + magnitudes[at + 1]) / 2, 6)
            if not breaks or cut > breaks[-1]:
                breaks.append(cut)
    if not breaks:  # the quantiles all at the largest magnitude: split below it
        breaks.append(
            (magnitudes[-2] + magnitudes[-1]) / 2 if len(magnitudes) > 1 else magnitudes[-1] / 2
        )
    cuts = (*(-b for b in reversed(breaks)), *breaks)
    largest = magnitudes[-1]
    return Classes(cuts, PUOR[len(breaks)], -largest, largest, "diverging")


def sequential_classes(
    values: Iterable[float | None], bounds: tuple[float, float] | None = None, n: int = 5
) -> Classes:
    """Classes of an indicator: `n` equal steps over `bounds` (a share 0-1, a percentage
    0-100) so that maps of one kind compare, else quantiles (counts, zero apart)."""
    ordered = _finite(values)
    if bounds is None:
        return _counts(ordered)
    low, high = bounds
    step = (high - low) / n
    cuts = tuple(round(low + i * step, 10) for i in range(1, n))
    last = len(VIRIDIS) - 1
    colours = tuple(VIRIDIS[math.floor(i * last / (n - 1) + 0.5)] for i in range(n))
    found = (low, high) if ordered else (None, None)
    return Classes(cuts, colours, *found, "equal_interval")


def _counts(ordered: list[float]) -> Classes:
    """Quantiles of counts; zero, where an area has it, a class of its own (often most
    areas have none of a setting, which would leave the quantiles no room)."""
    positive = [v for v in ordered if v > 0]
    if not positive or len(positive) == len(ordered):
        return quantile_classes(ordered)
    above = quantile_classes(positive, len(VIRIDIS) - 1)
    cuts = (positive[0], *above.cuts)
    last = len(VIRIDIS) - 1
    colours = tuple(VIRIDIS[math.floor(i * last / len(cuts) + 0.5)] for i in range(len(cuts) + 1))
    return Classes(cuts, colours, ordered[0], ordered[-1], zero_apart=True)


@dataclass(frozen=True)
class Categories:
    """Colours of text answers: each of the most frequent values its own colour, the
    rest `OTHER`."""

    values: tuple[str, ...]
    colours: tuple[str, ...]

    def colour(self, value: str | None) -> str:
        if value is None:
            return NO_DATA
        if value in self.values:
            return self.colours[self.values.index(value)]
        return OTHER

    def as_json(self) -> dict:
        return {
            "method": "categorical",
            "categories": [
                {"value": v, "colour": c} for v, c in zip(self.values, self.colours, strict=True)
            ],
            "other": OTHER,
            "no_data": NO_DATA,
        }


def category_classes(values: Iterable[str | None]) -> Categories:
    """The most frequent text values first (ties by value), one colour each."""
    counts: dict[str, int] = {}
    for v in values:
        if v:
            counts[v] = counts.get(v, 0) + 1
    ranked = sorted(counts, key=lambda v: (-counts[v], v))[: len(OKABE_ITO)]
    return Categories(tuple(ranked), OKABE_ITO[: len(ranked)])
