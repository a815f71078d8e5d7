"""Published indicators (shelter settings, reasons, needs, access to services) at a level.

An area's value is taken from the areas stored at or below it, as the indicator's unit
allows:
- `households`, `individuals`: the sum. `share` divides it by the area's households (or
  individuals) of the indicator's population type in the same round (the observations),
  so shares are household-weighted: a baladiya's share of IDP households in informal camps
  is its muhallas' camp households over its muhallas' IDP households.
- `flag` (1 yes, 0 no): `value` is the share of reporting areas answering yes (unweighted;
  `reported_areas` says how many answered), `yes_areas` how many did.
- `count`: the sum. `percent` and `text`: only at the level they were published at.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.memo import Memo
from app.services.hierarchy import ancestor_at, within_any

SUMMED = ("households", "individuals", "count")

_ROWS = f"""
SELECT i.pcode, {ancestor_at("a", ":level")} AS area, a.level, i.population_type, i.topic,
       i.indicator, i.value, i.text_value, i.unit, i.source, i.quality, r.code AS round_code
FROM indicators i
JOIN admin_areas a ON a.pcode = i.pcode
JOIN rounds r ON r.id = i.round_id
WHERE i.round_id = :round_id AND i.indicator = ANY(:indicators)
  AND (:any_type OR i.population_type = ANY(:types)) AND a.level >= :level
"""

_BASES = f"""
SELECT {ancestor_at("a", ":level")} AS area, o.population_type, o.households, o.individuals
FROM observations o JOIN admin_areas a ON a.pcode = o.pcode
WHERE o.round_id = :round_id AND a.level = 3 AND o.displacement_reason IS NULL
  AND o.quality = 'published'
"""

_AREAS = """
SELECT a.pcode, a.level, a.name_en, a.name_ar, a.parent_pcode,
       p.name_en AS parent_name_en, p.name_ar AS parent_name_ar, a.ancestry
