"""Approximate baladiya polygons from the official baladiya points.

OCHA publishes Libya's baladiyas only as points. For maps that need areas we derive
Voronoi cells of the points inside each mantika, clipped to the mantika, so that the
cells tile the mantika exactly; a mantika with a single baladiya gives it the whole
mantika. These shapes are approximations and are always labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon

from app.geo.boundaries import as_multipolygon

NOTE = (
    "Approximate boundary derived by DTM Geo: Voronoi cell of the OCHA baladiya point within "
    "its mantika. OCHA publishes Libya's baladiyas only as points; not an official boundary."
)


@dataclass(frozen=True)
class ApproximateCell:
    pcode: str
    geometry: MultiPolygon
    method: str  # 'voronoi_in_mantika' or 'whole_mantika'


def _polygonal(geom) -> MultiPolygon:
    """Keep only the polygon parts of a clip result (drop stray lines and points)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return as_multipolygon(geom)
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polygons: list[Polygon] = []
    for part in parts:
        polygons.extend(as_multipolygon(part).geoms)
    return MultiPolygon(polygons)


def cells_for_mantika(mantika: MultiPolygon, points: dict[str, Point]) -> list[ApproximateCell]:
    """Voronoi cells of `points` ({pcode: point}) clipped to `mantika`, in pcode order."""
    pcodes = sorted(points)
    if len(pcodes) == 1:
        return [ApproximateCell(pcodes[0], as_multipolygon(mantika), "whole_mantika")]
    sites = MultiPoint([points[p] for p in pcodes])
    # Extend the diagram well past the mantika so every cell reaches its edges.
    diagram = shapely.voronoi_polygons(sites, extend_to=mantika.envelope.buffer(1.0))
    cells: list[ApproximateCell] = []
    for pcode in pcodes:
        point = points[pcode]
        region = next(r for r in diagram.geoms if r.intersects(point))
        clipped = shapely.make_valid(region.intersection(mantika))
        cells.append(ApproximateCell(pcode, _polygonal(clipped), "voronoi_in_mantika"))
    return cells
