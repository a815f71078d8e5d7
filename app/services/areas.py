"""Admin areas as rows, and as map features whose geometries are encoded once per data
version."""

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from app.attribution import APPROXIMATE_NOTE
from app.geo import encoded
from app.services import ogc, operations
from app.vocabulary import GeometryChoice

# One query shape for both outputs. The geometry for a baladiya is its official point,
# or its derived approximate polygon when asked for; every row says which it is.
_AREAS_SQL = """
WITH chosen AS (
    SELECT a.pcode, a.level, a.parent_pcode, a.region_pcode, a.ocha_pcode, a.ocha_level,
           a.name_en, a.name_ar, p.name_en AS parent_name_en, p.name_ar AS parent_name_ar,
           r.name_en AS region_name_en, ol.name_en AS level_name,
           CASE WHEN a.level = 2 AND :geometry = 'approximate' AND ab.geom IS NOT NULL
                THEN ab.geom ELSE a.geom END AS geom,
           CASE WHEN a.geom IS NULL THEN 'none'
                WHEN ST_Dimension(a.geom) = 2 THEN 'official_polygon'
                WHEN :geometry = 'approximate' AND ab.geom IS NOT NULL THEN 'approximate_polygon'
                ELSE 'official_point' END AS geometry_kind,
           ST_X(ST_PointOnSurface(a.geom)) AS lon, ST_Y(ST_PointOnSurface(a.geom)) AS lat
    FROM admin_areas a
    LEFT JOIN admin_areas p ON p.pcode = a.parent_pcode
    LEFT JOIN regions r ON r.pcode = a.region_pcode
    LEFT JOIN approximate_boundaries ab ON ab.pcode = a.pcode
    -- the level as the area's operation names it (Libya's mantika, Iraq's governorate)
    LEFT JOIN operation_levels ol ON ol.operation = a.ancestry[1] AND ol.level = a.level
    WHERE (CAST(:level AS smallint) IS NULL OR a.level = :level)
      AND (CAST(:operation AS text) IS NULL OR a.ancestry[1] = :operation)
      AND (CAST(:parent AS text) IS NULL OR a.parent_pcode = :parent)
      AND (:all_pcodes OR a.pcode IN :pcodes)
)
"""

_PROPERTIES = """
    'pcode', pcode, 'level', level,
    'level_name', level_name,
    'name_en', name_en, 'name_ar', name_ar, 'parent_pcode', parent_pcode,
    'parent_name_en', parent_name_en, 'parent_name_ar', parent_name_ar,
    'region_pcode', region_pcode, 'region_name_en', region_name_en,
    'ocha_pcode', ocha_pcode, 'ocha_level', ocha_level,
    'geometry_kind', geometry_kind,
    'geometry_quality', CASE WHEN geometry_kind = 'approximate_polygon' THEN 'approximate'
                             WHEN geometry_kind = 'none' THEN NULL ELSE 'official' END
"""


def _params(level, parent, pcodes, geometry, operation=None) -> dict:
    return {
        "operation": operation,
        "level": level,
        "parent": parent,
        "geometry": geometry,
        "all_pcodes": pcodes is None,
        "pcodes": tuple(pcodes or ("",)),
    }


def _statement(sql: str):
    return text(sql).bindparams(bindparam("pcodes", expanding=True))


def list_areas(
    session: Session,
    level: int | None = None,
    parent: str | None = None,
    pcodes: list[str] | None = None,
    operation: str | None = None,
) -> list[dict]:
    """Areas as plain rows (no geometry; a label point as lon/lat), ordered by pcode."""
    sql = (
        _AREAS_SQL
        + f"""
    SELECT json_build_object({_PROPERTIES},
           'lon', round(lon::numeric, 6), 'lat', round(lat::numeric, 6))
    FROM chosen ORDER BY pcode"""
    )
    params = _params(level, parent, pcodes, "official", operation)
    rows = session.execute(_statement(sql), params).scalars().all()
    for row in rows:
        row.pop("geometry_kind"), row.pop("geometry_quality")
    return rows


def area_features(
    session: Session,
    level: int | None,
    geometry: GeometryChoice = "official",
    parent: str | None = None,
    pcodes: list[str] | None = None,
    operation: operations.Operation | None = None,
) -> tuple[list[tuple[str, bytes | None, dict]], dict]:
    """(pcode, encoded geometry, properties) per area, ordered by pcode, and the
    collection's attribution and note. Geometries come from `app.geo.encoded`."""
    op = operation or operations.default(session)
    approximate = geometry == "approximate" and level in (None, ogc.approximate_level(op.iso3))
    sql = _AREAS_SQL + f"SELECT json_build_object({_PROPERTIES}) FROM chosen ORDER BY pcode"
    params = _params(level, parent, pcodes, geometry, op.iso3)
    rows = session.execute(_statement(sql), params).scalars()
    shapes = encoded.geometries(session, "approximate" if approximate else "official")
    features = [(r["pcode"], shapes.get(r["pcode"]), r) for r in rows]
    attribution = op.boundary_source
    return features, {"attribution": attribution, "note": APPROXIMATE_NOTE if approximate else None}


def get_area(session: Session, pcode: str) -> dict | None:
    rows = list_areas(session, pcodes=[pcode])
    if not rows:
        return None
    area = rows[0]
    names = session.execute(
        text("""SELECT name, lang, kind, provider FROM admin_area_names
                WHERE pcode = :pcode ORDER BY kind, lang, name, provider"""),
        {"pcode": pcode},
    ).mappings()
    area["names"] = [dict(n) for n in names]
    area["children"] = session.execute(
        text("SELECT count(*) FROM admin_areas WHERE parent_pcode = :pcode"), {"pcode": pcode}
    ).scalar_one()
    population = (
        session.execute(
            text("""SELECT population, year, source, definition FROM populations
                WHERE pcode = :pcode ORDER BY year DESC, source LIMIT 1"""),
            {"pcode": pcode},
        )
        .mappings()
        .first()
    )
    area["population"] = dict(population) if population else None
    return area


def pcodes_at(session: Session, operation: str, level: int) -> list[str]:
    """The pcodes of an operation's areas at `level`, in pcode order."""
    return list(
        session.execute(
            text(
                "SELECT pcode FROM admin_areas WHERE level = :level AND ancestry[1] = :op "
                "ORDER BY pcode"
            ),
            {"level": level, "op": operation},
        ).scalars()
    )


def exists(session: Session, pcode: str) -> bool:
    found = session.execute(text("SELECT 1 FROM admin_areas WHERE pcode = :p"), {"p": pcode})
    return found.scalar() is not None


def first_deeper(session: Session, pcodes, level: int) -> tuple[str, int] | None:
    """The first of `pcodes` whose area lies below `level` (pcode, its level), if any."""
    found = session.execute(
        text(
            "SELECT pcode, level FROM admin_areas WHERE pcode = ANY(:p) AND level > :level "
            "ORDER BY pcode LIMIT 1"
        ),
        {"p": list(pcodes or ()), "level": level},
    ).first()
    return (found.pcode, found.level) if found else None


def coarsest_level(session: Session, pcodes) -> int:
    """The level of the coarsest of these areas (0, the country, when there are none)."""
    found = session.execute(
        text("SELECT min(level) FROM admin_areas WHERE pcode = ANY(:p)"), {"p": list(pcodes)}
    ).scalar()
    return found or 0
