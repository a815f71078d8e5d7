"""Statistics shaped for output: envelopes, wide tables and map features (data only;
the web layer writes the bytes)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.attribution import APPROXIMATE_NOTE, COD_AB, DTM, HNO_2021, LEVEL_NAMES
from app.errors import InvalidParameter
from app.geo import encoded
from app.memo import Memo
from app.services import formats, stats
from app.services.paging import Page
from app.services.stats import StatsFilter


@dataclass
class Result:
    """Rows (or map features) of one answer, with their metadata and the total before
    paging. `features` are (id, encoded geometry, properties) for GeoJSON."""

    rows: list[dict]
    meta: dict
    total: int
    features: list[tuple] | None = None


def _attribution(rows: list[dict]) -> list[str]:
    notes = [DTM, COD_AB]
    if any(r.get("per_1000") is not None for r in rows):
        notes.append(HNO_2021)
    return notes


def statistics_rows(session: Session, flt: StatsFilter, page: Page) -> Result:
    rows = stats.statistics(session, flt)
    chunk = page.slice(rows)
    meta = {
        "level": flt.level,
        "level_name": LEVEL_NAMES[flt.level],
        **stats.sources_metadata(session, chunk),
        "attribution": _attribution(chunk),
        "order": [
            "reporting_date",
            "round_code",
            "pcode",
            "population_type",
            "displacement_reason",
        ],
        "notes": "Values are stored figures, or sums of the level below when an area has "
        "none of its own; 'complete' is false for sums of only some of the areas "
        "below. per_1000 is per 1,000 residents (see denominators).",
    }
    return Result(chunk, meta, len(rows))


def statistics_table(session: Session, flt: StatsFilter, page: Page) -> Result:
    """One row per round, area and reason with a column per population type; `meta`
    names the columns (in HXL order) and the file."""
    table = formats.wide(stats.statistics(session, flt), flt.level)
    chunk = page.slice(table)
    meta = {
        "columns": formats.columns(chunk, flt.level),
        "filename": f"dtm-libya-{formats.LEVEL_PREFIX[flt.level]}.csv",
    }
    return Result(chunk, meta, len(table))


_AREAS = """
SELECT a.pcode, a.level, a.name_en, a.name_ar, a.parent_pcode,
       p.name_en AS parent_name_en, p.name_ar AS parent_name_ar,
       CASE WHEN a.geom IS NULL THEN 'none'
            WHEN a.level < 2 THEN 'official_polygon'
            WHEN :approximate AND ab.pcode IS NOT NULL THEN 'approximate_polygon'
            ELSE 'official_point' END AS geometry_kind
FROM admin_areas a
LEFT JOIN admin_areas p ON p.pcode = a.parent_pcode
LEFT JOIN approximate_boundaries ab ON ab.pcode = a.pcode
WHERE a.level = :level
  AND (:all_areas OR a.pcode = ANY(:areas) OR a.parent_pcode = ANY(:areas)
       OR 'LBY' = ANY(:areas))
