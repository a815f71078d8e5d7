"""DTM Iraq's IDP Master List, Round 123: IDPs per location, Iraq's finest DTM unit.

Each location becomes a level-4 area (a point, pcode `IQL` + DTM's Place id) under a COD
sub-district, and its figures are Round 123's observations at that level.

Where a location lies: the workbook names its governorate and district in DTM's
spellings (Basrah, Dahuk, Babylon, Missan...) and gives a point. DTM's figures are
DTM's, so the district is the one DTM names, reconciled with COD by name (COD's names,
the DTM API's names of the same pcodes, COD's sub-district names, and the catalogue's
`iraq_master_list_districts.csv` for the rest). The sub-district is the one the point
lies in when it lies in that district; otherwise the district's sub-district nearest to
the point. Every such case is counted in the notes, so that no point is placed silently
where its coordinates disagree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from geoalchemy2.shape import from_shape

from app.errors import LoadError
from app.loaders.catalog import CATALOG_DIR
from app.loaders.sources import count, first_line, read_csv
from app.names import match_key

FOLDER = "iom_dtm_iraq_master_list"
FILE = f"{FOLDER}/iom_dtm_dtm_iraq_idps_master_list_round_123.xlsx"
SHEET = "DTM Dataset"
ROUND_CODE = "IRQ-R123"
LEVEL = 4
PCODE_PREFIX = "IQL"
PROVIDER = "IOM DTM Iraq"
SOURCE = "IOM DTM Iraq, IDP Master List Round 123 (data to 30 September 2021)"
SOURCE_URL = (
    "https://data.humdata.org/dataset/2b0573f3-3277-4943-b536-8eb651c37e79/resource/"
    "27eb9840-f9f1-4eff-b5db-249111c86754/download/dtm-iraq-round123-master-list-idp_iom_dtm.xlsx"
)
GEOM_SOURCE = "IOM DTM Iraq Master List Round 123 (location coordinates)"
DISTRICTS_FILE = "iraq_master_list_districts.csv"
METRIC_CRS = 32638  # UTM 38N: distances in metres across Iraq
COLUMNS = {
    "Place id": "place_id",
    "Governorate": "governorate",
    "District": "district",
    "Location name\nin English": "name_en",
    "Location name\nin Arabic": "name_ar",
    "Latitude": "lat",
    "Longitude": "lon",
    "Households": "households",
    "Individuals": "individuals",
}


@dataclass
class Cod:
    """What placing locations needs of Iraq's COD: names and sub-district polygons."""

    governorates: dict[str, str]  # pcode -> English name
    districts: dict[str, tuple[str, str]]  # pcode -> (governorate pcode, English name)
    sub_districts: dict[str, tuple[str, str, object]]  # pcode -> (district, name, polygon)
    other_names: dict[str, set[str]] = field(default_factory=dict)  # pcode -> more names


@dataclass
class MasterListRows:
    admin_areas: list[dict]
    admin_area_names: list[dict]
    observations: list[dict]
    district_totals: dict[str, int]  # COD district pcode -> individuals
    notes: list[str]


