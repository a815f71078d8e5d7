"""Colour classes of a map: one rule for the web map, the static SVG and print.

Quantile breaks over the areas' values (at most six classes, fewer when values repeat),
coloured with viridis from light (low) to dark (high): colour-blind safe, and it prints
in grey. The web map takes its classes from `GET /api/v1/maps/{round}/classes`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

VIRIDIS = ("#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154")
NO_DATA = "#e3e3e3"


@dataclass(frozen=True)
class Classes:
    """`cuts` are the lower bounds of the classes after the first; `colours` one per
    class; `lowest`/`highest` the values' range (None when no area has a value)."""

    cuts: tuple[float, ...]
    colours: tuple[str, ...]
    lowest: float | None
    highest: float | None

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
        return [(edges[i], edges[i + 1], self.colours[i]) for i in range(len(self.colours))]

    def as_json(self) -> dict:
        return {
            "method": "quantile",
            "cuts": list(self.cuts),
            "classes": [{"from": a, "to": b, "colour": c} for a, b, c in self.ranges()],
            "no_data": NO_DATA,
        }


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
