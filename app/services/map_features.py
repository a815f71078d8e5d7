"""Map layers beside the figures' own: the change between two rounds and an indicator.

Each is one feature per area of the level (those the filter names), every area present:
an area without a figure is there with nulls and a flag saying why, so that a map tells
"no figure" from zero. The layer's colour classes (app.maps.classes) come with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.attribution import APPROXIMATE_NOTE
from app.geo import encoded
from app.maps.classes import category_classes, diverging_classes, sequential_classes
from app.services import indicators, operations, stats_views
from app.services.hierarchy import within_any
from app.services.rounds import catalogue
from app.services.stats import StatsFilter

_AREAS = """
SELECT a.pcode, a.level, a.name_en, a.name_ar, a.parent_pcode, a.ancestry
FROM admin_areas a
WHERE a.level = :level AND a.ancestry[1] = :operation
ORDER BY a.pcode
"""


@dataclass
class Layer:
    """A map layer: (id, encoded geometry, properties) per area and the collection's
    members (rounds, classes, sources, attribution)."""

    features: list[tuple]
    members: dict


def _areas(session: Session, operation: str, level: int, named) -> list[dict]:
    rows = session.execute(text(_AREAS), {"level": level, "operation": operation}).mappings()
    wanted = frozenset(named) if named is not None else None
    return [
        {k: r[k] for k in ("pcode", "level", "name_en", "name_ar", "parent_pcode")}
        for r in rows
        if wanted is None or within_any(r["ancestry"], wanted)
    ]


def _shapes(session: Session, approximate: bool) -> dict[str, bytes]:
    return encoded.geometries(session, "approximate" if approximate else "official")


def _missing(row: dict | None) -> str | None:
    """Which round has no figure for the area (None: both have one)."""
    if row is None or (row["before"] is None and row["after"] is None):
        return "both"
    if row["before"] is None:
        return "from_round"
    if row["after"] is None:
        return "to_round"
    return None


def change_layer(
    session: Session,
    flt: StatsFilter,
    before_round: int,
    after_round: int,
    top: int,
    approximate: bool,
) -> Layer:
    """The change of one population type between two rounds per area (the change JSON's
    rows, reasons collapsed unless one is chosen), each area flagged in `no_figure_in`
    when a round has no figure for it; diverging classes of `change` and `change_percent`."""
    if flt.population_types is None or len(flt.population_types) != 1:
        raise ValueError("a change map shows one population type")
    flt = replace(flt, collapse_reasons=flt.any_reason)
    result = stats_views.change(session, flt, before_round, after_round, top)
    by_pcode = {r["pcode"]: r for r in result.rows}
    known = catalogue(session, flt.operation)
    codes = (known.by_id(before_round).code, known.by_id(after_round).code)
    shapes = _shapes(session, approximate)
    features = []
    for area in _areas(session, flt.operation, flt.level, flt.areas):
        row = by_pcode.get(area["pcode"])
        properties = {
            **area,
            "population_type": flt.population_types[0],
            "from_round": codes[0],
            "to_round": codes[1],
            "before": row["before"] if row else None,
            "after": row["after"] if row else None,
            "change": row["change"] if row else None,
            "change_percent": row["change_percent"] if row else None,
            "no_figure_in": _missing(row),
            "complete": row["complete"] if row else True,
        }
        features.append((area["pcode"], shapes.get(area["pcode"]), properties))
    values = [f[2] for f in features]
    meta = result.meta["meta"]
    members = {
        "from_round": codes[0],
        "to_round": codes[1],
        "level": flt.level,
        "level_name": operations.all_operations(session)[flt.operation].level_name(flt.level),
        "population_type": flt.population_types[0],
        "areas": len(features),
        "compared": sum(1 for v in values if v["no_figure_in"] is None),
        "classes": {
            "change": diverging_classes(v["change"] for v in values).as_json(),
            "change_percent": diverging_classes(v["change_percent"] for v in values).as_json(),
        },
        "top_movers": result.meta["top_movers"],
        "top_increases": result.meta["top_increases"],
        "top_decreases": result.meta["top_decreases"],
        "rounds": meta["rounds"],
        "sources": meta["sources"],
        "attribution": meta["attribution"],
        "note": APPROXIMATE_NOTE if approximate else None,
    }
    return Layer(features, members)


_MAPPED = (
    "round_code",
    "population_type",
    "topic",
    "indicator",
    "unit",
    "value",
    "text_value",
    "aggregation",
    "reported_areas",
    "base",
    "share",
    "quality",
)


def _classes(unit: str, rows: list[dict]) -> dict:
    """Sequential classes of an indicator's values (equal steps for shares: a flag's
    share of areas answering yes, a percentage), or categories of its text answers."""
    if unit == "text":
        return category_classes(r["text_value"] for r in rows).as_json()
    values = [r["value"] for r in rows]
    bounds = None
    if unit == "flag":
        bounds = (0.0, 1.0)
    elif unit == "percent":  # published as 0-1 or as 0-100
        bounds = (0.0, 1.0) if all(v is None or v <= 1 for v in values) else (0.0, 100.0)
    return sequential_classes(values, bounds).as_json()


def indicator_layer(session: Session, flt: indicators.IndicatorFilter, approximate: bool) -> Layer:
    """One indicator (of one population type, or of none) per area of its round, with its
    unit and round on every feature; an area with no value has nulls."""
    (code,) = flt.indicators
    ref = catalogue(session, None).by_id(flt.round_id)
    op = operations.all_operations(session)[ref.operation]
    rows = indicators.indicator_values(session, flt)
    by_pcode = {r["pcode"]: r for r in rows}
    listed = indicators.known_indicators(session, flt.round_id)
    kind = next(
        k
        for k in listed
        if k["indicator"] == code
        and (flt.population_types is None or k["population_type"] in flt.population_types)
    )
    shapes = _shapes(session, approximate)
    features = []
    for area in _areas(session, op.iso3, flt.level, flt.areas):
        row = by_pcode.get(area["pcode"])
        properties = {**area, **{k: row[k] if row else None for k in _MAPPED}}
        properties.update(
            round_code=ref.code,
            indicator=code,
            unit=kind["unit"],
            topic=kind["topic"],
            population_type=(flt.population_types or (kind["population_type"],))[0],
        )
        features.append((area["pcode"], shapes.get(area["pcode"]), properties))
    members = {
        "round": ref.code,
        "indicator": code,
        "unit": kind["unit"],
        "topic": kind["topic"],
        "population_type": features[0][2]["population_type"] if features else None,
        "level": flt.level,
        "level_name": op.level_name(flt.level),
        "areas": len(features),
        "with_value": sum(1 for r in rows if r["value"] is not None or r["text_value"]),
        "classes": _classes(kind["unit"], rows),
        "sources": sorted({r["source"] for r in rows if r["source"]}),
        "attribution": op.attribution(False),
        "note": APPROXIMATE_NOTE if approximate else None,
    }
    return Layer(features, members)
