"""Flows shaped for output (data only): documents, lines (straight or arcs), tables with
HXL tags, and the flowmap layout."""

from __future__ import annotations

import numpy as np

from app.attribution import COD_AB, DTM

MODEL_NOTE = (
    "Flows labelled 'modelled' were built from published totals and hosting figures by a "
    "documented model (docs/storm-daniel-flow-model.md); they reproduce the published "
    "figures but are not an observed origin-destination matrix. Real flows posted through "
    "the ingest API replace them."
)
_COLUMNS = (
    "round_code",
    "population_type",
    "origin_pcode",
    "origin_level",
    "origin_name_en",
    "origin_name_ar",
    "destination_pcode",
    "destination_level",
    "destination_name_en",
    "destination_name_ar",
    "individuals",
    "households",
    "share_of_origin",
    "share_of_destination",
    "internal",
    "quality",
    "sources",
)
HXL = {
    "round_code": "#round+code",
    "population_type": "#population+type",
    "origin_pcode": "#adm+code+origin",
    "origin_level": "#adm+level+origin",
    "origin_name_en": "#adm+name+origin+i_en",
    "origin_name_ar": "#adm+name+origin+i_ar",
    "destination_pcode": "#adm+code+dest",
    "destination_level": "#adm+level+dest",
    "destination_name_en": "#adm+name+dest+i_en",
    "destination_name_ar": "#adm+name+dest+i_ar",
    "individuals": "#affected+ind",
    "households": "#affected+hh",
    "share_of_origin": "#indicator+share+origin",
    "share_of_destination": "#indicator+share+dest",
    "internal": "#meta+internal",
    "quality": "#meta+quality",
    "sources": "#meta+source",
}


def meta(rows: list[dict], extra: dict) -> dict:
    qualities = sorted({r["quality"] for r in rows})
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["round_code"]] = totals.get(r["round_code"], 0) + r["individuals"]
    out = {
        **extra,
        "returned": len(rows),
        # rounds are snapshots of the same people: totals add up within a round only
        "total_individuals": sum(totals.values()) if len(totals) <= 1 else None,
        "totals_by_round": totals,
        "qualities": qualities,
        "sources": sorted({s for r in rows for s in r["sources"]}),
        "source_urls": sorted({u for r in rows for u in (r["source_urls"] or ())}),
        "attribution": [DTM, COD_AB],
    }
    if "modelled" in qualities:
        out["notes"] = MODEL_NOTE
    return out


def _public(row: dict) -> dict:
    return {k: row[k] for k in (*_COLUMNS, "stored_flows")}


def as_document(rows: list[dict], extra: dict) -> dict:
    """The JSON answer: flows and their metadata."""
    return {"data": [_public(r) for r in rows], "meta": meta(rows, extra)}


def _line(row: dict, arc: bool) -> list[list[float]]:
    a = np.array([row["origin_lon"], row["origin_lat"]])
    b = np.array([row["destination_lon"], row["destination_lat"]])
    if not arc or np.allclose(a, b):
        return [a.round(6).tolist(), b.round(6).tolist()]
    # A quadratic Bezier bending to the right of the direction of travel, so that the two
    # directions between a pair of places stay apart.
    d = b - a
    control = (a + b) / 2 + 0.2 * np.array([d[1], -d[0]])
    t = np.linspace(0, 1, 17)[:, None]
    points = (1 - t) ** 2 * a + 2 * (1 - t) * t * control + t**2 * b
    return points.round(6).tolist()


def as_features(rows: list[dict], arc: bool) -> list[tuple[int, dict, dict]]:
    """(id, GeoJSON LineString, properties) per flow: origin to destination, straight or
    as an arc."""
    return [
        (i, {"type": "LineString", "coordinates": _line(r, arc)}, _public(r))
        for i, r in enumerate(rows, start=1)
    ]


def as_table(rows: list[dict]) -> tuple[tuple[str, ...], list[dict]]:
    """Columns and rows of the CSV (HXL tags in `HXL`)."""
    return _COLUMNS, rows


def flowmap(rows: list[dict]) -> dict[str, list[dict]]:
    """flowmap.blue / flowmap.gl layout: locations (id, name, lat, lon) and flows (origin,
    dest, count)."""
    locations: dict[str, dict] = {}
    for r in rows:
        for end in ("origin", "destination"):
            locations.setdefault(
                r[f"{end}_pcode"],
                {
                    "id": r[f"{end}_pcode"],
                    "name": r[f"{end}_name_en"],
                    "lat": round(r[f"{end}_lat"], 6),
                    "lon": round(r[f"{end}_lon"], 6),
                },
            )
    located = sorted(locations.values(), key=lambda x: x["id"])
    moves = [
        {"origin": r["origin_pcode"], "dest": r["destination_pcode"], "count": r["individuals"]}
        for r in rows
        if not r["internal"]
    ]
    return {"locations": located, "flows": moves}