def _read(data_dir: Path) -> list[dict]:
    path = data_dir / FILE
    if not path.exists():
        raise LoadError(FILE, "file not found in the data directory")
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for unreadable workbooks
        raise LoadError(FILE, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        return read_sheet(book, FILE)
    finally:
        book.close()


def is_master_list(sheet_names: list[str]) -> bool:
    return SHEET in sheet_names


def read_sheet(book, where: str) -> list[dict]:
    """The location records of an open Master List workbook (openpyxl), with their line;
    LoadError naming `where` when its sheet or columns are not the Master List's."""
    if SHEET not in book.sheetnames:
        raise LoadError(where, f"expected a sheet '{SHEET}'")
    rows = book[SHEET].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    wanted = {k.strip(): v for k, v in COLUMNS.items()}
    missing = [k for k in wanted if k not in header]
    if missing:
        raise LoadError(where, f"sheet '{SHEET}': expected column(s) {', '.join(missing)}")
    index = {wanted[h]: i for i, h in enumerate(header) if h in wanted}
    records = []
    for line, row in enumerate(rows, start=2):
        values = {k: row[i] if i < len(row) else None for k, i in index.items()}
        if all(v is None for v in values.values()):
            continue
        if str(values["governorate"] or "").strip().startswith("#"):
            continue  # the HXL tag row
        values["line"] = line
        records.append(values)
    return records


def _district_rows(catalog_dir: Path, districts: dict) -> list:
    """The catalogue's DTM district names that neither COD nor the DTM API writes: a
    `spelling` of a COD district's name, or a `part` of one (a DTM district COD holds
    within a larger one)."""
    name = f"data/catalog/{DISTRICTS_FILE}"
    columns = ["governorate", "district", "pcode", "kind"]
    frame = read_csv(catalog_dir / DISTRICTS_FILE, name, columns)
    for line, r in enumerate(frame.itertuples(index=False), start=first_line(frame)):
        if r.pcode not in districts:
            raise LoadError(name, f"{r.pcode} is not a COD district", row=line, field="pcode")
        if r.kind not in ("spelling", "part"):
            raise LoadError(name, "kind must be spelling or part", row=line, field="kind")
    return list(frame.itertuples(index=False))


def _district_table(catalog_dir: Path, districts: dict) -> dict[tuple[str, str], str]:
    """{(governorate, district) match keys: COD district} of the catalogue's rows."""
    return {
        (match_key(r.governorate), match_key(r.district)): r.pcode
        for r in _district_rows(catalog_dir, districts)
    }


def spelling_names(cod: Cod, catalog_dir: Path = CATALOG_DIR) -> list[dict]:
    """DTM's spellings of COD districts as names of those districts (a `part` is not)."""
    return [
        {
            "pcode": r.pcode,
            "name": r.district,
            "lang": "en",
            "kind": "provider",
            "provider": PROVIDER,
            "match_key": match_key(r.district),
        }
        for r in _district_rows(catalog_dir, cod.districts)
        if r.kind == "spelling"
    ]


def _resolver(cod: Cod, catalog_dir: Path):
    """A function (governorate, district) -> COD district pcode or None."""
    table = _district_table(catalog_dir, cod.districts)
    governorates: dict[str, str] = {}
    for pcode, name in cod.governorates.items():
        for n in {name, *cod.other_names.get(pcode, ())}:
            governorates[match_key(n)] = pcode
    by_name: dict[tuple[str, str], str] = {}
    for pcode, (gov, name) in cod.districts.items():
        for n in {name, *cod.other_names.get(pcode, ())}:
            by_name[(gov, match_key(n))] = pcode
    for _pcode, (district, name, _) in cod.sub_districts.items():
        gov = cod.districts[district][0]
        by_name.setdefault((gov, match_key(name.removeprefix("Markaz "))), district)
        by_name.setdefault((gov, match_key(name)), district)

    def resolve(governorate: str, district: str) -> str | None:
        listed = table.get((match_key(governorate), match_key(district)))
        if listed:
            return listed
        gov = governorates.get(match_key(governorate))
        return by_name.get((gov, match_key(district))) if gov else None

    return resolve


def master_list_rows(data_dir: Path, cod: Cod, catalog_dir: Path = CATALOG_DIR) -> MasterListRows:
    """Areas, names and Round 123 observations of the Master List's locations."""
    import geopandas as gpd
    import shapely

    records = _read(data_dir)
    resolve = _resolver(cod, catalog_dir)
    subs = list(cod.sub_districts)
    frame = gpd.GeoDataFrame(
        {"pcode": subs},
        geometry=[cod.sub_districts[p][2] for p in subs],
        crs=4326,
    ).to_crs(METRIC_CRS)
    seen: set[str] = set()
    points = []
    for r in records:
        place = count(r["place_id"], FILE, r["line"], "Place id")
        pcode = f"{PCODE_PREFIX}{place}"
        if pcode in seen:
            raise LoadError(FILE, f"Place id {place} appears twice", row=r["line"])
        seen.add(pcode)
        for key in ("name_en", "governorate", "district"):
            if not str(r[key] or "").strip():
                raise LoadError(FILE, "value is empty", row=r["line"], field=key)
        try:
            lat, lon = float(r["lat"]), float(r["lon"])
        except (TypeError, ValueError):
            raise LoadError(FILE, "latitude/longitude are not numbers", row=r["line"]) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise LoadError(FILE, f"({lat}, {lon}) is not a coordinate", row=r["line"])
        r["pcode"], r["lat"], r["lon"] = pcode, lat, lon
        points.append((lon, lat))
    pts = gpd.GeoSeries(shapely.points(points), crs=4326).to_crs(METRIC_CRS)
    tree = shapely.STRtree(frame.geometry.values)
    inside = dict(zip(*tree.query(pts.values, predicate="within"), strict=True))

    areas, names, observations = [], [], []
    totals: Counter[str] = Counter()
    unmatched: Counter[tuple[str, str]] = Counter()
    moved: list[float] = []  # km from the point to the sub-district it was placed in
    outside = 0
    for i, r in enumerate(records):
        gov, dist = str(r["governorate"]).strip(), str(r["district"]).strip()
        district = resolve(gov, dist)
        hit = frame.pcode.iloc[inside[i]] if i in inside else None
        if hit is None:
            outside += 1
        if district is None:
            unmatched[(gov, dist)] += 1
            if hit is None:
                raise LoadError(
                    FILE,
                    f"district '{dist}' ({gov}) is not one of COD's and the point lies in no "
                    "sub-district",
                    row=r["line"],
                    field="District",
                )
            parent = hit
        elif hit is not None and cod.sub_districts[hit][0] == district:
            parent = hit
        else:
            candidates = frame[frame.pcode.map(lambda p: cod.sub_districts[p][0]) == district]
            distances = candidates.distance(pts.iloc[i])
            parent = candidates.pcode.loc[distances.idxmin()]
            moved.append(float(distances.min()) / 1000)
        individuals = count(r["individuals"], FILE, r["line"], "Individuals")
        households = count(r["households"], FILE, r["line"], "Households", optional=True)
        totals[cod.sub_districts[parent][0]] += individuals
        name_ar = str(r["name_ar"] or "").strip() or r["name_en"].strip()
        areas.append(
            {
                "pcode": r["pcode"],
                "level": LEVEL,
                "parent_pcode": parent,
                "region_pcode": None,
                "ocha_pcode": None,
                "ocha_level": None,
                "name_en": str(r["name_en"]).strip(),
                "name_ar": name_ar,
                "geom": from_shape(shapely.Point(r["lon"], r["lat"]), srid=4326),
                "geom_source": GEOM_SOURCE,
                "valid_on": None,
            }
        )
        for name, lang in ((str(r["name_en"]).strip(), "en"), (name_ar, "ar")):
            names.append(
                {
                    "pcode": r["pcode"],
                    "name": name,
                    "lang": lang,
                    "kind": "official",
                    "provider": PROVIDER,
                    "match_key": match_key(name),
                }
            )
        observations.append(
            {
                "round_code": ROUND_CODE,
                "pcode": r["pcode"],
                "population_type": "idp",
                "displacement_reason": None,
                "individuals": individuals,
                "households": households,
                "males": None,
                "females": None,
                # the location's pcode is its Place id: no row needs naming
                "source": f"{SOURCE}, sheet '{SHEET}'",
                "source_url": SOURCE_URL,
                "quality": "published",
            }
        )
    notes = [
        f"Master List Round 123: {len(areas):,} locations, "
        f"{sum(o['individuals'] for o in observations):,} IDPs in "
        f"{sum(o['households'] or 0 for o in observations):,} households; "
        f"{len(areas) - len(moved):,} placed in the sub-district their point lies in"
    ]
    if moved:
        moved.sort()
        notes.append(
            f"Master List: {len(moved)} points lie outside the district DTM names "
            f"({outside} outside every COD polygon); each is placed in that district's nearest "
            f"sub-district (median {moved[len(moved) // 2]:.1f} km, at most {moved[-1]:.1f} km)"
        )
    for (gov, dist), n in sorted(unmatched.items()):
        notes.append(
            f"Master List: district '{dist}' ({gov}) matches no COD district; its {n} "
            "location(s) are placed by their points"
        )
    return MasterListRows(areas, names, observations, dict(totals), notes)


def cod_of(admin_areas: list[dict], other_names: dict[str, set[str]]) -> Cod:
    """The `Cod` view of Iraq's COD rows (levels 1-3)."""
    from geoalchemy2.shape import to_shape

    by_level = defaultdict(list)
    for a in admin_areas:
        by_level[a["level"]].append(a)
    return Cod(
        governorates={a["pcode"]: a["name_en"] for a in by_level[1]},
        districts={a["pcode"]: (a["parent_pcode"], a["name_en"]) for a in by_level[2]},
        sub_districts={
            a["pcode"]: (a["parent_pcode"], a["name_en"], to_shape(a["geom"])) for a in by_level[3]
        },
        other_names=other_names,
    )