ORDER BY a.pcode
"""


_MAPS = Memo(64)


def statistics_features(
    session: Session, flt: StatsFilter, page: Page, approximate: bool
) -> Result:
    """One feature per area for one round (the latest matching one unless given), its
    geometry joined by pcode from the encoded geometries. The whole map is built once per
    data version and filter; a page is cut from it."""
    whole = _MAPS.get(session, (flt, approximate), lambda: _map(session, flt, approximate))
    return Result([], whole.meta, whole.total, page.slice(whole.features))


def _map(session: Session, flt: StatsFilter, approximate: bool) -> Result:
    if flt.round_ids is not None and len(flt.round_ids) > 1:
        raise InvalidParameter("round", "GeoJSON maps one round at a time: give a single round")
    if flt.any_reason:
        flt = replace(flt, collapse_reasons=True)
    rows = stats.statistics(session, flt)
    latest = max(
        rows, key=lambda r: (str(r["reporting_date"] or ""), r["round_code"]), default=None
    )
    chosen = latest["round_code"] if latest else None
    table = formats.wide([r for r in rows if r["round_code"] == chosen], flt.level, by_reason=False)
    figures = {_pcode(r, flt.level): r for r in table}
    areas = session.execute(
        text(_AREAS),
        {
            "level": flt.level,
            "approximate": approximate,
            "all_areas": flt.areas is None,
            "areas": list(flt.areas or ()),
        },
    ).mappings()
    areas = [dict(a) for a in areas]
    shapes = encoded.geometries(session, "approximate" if approximate else "official")
    features = []
    for area in areas:
        area["geometry_quality"] = (
            "approximate"
            if area["geometry_kind"] == "approximate_polygon"
            else None
            if area["geometry_kind"] == "none"
            else "official"
        )
        found = figures.get(area["pcode"], {})
        counts = {k: found.get(k) for k in _COUNT_KEYS}
        counts["reporting_date"] = _iso(counts["reporting_date"])
        features.append((area["pcode"], shapes.get(area["pcode"]), {**area, **counts}))
    meta = {
        "round": chosen,
        "level": flt.level,
        "level_name": LEVEL_NAMES[flt.level],
        "sources": sorted({s for r in table for s in r["sources"]}),
        "attribution": _attribution(rows),
        "note": APPROXIMATE_NOTE if approximate else None,
    }
    return Result([], meta, len(areas), features)


_COUNT_KEYS = (
    "round_code",
    "reporting_date",
    "idps",
    "idp_households",
    "returnees",
    "returnee_households",
    "migrants",
    "migrant_households",
    "idps_per_1000",
    "returnees_per_1000",
    "migrants_per_1000",
    "population",
    "population_year",
    "quality",
    "complete",
)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _pcode(row: dict, level: int) -> str:
    return row.get(f"admin{level}_pcode") or "LBY"


def timeseries(session: Session, flt: StatsFilter) -> Result:
    rows = stats.statistics(session, flt)
    series: dict[tuple, dict] = {}
    for r in rows:
        key = (r["pcode"], r["population_type"], r["displacement_reason"])
        entry = series.setdefault(
            key,
            {
                "pcode": r["pcode"],
                "name_en": r["name_en"],
                "name_ar": r["name_ar"],
                "level": r["level"],
                "population_type": r["population_type"],
                "displacement_reason": r["displacement_reason"],
                "points": [],
            },
        )
        entry["points"].append(
            {
                k: r[k]
                for k in (
                    "round_code",
                    "round_number",
                    "round_kind",
                    "reporting_date",
                    "individuals",
                    "households",
                    "per_1000",
                    "quality",
                    "complete",
                )
            }
        )
    data = [series[k] for k in sorted(series, key=lambda k: (k[0], k[1], k[2] or ""))]
    meta = {
        "level": flt.level,
        "series": len(data),
        **stats.sources_metadata(session, rows),
        "attribution": _attribution(rows),
    }
    return Result(data, meta, len(data))


def change(
    session: Session, flt: StatsFilter, before_round: int, after_round: int, top: int
) -> Result:
    """Round-over-round change per area, with the largest absolute movers first in `top`."""
    before = {
        _change_key(r): r
        for r in stats.statistics(session, replace(flt, round_ids=(before_round,)))
    }
    after = {
        _change_key(r): r for r in stats.statistics(session, replace(flt, round_ids=(after_round,)))
    }
    data = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], k[1], k[2] or "")):
        b, a = before.get(key), after.get(key)
        ref = a or b
        old = b["individuals"] if b else None
        new = a["individuals"] if a else None
        delta = new - old if old is not None and new is not None else None
        data.append(
            {
                "pcode": ref["pcode"],
                "name_en": ref["name_en"],
                "name_ar": ref["name_ar"],
                "population_type": key[1],
                "displacement_reason": key[2],
                "before": old,
                "after": new,
                "change": delta,
                "change_percent": round(100 * delta / old, 2)
                if delta is not None and old
                else None,
                "before_round": b["round_code"] if b else None,
                "after_round": a["round_code"] if a else None,
                "complete": bool((b is None or b["complete"]) and (a is None or a["complete"])),
            }
        )
    movers = sorted(
        (d for d in data if d["change"] is not None),
        key=lambda d: (-abs(d["change"]), d["pcode"], d["population_type"]),
    )[:top]
    meta = {
        "level": flt.level,
        "rows": len(data),
        **stats.sources_metadata(session, [*before.values(), *after.values()]),
        "attribution": [DTM, COD_AB],
    }
    return Result(data, {"top_movers": movers, "meta": meta}, len(data))


def _change_key(row: dict) -> tuple:
    return row["pcode"], row["population_type"], row["displacement_reason"]


def nationalities(session: Session, flt: StatsFilter, page: Page) -> Result:
    rows = stats.nationalities(session, flt)
    chunk = page.slice(rows)
    meta = {
        "level": flt.level,
        "rounds": sorted({r["round_code"] for r in chunk}),
        "sources": sorted({s for r in chunk for s in r["sources"] or ()}),
        "attribution": [DTM, COD_AB],
    }
    return Result(chunk, meta, len(rows))
