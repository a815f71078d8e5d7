"""What a round report holds, gathered from the services as typed content (no rendering).

Every figure comes from the statistics read path (app.services.stats: a total per area
is the stored roll-up's, never re-summed here), the round and its predecessor from the
rounds catalogue (app.services.rounds), the maps from app.maps.svg's `map_view`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from app.attribution import APPROXIMATE_NOTE
from app.maps import svg
from app.maps.svg import MapView
from app.services import events, indicators, operations, rounds, stats, stats_views
from app.services.operations import Operation
from app.services.rounds import RoundRef
from app.services.stats import StatsFilter
from app.vocabulary import POPULATION_TYPES

TOP = 10
MAP_LEVELS = (1, 2)
TABLE_LEVEL = 2  # top areas and movers: baladiyas in Libya, districts in Iraq
TIMELINE_ROWS = 24
INDICATORS = 30  # the first, in topic order; the rest are named by count (the API has them)


@dataclass(frozen=True)
class KeyFigure:
    population_type: str
    individuals: int | None
    households: int | None
    previous: int | None  # the previous round's figure (of the same kind), if any
    change: int | None
    change_percent: float | None  # as GET /api/v1/stats/change gives it (2 decimals)
    complete: bool
    quality: str


@dataclass(frozen=True)
class CoverageLine:
    population_type: str
    level: int
    areas: int
    of: int
    whole: bool


@dataclass(frozen=True)
class AreaRow:
    pcode: str
    name_en: str
    name_ar: str
    parent_en: str
    parent_ar: str
    population_type: str
    individuals: int
    households: int | None
    quality: str


@dataclass(frozen=True)
class Mover:
    pcode: str
    name_en: str
    name_ar: str
    population_type: str
    before: int
    after: int
    change: int
    change_percent: float | None


@dataclass(frozen=True)
class SeriesPoint:
    round_label: str
    when: date | None
    population_type: str
    individuals: int


@dataclass(frozen=True)
class IndicatorRow:
    population_type: str | None
    topic: str
    indicator: str
    unit: str
    value: float | None  # a fraction (0..1) when `fraction`
    fraction: bool  # a share of households or individuals, or of areas answering yes
    text_value: str | None
    quality: str


@dataclass(frozen=True)
class TimelineEntry:
    period: str
    metric: str
    value: float
    unit: str | None
    name_en: str | None
    name_ar: str | None


@dataclass(frozen=True)
class Report:
    operation: Operation
    round: RoundRef
    label: str  # R39, or the round's date for a round without number
    title: str
    kind: str
    collection_start: date | None
    collection_end: date | None
    previous: RoundRef | None
    previous_label: str | None
    key_figures: list[KeyFigure]
    coverage: list[CoverageLine]
    partial: bool  # some population type's figures do not cover a whole level
    top_areas: dict[str, list[AreaRow]]  # by population type
    movers: list[Mover]
    series: list[SeriesPoint]
    indicators: list[IndicatorRow]
    indicators_total: int  # how many indicators the round has (a report shows INDICATORS)
    maps: list[MapView]
    missing: list[str]  # population types without figures in the round (no map drawn)
    timeline: list[TimelineEntry]
    event: str | None
    sources: list[str]
    source_url: str | None
    qualities: list[str]
    attribution: list[str]
    approximate_note: str | None


def label_of(ref: RoundRef) -> str:
    """The round as people name it: R39, else its code (flash updates can share a date)."""
    return f"R{ref.number}" if ref.number else ref.code


def gather(session: Session, round_code: str, operation: str | None = None) -> Report:
    """The report of a round (404 for an unknown round or operation, or a round of another
    operation than the one named)."""
    op = operations.resolve(session, operation) if operation else None
    known = rounds.catalogue(session, op.iso3 if op else None)
    ref = known.resolve(round_code)[0] if op else known.require(round_code)
    op = op or operations.all_operations(session)[ref.operation]
    every = rounds.catalogue(session, op.iso3)
    previous = every.previous(ref)
    row = rounds.list_rounds(session, op.iso3, code=ref.code)[0]

    national = _national(session, op, ref)
    before = _national(session, op, previous) if previous else {}
    key_figures = []
    for kind in POPULATION_TYPES:
        now = national.get(kind)
        if now is None:
            continue
        old = before.get(kind)
        old_value = old["individuals"] if old else None
        delta = None if old_value is None else now["individuals"] - old_value
        key_figures.append(
            KeyFigure(
                kind,
                now["individuals"],
                now["households"],
                old_value,
                delta,
                round(100 * delta / old_value, 2) if delta is not None and old_value else None,
                bool(now["complete"]),
                now["quality"],
            )
        )
    coverage = [
        CoverageLine(kind, level, c.areas, c.of, c.whole)
        for (kind, level), c in sorted(ref.coverage.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        if level > 0
    ]
    present = [k for k in POPULATION_TYPES if any(c.population_type == k for c in coverage)]
    maps = [
        svg.map_view(session, ref.code, level, kind)
        for kind in present
        for level in MAP_LEVELS
        if level in op.levels and (kind, level) in ref.coverage
    ]
    table_rows = _rows(session, op, ref, TABLE_LEVEL)
    event = row["event_slug"]
    names = _indicator_names(session, ref)
    sources = {s for r in [*national.values(), *table_rows] for s in (r["sources"] or ())}
    return Report(
        operation=op,
        round=ref,
        label=label_of(ref),
        title=row["title"],
        kind=ref.kind,
        collection_start=row["collection_start"],
        collection_end=row["collection_end"],
        previous=previous,
        previous_label=label_of(previous) if previous else None,
        key_figures=key_figures,
        coverage=coverage,
        partial=any(not c.whole for c in coverage),
        top_areas=_top(table_rows, present),
        movers=_movers(session, op, ref, previous),
        series=_series(session, op, ref),
        indicators=_indicators(session, ref, names[:INDICATORS]),
        indicators_total=len(names),
        maps=maps,
        missing=[k for k in POPULATION_TYPES if k not in present],
        timeline=_timeline(session, event) if event else [],
        event=event,
        sources=sorted(sources | ({row["source"]} if row["source"] else set())),
        source_url=row["source_url"],
        qualities=sorted({r["quality"] for r in [*national.values(), *table_rows]}),
        attribution=op.attribution(rated=False),
        approximate_note=APPROXIMATE_NOTE if any(m.approximate for m in maps) else None,
    )


def _filter(op: Operation, ref: RoundRef, level: int) -> StatsFilter:
    return StatsFilter(level=level, operation=op.iso3, round_ids=(ref.id,), collapse_reasons=True)


def _rows(session: Session, op: Operation, ref: RoundRef, level: int) -> list[dict]:
    return stats.statistics(session, _filter(op, ref, level)).rows


def _national(session: Session, op: Operation, ref: RoundRef) -> dict[str, dict]:
    """The round's level-0 row per population type (the operation's total)."""
    return {r["population_type"]: r for r in _rows(session, op, ref, 0)}


def _top(rows: list[dict], kinds: list[str]) -> dict[str, list[AreaRow]]:
    out = {}
    for kind in kinds:
        found = [r for r in rows if r["population_type"] == kind and r["individuals"]]
        found.sort(key=lambda r: (-r["individuals"], r["pcode"]))
        if found:
            out[kind] = [
                AreaRow(
                    r["pcode"],
                    r["name_en"] or r["pcode"],
                    r["name_ar"] or "",
                    r["parent_name_en"] or "",
                    r["parent_name_ar"] or "",
                    kind,
                    r["individuals"],
                    r["households"],
                    r["quality"],
                )
                for r in found[:TOP]
            ]
    return out


def _movers(
    session: Session, op: Operation, ref: RoundRef, previous: RoundRef | None
) -> list[Mover]:
    if previous is None:
        return []
    flt = replace(_filter(op, ref, TABLE_LEVEL), round_ids=None)
    found = stats_views.change(session, flt, previous.id, ref.id, TOP).meta["top_movers"]
    return [
        Mover(
            m["pcode"],
            m["name_en"] or m["pcode"],
            m["name_ar"] or "",
            m["population_type"],
            m["before"],
            m["after"],
            m["change"],
            m["change_percent"],
        )
        for m in found
    ]


def _series(session: Session, op: Operation, ref: RoundRef) -> list[SeriesPoint]:
    """The operation's totals over its rounds of the report's kind, up to the report's."""
    flt = replace(_filter(op, ref, 0), round_ids=None)
    order = rounds.order_key(ref.when, ref.code)
    points = []
    for series in stats_views.timeseries(session, flt).rows:
        for p in series["points"]:
            if p["round_kind"] != ref.kind or p["individuals"] is None:
                continue
            if rounds.order_key(p["reporting_date"], p["round_code"]) > order:
                continue
            label = f"R{p['round_number']}" if p["round_number"] else None
            if label is None:  # a flash update: its date is shorter than its code
                when = p["reporting_date"]
                label = when.isoformat() if when else p["round_code"]
            points.append(
                SeriesPoint(label, p["reporting_date"], series["population_type"], p["individuals"])
            )
    return sorted(points, key=lambda p: (p.population_type, p.when or date.max, p.round_label))


def _indicator_names(session: Session, ref: RoundRef) -> list[str]:
    """The round's indicators in the order the API lists them (by type, topic, name)."""
    if not ref.has_indicators:
        return []
    known = indicators.known_indicators(session, ref.id)
    return list(dict.fromkeys(k["indicator"] for k in known))


def _indicators(session: Session, ref: RoundRef, names: list[str]) -> list[IndicatorRow]:
    if not names:
        return []
    names = tuple(names)
    found = indicators.indicator_values(session, indicators.IndicatorFilter(ref.id, 0, names))
    return [
        IndicatorRow(
            r["population_type"],
            r["topic"],
            r["indicator"],
            r["unit"],
            r["share"] if r["share"] is not None else r["value"],
            r["share"] is not None or r["unit"] == "flag",
            r["text_value"],
            r["quality"],
        )
        for r in found
    ]


def _timeline(session: Session, slug: str) -> list[TimelineEntry]:
    found = events.event(session, slug)["timeline"]
    return [
        TimelineEntry(f["period"], f["metric"], f["value"], f["unit"], f["name_en"], f["name_ar"])
        for f in found[:TIMELINE_ROWS]
    ]
