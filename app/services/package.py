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

from app.attribution import APPROXIMATE_NOTE
from app.services import operations, rounds
from app.services.ogc import of_operation, property_type, round_for, source_params

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


_DTYPES = {"integer": "Int64", "number": "float64", "boolean": "boolean"}


def _typed(frame: gpd.GeoDataFrame, properties: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Columns typed as the collection's properties, so counts are INTEGER columns (a sum
    arrives as Decimal, and a column with gaps as float) and flags BOOLEAN."""
    frame["feature_id"] = frame["feature_id"].astype("Int64")
    for name in properties:
        dtype = _DTYPES.get(property_type(name))
        if dtype:
            frame[name] = frame[name].astype(dtype)
    return frame


def layers(
    session: Session, op: operations.Operation, round_code: str | None
) -> tuple[list[Layer], dict]:
    """Every collection of the operation as a GeoDataFrame, of `round_code` where the
    collection takes rounds (flows: the chosen round's if it has flows), else of the
    collection's default round (app.services.ogc.round_for); and the dataset's metadata."""
    known = rounds.catalogue(session, op.iso3)
    out = []
    any_approximate = False
    for collection in of_operation(op.iso3):
        any_approximate |= collection.geometry_kind == "approximate"
        code = round_code
        if collection.flows and not (round_code and known.require(round_code).has_flows):
            code = None
        if collection.stats or collection.flows:
            code = round_for(session, collection, code)
        import geopandas as gpd

        columns = ", ".join(("fid", *collection.properties, "geom"))
        frame = gpd.read_postgis(
            text(f"SELECT {columns} FROM ({collection.source}) c ORDER BY fid"),
            session.connection(),
            geom_col="geom",
            params=source_params(session, collection, code),
        )
        # GeoPackage keeps its own 'fid' primary key; ours travels as 'feature_id'
        frame = frame.rename(columns={"fid": "feature_id"}).set_crs(4326, allow_override=True)
        frame = _typed(frame, collection.properties)
        out.append(
            Layer(
                collection.id,  # the layer is named as the OGC collection
                frame,
                collection.geometry_type,
                collection.title,
                collection.description,
                code,
            )
        )
    metadata = {
        "title": f"DTM Geo: {op.name_en} displacement data",
        "round": round_code or "",
        "attribution": " ".join(op.attribution(rated=True)),
        **({"approximate_boundaries": APPROXIMATE_NOTE} if any_approximate else {}),
    }
    return out, metadata