FROM admin_areas a LEFT JOIN admin_areas p ON p.pcode = a.parent_pcode
WHERE a.level = :level
"""


@dataclass(frozen=True)
class IndicatorFilter:
    round_id: int | None  # None: the operation has no round with indicators
    level: int
    indicators: tuple[str, ...]
    population_types: tuple[str, ...] | None = None
    areas: tuple[str, ...] | None = None  # keep areas in (or equal to) these
    min_share: float | None = None  # keep areas whose combined share exceeds it


_MEMO = Memo(128)


def known_indicators(session: Session, round_id: int) -> list[dict]:
    """The round's indicators with their unit, topic, population type and the levels they
    are published at (a percentage or a text answer is given only there)."""
    rows = session.execute(
        text(
            "SELECT i.indicator, i.unit, i.topic, i.population_type,"
            " array_agg(DISTINCT a.level ORDER BY a.level) AS levels"
            " FROM indicators i JOIN admin_areas a ON a.pcode = i.pcode WHERE i.round_id = :r"
            " GROUP BY i.indicator, i.unit, i.topic, i.population_type"
            " ORDER BY i.population_type NULLS LAST, i.topic, i.indicator"
        ),
        {"r": round_id},
    ).mappings()
    return [dict(r) for r in rows]


def indicator_values(session: Session, flt: IndicatorFilter) -> list[dict]:
    """One row per area, population type and indicator, in area and indicator order."""
    return _MEMO.get(session, flt, lambda: _compute(session, flt))


def _compute(session: Session, flt: IndicatorFilter) -> list[dict]:
    params = {
        "round_id": flt.round_id,
        "indicators": list(flt.indicators),
        "any_type": flt.population_types is None,
        "types": list(flt.population_types or ()),
        "level": flt.level,
    }
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in session.execute(text(_ROWS), params).mappings():
        if r["unit"] in ("percent", "text") and r["level"] != flt.level:
            continue  # not summable: only where published
        key = (r["area"], r["population_type"], r["indicator"])
        groups[key].append(dict(r))
    bases: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for b in session.execute(text(_BASES), {**params}).mappings():
        total = bases[(b["area"], b["population_type"])]
        total[0] += b["households"] or 0
        total[1] += b["individuals"] or 0
    found = session.execute(text(_AREAS), {"level": flt.level}).mappings()
    areas = {a["pcode"]: dict(a) for a in found}
    ancestry = {pcode: area.pop("ancestry") for pcode, area in areas.items()}
    out = []
    for (pcode, population_type, indicator), parts in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])
    ):
        area = areas.get(pcode)
        if area is None:
            continue
        first = parts[0]
        unit = first["unit"]
        row = {
            "round_code": first["round_code"],
            **area,
            "population_type": population_type,
            "topic": first["topic"],
            "indicator": indicator,
            "unit": unit,
            "value": None,
            "text_value": None,
            "aggregation": "as_published"
            if len(parts) == 1 and first["level"] == flt.level
            else None,
            "reported_areas": len(parts),
            "yes_areas": None,
            "base": None,
            "share": None,
            "source": first["source"],
            "quality": _worst(p["quality"] for p in parts),
        }
        if unit in SUMMED:
            row["value"] = _number(sum(Decimal(str(p["value"])) for p in parts))
            row["aggregation"] = row["aggregation"] or "sum"
            if unit in ("households", "individuals") and population_type:
                base = bases.get((pcode, population_type))
                if base is not None:
                    row["base"] = base[0] if unit == "households" else base[1]
                    if row["base"]:
                        row["share"] = round(float(row["value"]) / row["base"], 4)
        elif unit == "flag":
            yes = sum(int(p["value"]) for p in parts)
            row["yes_areas"] = yes
            row["value"] = round(yes / len(parts), 4)
            row["aggregation"] = "share_of_areas" if len(parts) > 1 else "as_published"
        else:
            row["value"] = _number(first["value"]) if first["value"] is not None else None
            row["text_value"] = first["text_value"]
        out.append(row)
    if flt.areas is not None:
        wanted = frozenset(flt.areas)
        out = [r for r in out if within_any(ancestry[r["pcode"]], wanted)]
    if flt.min_share is not None:
        out = _over_share(out, flt.min_share)
    return out


def _over_share(rows: list[dict], min_share: float) -> list[dict]:
    """Areas where the requested household (or individual) indicators of a population
    type together exceed `min_share` of its households (individuals); each kept row gets
    that `combined_share`."""
    combined: dict[tuple, float] = defaultdict(float)
    for r in rows:
        if r["share"] is not None:
            combined[(r["pcode"], r["population_type"], r["unit"])] += r["share"]
    kept = []
    for r in rows:
        share = combined.get((r["pcode"], r["population_type"], r["unit"]))
        if share is not None and share > min_share:
            kept.append({**r, "combined_share": round(share, 4)})
    return kept


def _number(value) -> int | float:
    number = float(value)
    return int(number) if number == int(number) else number


def _worst(qualities) -> str:
    order = {"published": 0, "modelled": 1, "synthetic": 2}
    return max(qualities, key=lambda q: order[q])


COLUMNS = (
    "round_code",
    "level",
    "pcode",
    "name_en",
    "name_ar",
    "parent_pcode",
    "parent_name_en",
    "parent_name_ar",
    "population_type",
    "topic",
    "indicator",
    "unit",
    "aggregation",
    "value",
    "text_value",
    "reported_areas",
    "yes_areas",
    "base",
    "share",
    "combined_share",
    "source",
    "quality",
)
HXL = {
    "round_code": "#round+code",
    "level": "#adm+level",
    "pcode": "#loc+code",
    "name_en": "#loc+name+i_en",
    "name_ar": "#loc+name+i_ar",
    "parent_pcode": "#loc+code+parent",
    "parent_name_en": "#loc+name+parent+i_en",
    "parent_name_ar": "#loc+name+parent+i_ar",
    "population_type": "#population+type",
    "topic": "#indicator+topic",
    "indicator": "#indicator+code",
    "unit": "#indicator+unit",
    "aggregation": "#indicator+aggregation",
    "value": "#indicator+value+num",
    "text_value": "#indicator+value+text",
    "reported_areas": "#indicator+reported+num",
    "yes_areas": "#indicator+yes+num",
    "base": "#indicator+base+num",
    "share": "#indicator+share+pct",
    "combined_share": "#indicator+share+combined+pct",
    "source": "#meta+source",
    "quality": "#meta+quality",
}
