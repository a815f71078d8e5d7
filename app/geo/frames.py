"""Admin areas as GeoDataFrames read from PostGIS, for joins done with geopandas."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import geopandas as gpd

_SQL = """
SELECT a.pcode, a.level, a.name_en, a.name_ar, a.parent_pcode,
       p.name_en AS parent_name_en, p.name_ar AS parent_name_ar,
       CASE WHEN a.geom IS NULL THEN 'none'
            WHEN ST_Dimension(a.geom) = 2 THEN 'official_polygon'
            WHEN %(approximate)s AND ab.geom IS NOT NULL THEN 'approximate_polygon'
            ELSE 'official_point' END AS geometry_kind,
       -- RFC 7946: counter-clockwise exterior rings
       ST_ForcePolygonCCW(
           CASE WHEN %(approximate)s AND ab.geom IS NOT NULL THEN ab.geom ELSE a.geom END
       ) AS geom
FROM admin_areas a
LEFT JOIN admin_areas p ON p.pcode = a.parent_pcode
LEFT JOIN approximate_boundaries ab ON ab.pcode = a.pcode
WHERE a.level = %(level)s AND a.ancestry[1] = %(operation)s
ORDER BY a.pcode
"""


def area_frame(
    session: Session, operation: str, level: int, approximate: bool = False
) -> gpd.GeoDataFrame:
    """Areas of one level of an operation with geometry (Libya's baladiyas: points, or
    approximate polygons; muhallas: points, or none where DTM publishes no coordinates)."""
    import geopandas as gpd  # on first use: seconds a new worker need not spend

    frame = gpd.read_postgis(
        _SQL,
        session.connection(),
        geom_col="geom",
        params={"level": level, "operation": operation, "approximate": approximate},
    )
    # 6 decimals (about 0.1 m), rounded so that coordinates print short
    frame["geom"] = shapely.transform(frame["geom"].values, lambda xy: np.round(xy, 6))
    frame["geometry_quality"] = frame["geometry_kind"].map(
        lambda k: (
            "approximate" if k == "approximate_polygon" else None if k == "none" else "official"
        )
    )
    return frame
