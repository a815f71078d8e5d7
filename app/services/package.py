"""The layers of the GeoPackage download: every collection, statistics for one round.

Layer descriptions carry each layer's source, licence and, for the approximate baladiya
polygons, the warning that they are not official; the dataset metadata carries the
attributions, so they travel with the file (written by `app.api.writers.geopackage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.attribution import APPROXIMATE_NOTE, COD_AB, DTM, HNO_2021
from app.services import rounds
from app.services.ogc import COLLECTIONS, source_params

if TYPE_CHECKING:  # loaded when a GeoPackage is first made, not at a worker's start
    import geopandas as gpd


@dataclass
class Layer:
    name: str
    frame: gpd.GeoDataFrame
    geometry_type: str
    title: str
    description: str
    round: str | None


def layers(session: Session, round_code: str | None) -> tuple[list[Layer], dict]:
    """Every collection as a GeoDataFrame (flows: the chosen round's if it has flows, else
    the latest round's), and the dataset's metadata."""
    known = rounds.catalogue(session)
    out = []
    for collection in COLLECTIONS.values():
        code = round_code
        if collection.flows:
            chosen = known.get(round_code) if round_code else None
            if chosen is None or not chosen.has_flows:
                chosen = known.latest_with_flows()
            code = chosen.code if chosen else None
        import geopandas as gpd

        frame = gpd.read_postgis(
            text(f"SELECT * FROM ({collection.source}) c ORDER BY fid"),
            session.connection(),
            geom_col="geom",
            params=source_params(session, collection, code),
        )
        # GeoPackage keeps its own 'fid' primary key; ours travels as 'feature_id'
        frame = frame.rename(columns={"fid": "feature_id"}).set_crs(4326, allow_override=True)
        out.append(
            Layer(
                collection.id.replace("-", "_"),
                frame,
                collection.geometry_type,
                collection.title,
                collection.description,
                code,
            )
        )
    metadata = {
        "title": "DTM Geo: Libya displacement data",
        "round": round_code or "",
        "attribution": f"{DTM} {COD_AB} {HNO_2021}",
        "approximate_boundaries": APPROXIMATE_NOTE,
    }
    return out, metadata
