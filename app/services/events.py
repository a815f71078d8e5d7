"""Events (Storm Daniel 2023...): the published timeline, each snapshot's hosting, flows."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.attribution import COD_AB, DTM
from app.errors import NotFound
from app.services.flow_views import MODEL_NOTE

MODEL_DOC = "docs/storm-daniel-flow-model.md"

_EVENTS = """
SELECT r.event_slug AS slug, count(*) AS rounds,
       min(COALESCE(r.collection_start, r.reporting_date)) AS first_date,
       max(COALESCE(r.collection_end, r.reporting_date)) AS last_date
FROM rounds r WHERE r.event_slug IS NOT NULL
GROUP BY r.event_slug ORDER BY r.event_slug
"""

_ROUNDS = """
SELECT r.id, r.code, r.kind, r.title, r.collection_start, r.collection_end, r.reporting_date,
       r.published_on, r.source, r.source_url,
       (SELECT count(*) FROM flows f WHERE f.round_id = r.id) AS flows
FROM rounds r WHERE r.event_slug = :slug
ORDER BY COALESCE(r.collection_end, r.reporting_date, r.collection_start) NULLS LAST, r.code
"""

_TIMELINE = """
SELECT f.period, f.geography, f.pcode, f.metric, f.value, f.unit, f.source, f.source_url,
       f.note, r.code AS round_code
FROM published_figures f LEFT JOIN rounds r ON r.id = f.round_id
WHERE f.event_slug = :slug
ORDER BY f.dataset, f.row_number
"""

_PUBLISHED = """
SELECT o.pcode, a.level, o.population_type, o.individuals, o.households, o.source_url
FROM observations o JOIN admin_areas a ON a.pcode = o.pcode
WHERE o.round_id = :round_id AND o.quality = 'published' AND o.displacement_reason IS NULL
ORDER BY a.level, o.pcode, o.population_type
"""

_HOSTED_BY_FLOWS = """
SELECT f.destination_pcode AS pcode, sum(f.individuals)::bigint AS individuals,
       CASE WHEN bool_or(f.quality = 'synthetic') THEN 'synthetic'
            WHEN bool_or(f.quality = 'modelled') THEN 'modelled' ELSE 'published' END AS quality
FROM flows f WHERE f.round_id = :round_id AND f.population_type = 'idp'
GROUP BY f.destination_pcode
"""

_NAMES = "SELECT pcode, level, name_en, name_ar, region_pcode FROM admin_areas"


def events(session: Session) -> list[dict]:
    return [dict(r) for r in session.execute(text(_EVENTS)).mappings()]


def _dated(period: str) -> tuple[tuple[int, int, int], str]:
    """('2023-09-21 (approx.)' -> ((2023, 9, 21), 'day')). A month-only figure sorts at mid
    month, a year-only one at the year's end: their day is not known."""
    m = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", period)
    if not m:
        return (9999, 12, 31), "unknown"
    year, month, day = m.groups()
    if day:
        return (int(year), int(month), int(day)), "day"
    if month:
        return (int(year), int(month), 15), "month"
    return (int(year), 12, 31), "year"


def event(session: Session, slug: str) -> dict:
    rounds = [dict(r) for r in session.execute(text(_ROUNDS), {"slug": slug}).mappings()]
    if not rounds:
        raise NotFound(f"unknown event '{slug}'; list events with GET /api/v1/events")
    names = {r["pcode"]: dict(r) for r in session.execute(text(_NAMES)).mappings()}
    figures = [dict(r) for r in session.execute(text(_TIMELINE), {"slug": slug}).mappings()]
    for f in figures:
        f["value"] = float(f["value"]) if f["value"] % 1 else int(f["value"])
        f["name_en"] = names.get(f["pcode"], {}).get("name_en")
        f["name_ar"] = names.get(f["pcode"], {}).get("name_ar")
        key, f["date_precision"] = _dated(f["period"])
        f["_key"] = key
    # A figure for a span ("2023-09-09/2023-09-11") sums up the event as reported later
    # (an annual report): it is not a point in the timeline.
    summary = [f for f in figures if "/" in f["period"]]
    timeline = sorted((f for f in figures if "/" not in f["period"]), key=lambda f: f["_key"])
    for f in figures:
        del f["_key"]
    return {
        "event": slug,
        "rounds": [{k: v for k, v in r.items() if k != "id"} for r in rounds],
        "timeline": timeline,
        "summary_figures": summary,
        "snapshots": [_snapshot(session, r, names, timeline) for r in rounds],
        "meta": {
            "model": MODEL_DOC,
            "notes": MODEL_NOTE,
            "attribution": [DTM, COD_AB],
        },
    }


