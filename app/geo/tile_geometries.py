"""Polygon areas as the vector tiles of each low zoom draw them, stored once per load.

Cut from the full-detail COD polygons, a tile transforms them to Web Mercator, simplifies
them to half a tile pixel and has ST_AsMVTGeom snap them to the tile's pixel grid and
repair them (wagyu): at low zooms a tile holds dozens of whole polygons and that work is
most of its time (the z6 tile over Baghdad: about 17 ms of PostgreSQL time, as tipg's).

So every polygon area's geometry is stored per zoom of `ZOOMS`, in 3857, simplified to
that zoom's tolerance and reduced to its pixel grid with ST_ReducePrecision, which keeps
it valid on the grid (the grid of every tile of a zoom is one: tiles start at whole
pixels of it). A tile of a stored zoom then clips it, scales it to tile units and rounds
away the float noise: the vertices are grid points already and the polygons valid, so no
repair is needed. Exterior rings are stored clockwise, which the y-axis flip of tile
units turns into the positive area the MVT specification asks of them.

Kinds as in app.geo.encoded: `official` (admin_areas) and `approximate` (the derived
polygons of approximate_boundaries).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

EXTENT = 4096  # a tile's extent in its own units (ST_AsMVT)
WORLD = 40075016.68557849  # the width of WebMercatorQuad, in metres
ZOOMS = range(0, 12)  # the zooms stored (z0-z11): above, the raw path is as fast (BENCHMARKS.md)


def pixel(zoom: int) -> float:
    """A tile pixel at `zoom`, in metres."""
    return WORLD / 2**zoom / EXTENT


def tolerance(zoom: int) -> float:
    """Half a tile pixel at `zoom`, in metres: what a tile simplifies its polygons to."""
    return pixel(zoom) / 2


# One statement for every zoom: each polygon is transformed once (the materialised CTE),
# then simplified and reduced to each zoom's pixel grid; a polygon under a pixel collapses
# to nothing and is not stored (its tiles take the raw path, which drops it as well).
_FILL = """
WITH polygons AS MATERIALIZED (
    SELECT 'official' AS kind, pcode, ST_Transform(geom, 3857) AS geom
    FROM admin_areas WHERE ST_Dimension(geom) = 2
    UNION ALL
    SELECT 'approximate', pcode, ST_Transform(geom, 3857) FROM approximate_boundaries
),
gridded AS (
    SELECT p.kind, z.zoom, p.pcode,
           ST_CollectionExtract(
               ST_ReducePrecision(ST_Simplify(p.geom, z.pixel / 2, true), z.pixel), 3) AS geom
    FROM polygons p
    CROSS JOIN unnest(CAST(:zooms AS smallint[]), CAST(:pixels AS float8[])) AS z(zoom, pixel)
)
INSERT INTO tile_geometries (kind, zoom, pcode, geom)
SELECT kind, zoom, pcode, ST_ForcePolygonCW(ST_Multi(geom)) FROM gridded
WHERE NOT ST_IsEmpty(geom)
"""


def refresh(session: Session, zooms: range = ZOOMS) -> int:
    """Rebuild every stored tile geometry from the boundaries in the session's
    transaction (after a load wrote them); returns the rows written."""
    session.execute(text("DELETE FROM tile_geometries"))
    written = session.execute(
        text(_FILL), {"zooms": list(zooms), "pixels": [pixel(z) for z in zooms]}
    )
    return written.rowcount
