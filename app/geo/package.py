"""A GeoPackage of every collection, written through GDAL (pyogrio).

Layer descriptions carry each layer's source, licence and, for the approximate baladiya
polygons, the warning that they are not official; the dataset metadata carries the
attributions, so they travel with the file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pyogrio
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.attribution import APPROXIMATE_NOTE, COD_AB, DTM, HNO_2021
from app.services.ogc import COLLECTIONS, latest_flow_round, source_params


def geopackage(session: Session, round_code: str | None) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dtm-geo-libya.gpkg"
        for i, collection in enumerate(COLLECTIONS.values()):
            code = round_code
            if collection.flows:  # the chosen round's flows, else the latest round's
                code = latest_flow_round(session, round_code) or latest_flow_round(session)
            frame = gpd.read_postgis(
                text(f"SELECT * FROM ({collection.source}) c ORDER BY fid"),
                session.connection(),
                geom_col="geom",
                params=source_params(session, collection, code),
            )
            # GeoPackage keeps its own 'fid' primary key; ours travels as 'feature_id'
            frame = frame.rename(columns={"fid": "feature_id"}).set_crs(4326, allow_override=True)
            pyogrio.write_dataframe(
                frame,
                path,
                layer=collection.id.replace("-", "_"),
                driver="GPKG",
                append=i > 0,
                geometry_type=collection.geometry_type,
                promote_to_multi=collection.geometry_type.startswith("Multi"),
                layer_options={
                    "IDENTIFIER": collection.title,
                    "DESCRIPTION": collection.description,
                },
                layer_metadata={"round": code or ""},
                dataset_metadata=None
                if i
                else {
                    "title": "DTM Geo: Libya displacement data",
                    "round": round_code or "",
                    "attribution": f"{DTM} {COD_AB} {HNO_2021}",
                    "approximate_boundaries": APPROXIMATE_NOTE,
                },
            )
        return path.read_bytes()
