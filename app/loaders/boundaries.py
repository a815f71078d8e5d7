"""Admin hierarchy from OCHA COD-AB, mapped once from OCHA's levels to DTM's.

OCHA admin1 region -> `regions` (an attribute of areas);
the union of the regions -> DTM admin0 (LBY); OCHA admin2 mantika -> DTM admin1;
OCHA admin3 baladiya point -> DTM admin2, plus its derived approximate polygon.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from geoalchemy2.shape import from_shape
from shapely.ops import unary_union

from app.geo.approximate import NOTE, cells_for_mantika
from app.geo.boundaries import (
    BALADIYAS_FILE,
    COD_DIR,
    MANTIKAS_FILE,
    REGIONS_FILE,
    CodLayers,
    as_multipolygon,
    read_cod_layers,
)
from app.names import match_key

COUNTRY_PCODE = "LBY"  # DTM's admin0Pcode; OCHA's COD spells it LY
COD_SOURCE = "OCHA COD-AB Libya (UNITAR-UNOSAT, Libyan Bureau of Statistics), CC BY 3.0 IGO"
SOURCE_FILES = [f"{COD_DIR}/{f}" for f in (REGIONS_FILE, MANTIKAS_FILE, BALADIYAS_FILE)]


def _valid_on(value) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def _name_rows(pcode: str, name_en: str, name_ar: str, kind: str, provider: str) -> list[dict]:
    return [
        {
            "pcode": pcode,
            "name": name,
            "lang": lang,
            "kind": kind,
            "provider": provider,
            "match_key": match_key(name),
        }
        for name, lang in ((name_en, "en"), (name_ar, "ar"))
    ]


def boundary_rows(data_dir: Path) -> dict[str, list[dict]]:
    """Rows for regions, admin_areas, approximate_boundaries and names, from the COD."""
    layers = read_cod_layers(data_dir)
    return {
        "regions": _regions(layers),
        "admin_areas": _areas(layers),
        "approximate_boundaries": _approximate(layers),
        "admin_area_names": _names(layers),
    }


def _regions(layers: CodLayers) -> list[dict]:
    return [
        {
            "pcode": r.pcode,
            "name_en": r.name_en,
            "name_ar": r.name_ar,
            "geom": from_shape(r.geometry, srid=4326),
            "source": COD_SOURCE,
            "valid_on": _valid_on(r.valid_on),
        }
        for r in layers.regions.itertuples()
    ]


def _areas(layers: CodLayers) -> list[dict]:
    country = as_multipolygon(unary_union(list(layers.regions.geometry)))
    rows = [
        {
            "pcode": COUNTRY_PCODE,
            "level": 0,
            "parent_pcode": None,
            "region_pcode": None,
            "ocha_pcode": "LY",
            "ocha_level": 0,
            "name_en": "Libya",
            "name_ar": "ليبيا",
            "geom": from_shape(country, srid=4326),
            "geom_source": f"union of regions; {COD_SOURCE}",
            "valid_on": None,
        }
    ]
    for m in layers.mantikas.itertuples():
        rows.append(
            {
                "pcode": m.pcode,
                "level": 1,
                "parent_pcode": COUNTRY_PCODE,
                "region_pcode": m.region_pcode,
                "ocha_pcode": m.pcode,
                "ocha_level": 2,
                "name_en": m.name_en,
                "name_ar": m.name_ar,
                "geom": from_shape(m.geometry, srid=4326),
                "geom_source": COD_SOURCE,
                "valid_on": _valid_on(m.valid_on),
            }
        )
    for b in layers.baladiyas.itertuples():
        rows.append(
            {
                "pcode": b.pcode,
                "level": 2,
                "parent_pcode": b.mantika_pcode,
                "region_pcode": b.region_pcode,
                "ocha_pcode": b.pcode,
                "ocha_level": 3,
                "name_en": b.name_en,
                "name_ar": b.name_ar,
                "geom": from_shape(b.geometry, srid=4326),
                "geom_source": COD_SOURCE,
                "valid_on": _valid_on(b.valid_on),
            }
        )
    return rows


def _approximate(layers: CodLayers) -> list[dict]:
    rows = []
    mantikas = layers.mantikas.set_index("pcode").geometry
    for mantika_pcode, group in layers.baladiyas.groupby("mantika_pcode", sort=True):
        points = dict(zip(group["pcode"], group.geometry, strict=True))
        for cell in cells_for_mantika(mantikas[mantika_pcode], points):
            rows.append(
                {
                    "pcode": cell.pcode,
                    "geom": from_shape(cell.geometry, srid=4326),
                    "method": cell.method,
                    "note": NOTE,
                }
            )
    return rows


def _names(layers: CodLayers) -> list[dict]:
    rows = _name_rows(COUNTRY_PCODE, "Libya", "ليبيا", "official", "OCHA COD-AB")
    for frame in (layers.mantikas, layers.baladiyas):
        for a in frame.itertuples():
            rows += _name_rows(a.pcode, a.name_en, a.name_ar, "official", "OCHA COD-AB")
    return rows
