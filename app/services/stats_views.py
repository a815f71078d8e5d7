"""Statistics shaped for output: envelopes, wide tables and map features (data only;
the web layer writes the bytes)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from app.attribution import APPROXIMATE_NOTE
from app.errors import InvalidParameter
from app.geo import encoded
from app.services import formats, operations, stats
from app.services.paging import Page
from app.services.rounds import RoundRef, catalogue
from app.services.stats import StatsFilter


@dataclass
class Result:
    """Rows (or map features, or encoded rows) of one answer, with their metadata and the
    total before paging. `features` are (id, encoded geometry, properties) for GeoJSON."""

    rows: list[dict]
    meta: dict
    total: int
    features: list[tuple] | None = None
    encoded: bytes | None = None  # rows stored encoded: the contents of a JSON array
    returned: int | None = None  # how many rows `encoded` holds


def _operation(session: Session, flt: StatsFilter) -> operations.Operation:
    return operations.all_operations(session)[flt.operation]


def _attribution(session: Session, flt: StatsFilter, rated: bool) -> list[str]:
    """Whose figures and boundaries these are; the denominators' too if a rate is given."""
    return _operation(session, flt).attribution(rated)


def _level_name(session: Session, flt: StatsFilter) -> str:
    return _operation(session, flt).level_name(flt.level)


_NOTES = (
    "Values are stored figures, or sums of the level below when an area has none of its "
    "own; 'complete' is false for sums of only some of the areas below. per_1000 is per "
    "1,000 residents (see denominators)."
)


def _no_denominators(op) -> str:
    if op.denominators:
        return ""
    return f" No population denominator for {op.name_en} is in DTM Geo's data: per_1000 is empty."


def statistics_rows(session: Session, flt: StatsFilter, page: Page) -> Result:
    """A page of statistics rows as stored encoded (`Result.encoded`), with its meta."""
    paged = stats.statistics_encoded(session, flt, page)
    meta = {
        "level": flt.level,
        "level_name": _level_name(session, flt),
        **stats.metadata(session, paged.rounds, paged.sources, paged.qualities, paged.rated),
        "attribution": _attribution(session, flt, paged.rated),
        "order": [
            "reporting_date",
            "round_code",
            "pcode",
            "population_type",
            "displacement_reason",
        ],
        "notes": _NOTES + _no_denominators(_operation(session, flt)),
    }
    return Result([], meta, paged.total, encoded=paged.rows, returned=paged.returned)


def statistics_table(session: Session, flt: StatsFilter, page: Page) -> Result:
    """One row per round, area and reason with a column per population type; `meta`
    names the columns (in HXL order) and the file."""
    paged = stats.statistics_by_key(session, flt, page)
    table = formats.wide(paged.rows, flt.level)
    meta = {
        "columns": formats.columns(table, flt.level),
        "filename": f"dtm-{_operation(session, flt).slug}-{formats.LEVEL_PREFIX[flt.level]}.csv",
    }
    return Result(table, meta, paged.total)


def statistics_features(
    session: Session, flt: StatsFilter, page: Page, approximate: bool
) -> Result:
    """One feature per area for one round (the latest matching one unless given), its
    geometry joined by pcode from the encoded geometries: a page of areas with their
    figures, by SQL."""
    flt, shown = map_round(session, flt)
    if flt.any_reason:
        flt = replace(flt, collapse_reasons=True)
    mapped = stats.map_page(session, flt, page, approximate)
    shapes = encoded.geometries(session, "approximate" if approximate else "official")
    features = [(pcode, shapes.get(pcode), properties) for pcode, properties in mapped.areas]
    meta = {
        "round": shown.code if shown else None,
        "level": flt.level,
        "level_name": _level_name(session, flt),
        "sources": mapped.sources,
        "attribution": _attribution(session, flt, mapped.rated),
        "note": APPROXIMATE_NOTE if approximate else None,
    }
    return Result([], meta, mapped.total, features)


def map_round(session: Session, flt: StatsFilter) -> tuple[StatsFilter, RoundRef | None]:
    """The one round a map of the filter shows: the one it names, else the latest whose
    figures of its population types cover its level (within its round and date bounds);
    the filter narrowed to it (to no round when there is none)."""
    if flt.round_ids is not None and len(flt.round_ids) > 1:
        raise InvalidParameter("round", "a map shows one round at a time: give a single round")
    known = catalogue(session, flt.operation)
    if flt.round_ids:
        shown = known.by_id(flt.round_ids[0])
    else:
        shown = known.latest(flt.population_types, flt.level, among=flt.admits)
    return replace(flt, round_ids=(shown.id,) if shown else ()), shown


def timeseries(session: Session, flt: StatsFilter) -> Result:
    rows = stats.statistics(session, flt).rows
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
        "attribution": _attribution(session, flt, any(r["per_1000"] is not None for r in rows)),
    }
    return Result(data, meta, len(data))


def change(
    session: Session, flt: StatsFilter, before_round: int, after_round: int, top: int
) -> Result:
    """Round-over-round change per area, with the `top` largest movers (by absolute
    change), increases and decreases, the largest first."""
    before = {
        _change_key(r): r
        for r in stats.statistics(session, replace(flt, round_ids=(before_round,))).rows
    }
    after = {
        _change_key(r): r
        for r in stats.statistics(session, replace(flt, round_ids=(after_round,))).rows
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
    changed = [d for d in data if d["change"] is not None]
    movers = sorted(changed, key=lambda d: (-abs(d["change"]), d["pcode"], d["population_type"]))
    increases = sorted(
        (d for d in changed if d["change"] > 0),
        key=lambda d: (-d["change"], d["pcode"], d["population_type"]),
    )
    decreases = sorted(
        (d for d in changed if d["change"] < 0),
        key=lambda d: (d["change"], d["pcode"], d["population_type"]),
    )
    meta = {
        "level": flt.level,
        "rows": len(data),
        **stats.sources_metadata(session, [*before.values(), *after.values()]),
        "attribution": _attribution(session, flt, False),
    }
    tops = {
        "top_movers": movers[:top],
        "top_increases": increases[:top],
        "top_decreases": decreases[:top],
    }
    return Result(data, {**tops, "meta": meta}, len(data))


def _change_key(row: dict) -> tuple:
    return row["pcode"], row["population_type"], row["displacement_reason"]


def nationalities(session: Session, flt: StatsFilter, page: Page) -> Result:
    paged = stats.nationalities(session, flt, page)
    chunk = paged.rows
    meta = {
        "level": flt.level,
        "rounds": catalogue(session, None).in_order(r["round_code"] for r in chunk),
        "sources": sorted({s for r in chunk for s in r["sources"] or ()}),
        "attribution": _attribution(session, flt, False),
    }
    return Result(chunk, meta, paged.total)
