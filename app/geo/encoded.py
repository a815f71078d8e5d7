"""Area geometries encoded as GeoJSON once per data version, then joined by pcode.

PostGIS encodes every area's geometry (`ST_AsGeoJSON`, exterior rings counter-clockwise
as RFC 7946 asks) in one query per (data version, kind, CRS); requests then join the
encoded bytes to their figures by pcode instead of serialising shapes again.

Kinds: `official` is the OCHA geometry (mantika polygons, baladiya points);
`approximate` is the derived baladiya polygon where one exists, else the official one.
"""

from __future__ import annotations

import threading

from cachetools import LRUCache
from sqlalchemy import text
from sqlalchemy.orm import Session

KINDS = ("official", "approximate")

_SQL = """
SELECT a.pcode, ST_AsGeoJSON(ST_ForcePolygonCCW({geometry}), {decimals}) AS geometry
FROM admin_areas a
LEFT JOIN approximate_boundaries ab ON ab.pcode = a.pcode
WHERE a.geom IS NOT NULL
"""

_cache: LRUCache = LRUCache(maxsize=32)
_lock = threading.Lock()


def data_version(session: Session) -> int:
    return session.execute(text("SELECT version FROM data_version")).scalar_one()


def geometries(
    session: Session, kind: str = "official", srid: int = 4326, lat_lon: bool = False
) -> dict[str, bytes]:
    """pcode -> encoded GeoJSON geometry of every area, in `srid` (lat/lon order when
    `lat_lon`), as of the session's data version."""
    key = (data_version(session), kind, srid, lat_lon)
    with _lock:
        found = _cache.get(key)
    if found is not None:
        return found
    geometry = "COALESCE(ab.geom, a.geom)" if kind == "approximate" else "a.geom"
    if srid != 4326:
        geometry = f"ST_Transform({geometry}, {int(srid)})"
    if lat_lon:
        geometry = f"ST_FlipCoordinates({geometry})"
    decimals = 6 if srid == 4326 else 2  # about 0.1 m either way
    rows = session.execute(text(_SQL.format(geometry=geometry, decimals=decimals)))
    encoded = {pcode: body.encode() for pcode, body in rows}
    with _lock:
        _cache[key] = encoded
    return encoded
