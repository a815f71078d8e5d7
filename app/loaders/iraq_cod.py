"""Iraq's admin hierarchy from OCHA COD-AB Iraq: country, governorates, districts and
sub-districts, official polygons. DTM's Iraq levels are OCHA's, so level n is OCHA's
admin n; the country's DTM pcode is IRQ where COD writes IQ."""

from __future__ import annotations

from pathlib import Path

from geoalchemy2.shape import from_shape

from app.errors import LoadError
from app.geo.boundaries import as_multipolygon, read_layer
from app.loaders.boundaries import _name_rows, _valid_on
from app.names import match_key

COD_DIR = "ocha_cod_ab_irq"
COUNTRY_PCODE = "IRQ"
OCHA_COUNTRY = "IQ"
COD_SOURCE = "OCHA COD-AB Iraq (Central Statistical Organization of Iraq), via HDX, CC BY-IGO"
PROVIDER = "OCHA COD-AB"
LAYER_FILES = {
    0: "irq_admbnda_adm0_cso_itos_20190603.geojson",
    1: "irq_admbnda_adm1_cso_20190603.geojson",
    2: "irq_admbnda_adm2_cso_20190603.geojson",
    3: "irq_admbnda_adm3_cso_20190603.geojson",
}
SOURCE_FILES = [f"{COD_DIR}/{f}" for f in LAYER_FILES.values()]
_ALTERNATIVES = ("ALT1EN", "ALT2EN", "ALT1AR", "ALT2AR")


def _columns(level: int) -> dict[str, str]:
    columns = {
        f"ADM{level}_PCODE": "pcode",
        f"ADM{level}_EN": "name_en",
        f"ADM{level}_AR": "name_ar",
        "validOn": "valid_on",
    }
    if level:
        columns[f"ADM{level - 1}_PCODE"] = "parent_pcode"
    return columns


def cod_rows(data_dir: Path) -> dict[str, list[dict]]:
    """Rows for `admin_areas` (1 + 18 + 101 + 294) and `admin_area_names` (official
    English and Arabic names, and any alternative spelling COD gives)."""
    areas: list[dict] = []
    names: list[dict] = []
    known: set[str] = set()
    for level, file in LAYER_FILES.items():
        path = data_dir / COD_DIR / file
        columns = _columns(level)
        frame = read_layer(path, columns, {"Polygon", "MultiPolygon"}, COD_DIR)
        alternatives = _alternatives(path, level)
        for i, row in enumerate(frame.itertuples(), start=1):
            pcode = COUNTRY_PCODE if level == 0 else row.pcode
            parent = None
            if level:
                parent = COUNTRY_PCODE if level == 1 else row.parent_pcode
                if parent not in known:
                    raise LoadError(
                        f"{COD_DIR}/{file}",
                        f"parent pcode {row.parent_pcode} is not an area of the layer above",
                        row=i,
                        field=f"ADM{level - 1}_PCODE",
                    )
            known.add(pcode)
            areas.append(
                {
                    "pcode": pcode,
                    "level": level,
                    "parent_pcode": parent,
                    "region_pcode": None,
                    "ocha_pcode": row.pcode,
                    "ocha_level": level,
                    "name_en": row.name_en,
                    "name_ar": row.name_ar,
                    "geom": from_shape(as_multipolygon(row.geometry), srid=4326),
                    "geom_source": COD_SOURCE,
                    "valid_on": _valid_on(row.valid_on),
                }
            )
            names += _name_rows(pcode, row.name_en, row.name_ar, "official", PROVIDER)
            names += [
                {
                    "pcode": pcode,
                    "name": name,
                    "lang": lang,
                    "kind": "alternative",
                    "provider": PROVIDER,
                    "match_key": match_key(name),
                }
                for lang, name in alternatives.get(row.pcode, ())
            ]
    return {"admin_areas": areas, "admin_area_names": names}


def _alternatives(path: Path, level: int) -> dict[str, list[tuple[str, str]]]:
    """{OCHA pcode: [(lang, name)]} from the layer's ADMnALT* columns, where filled."""
    import pyogrio

    wanted = [f"ADM{level}{suffix}" for suffix in _ALTERNATIVES]
    frame = pyogrio.read_dataframe(path, read_geometry=False)
    present = [c for c in wanted if c in frame.columns]
    found: dict[str, list[tuple[str, str]]] = {}
    for row in frame[[f"ADM{level}_PCODE", *present]].itertuples(index=False):
        for column, value in zip(present, row[1:], strict=True):
            if isinstance(value, str) and value.strip():
                found.setdefault(row[0], []).append((column[-2:].lower(), value.strip()))
    return found