def _snapshot(session: Session, rnd: dict, names: dict, timeline: list[dict]) -> dict:
    published = [
        dict(r) for r in session.execute(text(_PUBLISHED), {"round_id": rnd["id"]}).mappings()
    ]
    national = {p["population_type"]: p for p in published if p["level"] == 0}
    idp_total = national.get("idp", {}).get("individuals")
    own = [f for f in timeline if f["round_code"] == rnd["code"]]
    displaced = [f for f in own if f["metric"] == "displaced_individuals"]
    headline = max(displaced, key=lambda f: f["value"], default=None)
    shares = {f["pcode"]: f["value"] for f in own if f["metric"] == "share_of_displaced_hosted"}
    hosted_published = {f["pcode"]: f["value"] for f in own if f["metric"] == "idps_hosted"}
    by_flows = {
        r["pcode"]: dict(r)
        for r in session.execute(text(_HOSTED_BY_FLOWS), {"round_id": rnd["id"]}).mappings()
    }
    hosting = []
    for pcode in sorted(set(by_flows) | set(hosted_published)):
        flow = by_flows.get(pcode)
        individuals = flow["individuals"] if flow else hosted_published[pcode]
        entry = {
            "pcode": pcode,
            "name_en": names[pcode]["name_en"],
            "name_ar": names[pcode]["name_ar"],
            "region_pcode": names[pcode]["region_pcode"],
            "individuals": individuals,
            "share_percent": round(100 * individuals / idp_total, 1) if idp_total else None,
            "quality": "published" if pcode in hosted_published else flow["quality"],
        }
        if pcode in hosted_published:
            entry["published_individuals"] = hosted_published[pcode]
        if pcode in shares:
            entry["published_share_percent"] = shares[pcode]
        hosting.append(entry)
    hosting.sort(key=lambda h: (-h["individuals"], h["pcode"]))
    # Baladiya figures of a snapshot without hosting data say how many were displaced in
    # (from) each place, as published; they are not where people stayed.
    displaced_by_area = [
        {
            "pcode": f["pcode"],
            "name_en": f["name_en"],
            "name_ar": f["name_ar"],
            "individuals": f["value"],
            "geography": f["geography"],
            "source_url": f["source_url"],
        }
        for f in displaced
        if f["pcode"] in names and names[f["pcode"]]["level"] == 2
    ]
    links = {}
    if rnd["flows"]:
        base = f"/api/v1/flows?round={rnd['code']}"
        links = {
            "flows": base,
            "flows_geojson": f"{base}&format=geojson",
            "flowmap": f"{base}&format=flowmap",
            "balances": f"/api/v1/flows/areas?round={rnd['code']}&level=2",
        }
    return {
        "round": rnd["code"],
        "title": rnd["title"],
        "idps": idp_total,
        "idp_households": national.get("idp", {}).get("households"),
        "migrants": national.get("migrant", {}).get("individuals"),
        "headline": None
        if headline is None
        else {
            "individuals": headline["value"],
            "geography": headline["geography"],
            "pcode": headline["pcode"],
            "source_url": headline["source_url"],
        },
        "source_url": national.get("idp", {}).get("source_url") or rnd["source_url"],
        "published_figures": [{k: v for k, v in f.items() if k != "round_code"} for f in own],
        "displaced_by_area": displaced_by_area,
        "hosting": hosting,
        "hosting_total": sum(h["individuals"] for h in hosting),
        "flows": rnd["flows"],
        "links": links,
    }
