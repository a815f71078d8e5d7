"""Rendered outputs of the statistics: JSON envelopes, CSV with HXL, GeoJSON features."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
from sqlalchemy.orm import Session
from starlette.datastructures import URL

from app.attribution import APPROXIMATE_NOTE, COD_AB, DTM, HNO_2021, LEVEL_NAMES
from app.errors import InvalidParameter
from app.geo.frames import area_frame
from app.serialize import dumps
from app.services import formats, stats
from app.services.rendered import Page, Rendered
from app.services.stats import StatsFilter

GEOJSON = "application/geo+json"
CSV = "text/csv; charset=utf-8"


def _attribution(rows: list[dict]) -> list[str]:
    notes = [DTM, COD_AB]
    if any(r.get("per_1000") is not None for r in rows):
        notes.append(HNO_2021)
    return notes


def statistics_json(session: Session, flt: StatsFilter, page: Page, url: URL) -> Rendered:
    rows = stats.statistics(session, flt)
    chunk = page.slice(rows)
    meta = {
        "level": flt.level,
        "level_name": LEVEL_NAMES[flt.level],
        **page.links(url, len(rows), len(chunk)),
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
    return Rendered(dumps({"data": chunk, "meta": meta}), "application/json")


def statistics_csv(session: Session, flt: StatsFilter, page: Page) -> Rendered:
    table = formats.wide(stats.statistics(session, flt), flt.level)
    chunk = page.slice(table)
    name = f"dtm-libya-{formats.LEVEL_PREFIX[flt.level]}.csv"
    return Rendered(
        formats.csv_with_hxl(chunk, flt.level),
        CSV,
        {"Content-Disposition": f'attachment; filename="{name}"', "X-Total-Count": str(len(table))},
    )


def statistics_geojson(
    session: Session, flt: StatsFilter, page: Page, url: URL, approximate: bool
) -> Rendered:
    """One feature per area for one round, joined to the boundaries with geopandas."""
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
    frame = area_frame(session, flt.level, approximate=approximate)
    if flt.areas is not None:
        wanted = set(flt.areas)
        keep = frame["pcode"].isin(wanted) | frame["parent_pcode"].isin(wanted)
        frame = frame[keep | ("LBY" in wanted)]
    figures = pd.DataFrame.from_records(
        [
            {
                "pcode": _pcode(r, flt.level),
                **{k: v for k, v in r.items() if k in _COUNT_KEYS},
                "reporting_date": _iso(r["reporting_date"]),
            }
            for r in table
        ],
        columns=["pcode", *_COUNT_KEYS],
    )
    joined = frame.merge(figures, on="pcode", how="left").iloc[
        page.offset : page.offset + page.limit
    ]
    joined.index = pd.Index(joined["pcode"], name=None)  # feature ids are pcodes
    collection = json.loads(joined.to_json(na="null"))
    for feature in collection["features"]:
        _tidy(feature["properties"])
    collection.update(
        {
            "round": chosen,
            "level": flt.level,
            "level_name": LEVEL_NAMES[flt.level],
            **page.links(url, len(frame), len(joined)),
            "sources": sorted({s for r in table for s in r["sources"]}),
            "attribution": _attribution(rows),
            "note": APPROXIMATE_NOTE if approximate else None,
        }
    )
    return Rendered(dumps(collection), GEOJSON)


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
_INTEGER_KEYS = {
    "idps",
    "idp_households",
    "returnees",
    "returnee_households",
    "migrants",
    "migrant_households",
    "population",
    "population_year",
}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _pcode(row: dict, level: int) -> str:
    return row.get(f"admin{level}_pcode") or "LBY"


def _tidy(props: dict) -> None:
    """pandas turns missing integers into floats: give them back as integers."""
    for key in _INTEGER_KEYS & props.keys():
        if isinstance(props[key], float):
            props[key] = int(props[key])


def timeseries_json(session: Session, flt: StatsFilter) -> Rendered:
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
    return Rendered(dumps({"data": data, "meta": meta}), "application/json")


def change_json(
    session: Session, flt: StatsFilter, before_round: int, after_round: int, top: int
) -> Rendered:
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
    return Rendered(dumps({"data": data, "top_movers": movers, "meta": meta}), "application/json")


def _change_key(row: dict) -> tuple:
    return row["pcode"], row["population_type"], row["displacement_reason"]


def nationalities_json(session: Session, flt: StatsFilter, page: Page, url: URL) -> Rendered:
    rows = stats.nationalities(session, flt)
    chunk = page.slice(rows)
    meta = {
        "level": flt.level,
        **page.links(url, len(rows), len(chunk)),
        "rounds": sorted({r["round_code"] for r in chunk}),
        "sources": sorted({s for r in chunk for s in r["sources"] or ()}),
        "attribution": [DTM, COD_AB],
    }
    return Rendered(dumps({"data": chunk, "meta": meta}), "application/json")
