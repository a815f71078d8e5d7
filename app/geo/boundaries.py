"""Read OCHA's COD-AB Libya layers (regions, mantikas, baladiya points) with geopandas.

OCHA numbers Libya one level deeper than DTM: OCHA admin1 = region, admin2 = mantika
(DTM admin1), admin3 = baladiya (DTM admin2). This module returns the layers in OCHA's
terms with tidy column names; `app.loaders.boundaries` maps them to DTM's levels once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shapely.geometry import MultiPolygon, Polygon

from app.errors import LoadError

if TYPE_CHECKING:  # loaded on first use, not by every worker at start
    import geopandas as gpd

COD_DIR = "ocha_cod_ab_lby"
REGIONS_FILE = "lby_admbnda_adm1_unosat_lbsc_20180507.geojson"
MANTIKAS_FILE = "lby_admbnda_adm2_unosat_lbsc_20180507.geojson"
BALADIYAS_FILE = "Adm3_MajorCities.geojson"

# source column -> our column, per layer
REGION_COLUMNS = {
    "admin1Pcod": "pcode",
    "admin1Name": "name_en",
    "admin1Na_1": "name_ar",
    "validOn": "valid_on",
}
MANTIKA_COLUMNS = {
    "admin2Pcod": "pcode",
    "admin2Name": "name_en",
    "admin2Na_1": "name_ar",
    "admin1Pcod": "region_pcode",
    "validOn": "valid_on",
}
BALADIYA_COLUMNS = {
    "pcode": "pcode",
    "featureNam": "name_en",
    "featureN_1": "name_ar",
    "admin2Pcod": "mantika_pcode",
    "admin1Pcod": "region_pcode",
    "validOn": "valid_on",
}


@dataclass
class CodLayers:
    regions: gpd.GeoDataFrame
    mantikas: gpd.GeoDataFrame
    baladiyas: gpd.GeoDataFrame


def as_multipolygon(geom) -> MultiPolygon:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    raise TypeError(f"expected a polygon, got {geom.geom_type}")


def read_layer(
    path: Path, columns: dict[str, str], geom_types: set[str], folder: str = COD_DIR
) -> gpd.GeoDataFrame:
    """One layer's `columns` (renamed), validated: no empty value, a valid geometry of
    `geom_types` on every row, unique pcodes; errors name `folder/file`, row and field."""
    name = f"{folder}/{path.name}"
    if not path.exists():
        raise LoadError(name, "file not found in the data directory")
    try:
        import geopandas as gpd

        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise LoadError(name, f"not a readable GeoJSON file ({type(exc).__name__})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LoadError(name, f"expected column(s) {', '.join(missing)}", field=missing[0])
    frame = frame[[*columns, "geometry"]].rename(columns=columns)
    if frame.crs is not None and frame.crs.to_epsg() not in (4326, None):
        frame = frame.to_crs(4326)
    for i, row in enumerate(frame.itertuples(), start=1):
        for col in columns.values():
            value = getattr(row, col)
            if col != "valid_on" and (value is None or str(value).strip() == ""):
                raise LoadError(name, "value is empty", row=i, field=col)
        geom = row.geometry
        if geom is None or geom.is_empty or geom.geom_type not in geom_types:
            kind = "empty" if geom is None or geom.is_empty else geom.geom_type
            raise LoadError(
                name,
                f"geometry is {kind}, expected {'/'.join(geom_types)}",
                row=i,
                field="geometry",
            )
        if not geom.is_valid:
            raise LoadError(name, "geometry is not valid", row=i, field="geometry")
    if frame["pcode"].duplicated().any():
        dup = frame.loc[frame["pcode"].duplicated(), "pcode"].iloc[0]
        raise LoadError(name, f"duplicate pcode {dup}", field="pcode")
    return frame


def read_cod_layers(data_dir: Path) -> CodLayers:
    """The three COD-AB layers, validated; polygons as MultiPolygons."""
    folder = data_dir / COD_DIR
    polygons = {"Polygon", "MultiPolygon"}
    regions = read_layer(folder / REGIONS_FILE, REGION_COLUMNS, polygons)
    mantikas = read_layer(folder / MANTIKAS_FILE, MANTIKA_COLUMNS, polygons)
    baladiyas = read_layer(folder / BALADIYAS_FILE, BALADIYA_COLUMNS, {"Point"})
    for frame in (regions, mantikas):
        frame["geometry"] = frame.geometry.apply(as_multipolygon)
    _check_parents(mantikas, "region_pcode", set(regions["pcode"]), MANTIKAS_FILE)
    _check_parents(baladiyas, "mantika_pcode", set(mantikas["pcode"]), BALADIYAS_FILE)
    return CodLayers(regions, mantikas, baladiyas)


def _check_parents(frame: gpd.GeoDataFrame, column: str, known: set[str], file: str) -> None:
    for i, value in enumerate(frame[column], start=1):
        if value not in known:
            raise LoadError(
                f"{COD_DIR}/{file}", f"unknown parent pcode {value}", row=i, field=column
            )
