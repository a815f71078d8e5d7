"""Area geometries encoded as GeoJSON once per data version, then joined by pcode.

PostGIS encodes every area's geometry (`ST_AsGeoJSON`, exterior rings counter-clockwise
as RFC 7946 asks, and no per-geometry `crs` member in another CRS: OGC API - Features
Part 2 names it in the Content-Crs header) in one query per (data version, kind, CRS);
requests then join the encoded bytes to their figures by pcode instead of serialising
shapes again.

Kinds: `official` is the OCHA geometry (mantika polygons, baladiya points);
`approximate` is the derived baladiya polygon where one exists, else the official one.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.memo import Memo
from app.vocabulary import GEOMETRY_KINDS

KINDS = GEOMETRY_KINDS

_SQL = """
SELECT a.pcode, ST_AsGeoJSON(ST_ForcePolygonCCW({geometry}), {decimals}, 0) AS geometry
FROM admin_areas a
LEFT JOIN approximate_boundaries ab ON ab.pcode = a.pcode
WHERE a.geom IS NOT NULL
"""

_ENCODED = Memo(32)


def geometries(
    session: Session, kind: str = "official", srid: int = 4326, lat_lon: bool = False
) -> dict[str, bytes]:
    """pcode -> encoded GeoJSON geometry of every area, in `srid` (lat/lon order when
    `lat_lon`), as of the session's data version."""
    return _ENCODED.get(
        session, (kind, srid, lat_lon), lambda: _encode(session, kind, srid, lat_lon)
    )


def _encode(session: Session, kind: str, srid: int, lat_lon: bool) -> dict[str, bytes]:
    geometry = "COALESCE(ab.geom, a.geom)" if kind == "approximate" else "a.geom"
    if srid != 4326:
        geometry = f"ST_Transform({geometry}, {int(srid)})"
    if lat_lon:
        geometry = f"ST_FlipCoordinates({geometry})"
    decimals = 6 if srid == 4326 else 2  # about 0.1 m either way
    rows = session.execute(text(_SQL.format(geometry=geometry, decimals=decimals)))
    return {pcode: body.encode() for pcode, body in rows}
