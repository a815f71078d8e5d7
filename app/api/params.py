"""Query parameters parsed once, in dependencies, into service-level filters."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel

from app.api.deps import SessionDep
from app.errors import InvalidParameter, NotFound
from app.services import areas, indicators, names, rounds
from app.services.indicators import IndicatorFilter
from app.services.stats import StatsFilter
from app.vocabulary import DISPLACEMENT_REASONS, POPULATION_TYPES, QUALITIES

MAX_LIMIT = 10_000
MAX_ROUND = 10_000
MAX_OFFSET = 1_000_000_000
PCODE = r"^(LBY|LY\d{2}|LY\d{4}|LY\d{6}|LY\d{8})$"


MAX_LIST = 200  # values in one list parameter: more than Libya has areas or rounds
DATE_SCHEMA = {"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def words(allowed: tuple[str, ...]) -> dict:
    """OpenAPI for a parameter taking one of `allowed`, or nothing (the default)."""
    return {"pattern": f"^({'|'.join(allowed)})?$"}


def word_list(allowed: tuple[str, ...]) -> dict:
    """OpenAPI for a repeatable parameter whose values are comma-separated `allowed` words
    (or nothing: the default). The parser also takes spaces around the commas."""
    one = "|".join(allowed)
    return {"items": {"type": "string", "pattern": f"^(({one})(,({one}))*)?$"}}


def split_list(values: list[str] | None, parameter: str | None = None) -> list[str] | None:
    """Repeated and comma-separated values alike: ?x=a&x=b or ?x=a,b. With `parameter`,
    more than MAX_LIST distinct values are refused (each is looked up)."""
    if not values:
        return None
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    items = list(dict.fromkeys(items))  # each once, in order
    if parameter and len(items) > MAX_LIST:
        raise InvalidParameter(
            parameter, f"at most {MAX_LIST} different values, got {len(items)}", len(items)
        )
    return items or None


def choices(parameter: str, values: list[str] | None, allowed: tuple[str, ...]) -> list | None:
    values = split_list(values)
    for value in values or ():
        if value not in allowed:
            raise InvalidParameter(
                parameter, f"'{value}' is not one of {', '.join(allowed)}", value
            )
    return values


LimitQuery = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Rows per page (at most {MAX_LIMIT}).", examples=[100]),
]
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.", examples=[0])]


def _date(parameter: str, value: str | None) -> date | None:
    """A calendar date written YYYY-MM-DD (not a timestamp, not a number)."""
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(
            parameter, "expected a date written YYYY-MM-DD, e.g. 2023-09-10", value[:64]
        ) from None


def resolve_rounds(session, values: list[str] | None) -> tuple[int, ...] | None:
    """Round codes (R54, storm-daniel-2023-10-31) or numbers (54) to round ids."""
    values = split_list(values, "round")
    if values is None:
        return None
    known = rounds.catalogue(session)
    return tuple(sorted({r.id for value in values for r in known.resolve(value)}))


def resolve_areas(
    session, pcodes: list[str] | None, place_names: list[str] | None, level: int | None = None
):
    """Pcodes given directly, plus those of English or Arabic names: an area of the
    requested level when the name has one (Derna the baladiya at level 2), else any level."""
    found: list[str] = []
    for pcode in split_list(pcodes, "pcode") or ():
        if not areas.exists(session, pcode):
            raise NotFound(
                f"unknown pcode '{pcode}'; list areas with GET /api/v1/areas?level=1 or ?level=2"
            )
        found.append(pcode)
    for name in split_list(place_names, "name") or ():
        matched = names.resolve(session, name, level) or names.resolve(session, name)
        if not matched:
            hint = names.suggestions(session, name)
            did_you_mean = f" Did you mean {', '.join(hint)}?" if hint else ""
            raise NotFound(
                f"no area is named '{name}'.{did_you_mean} List names with "
                "GET /api/v1/areas?level=1 or ?level=2"
            )
        found.extend(matched)
    return tuple(sorted(set(found))) if (pcodes or place_names) else None


RoundQuery = Annotated[
    list[str] | None,
    Query(
        description="Round code (R54, storm-daniel-2023-10-31) or DTM round number (54); "
        "repeat the parameter or separate with commas.",
        examples=["R54"],
    ),
]
PopulationTypeQuery = Annotated[
    list[str] | None,
    Query(
        description="One or several of idp, returnee, migrant (default: all).",
        examples=["idp,migrant"],
        json_schema_extra=word_list(POPULATION_TYPES),
    ),
]
PcodeQuery = Annotated[
    list[str] | None,
    Query(
        description="Areas (or their children) by pcode: LBY, a mantika (LY0101) or a baladiya "
        "(LY010102); several allowed.",
        examples=["LY0101"],
    ),
]
NameQuery = Annotated[
    list[str] | None,
    Query(
        description="Areas by name in English or Arabic, any common spelling "
        "(Derna, Darnah, درنة); several allowed.",
        examples=["Darnah"],
    ),
]
QualityQuery = Annotated[
    list[str] | None,
    Query(
        description="published (default), modelled, synthetic; non-published figures are only "
        "returned when asked for, and are always labelled.",
        examples=["published"],
        json_schema_extra=word_list(QUALITIES),
    ),
]


StatsLevelQuery = Annotated[
    int,
    Query(
        ge=0,
        le=3,
        description="DTM admin level: 0 country, 1 mantika, 2 baladiya, 3 muhalla.",
        examples=[1],
    ),
]
RoundFromQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ROUND, description="Lowest DTM round number.", examples=[50])
]
RoundToQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ROUND, description="Highest DTM round number.", examples=[54])
]
DateFromQuery = Annotated[
    str | None,
    Query(
        description="Earliest reporting date (YYYY-MM-DD).",
        examples=["2023-01-01"],
        json_schema_extra=DATE_SCHEMA,
    ),
]
DateToQuery = Annotated[
    str | None,
    Query(
        description="Latest reporting date (YYYY-MM-DD).",
        examples=["2024-12-31"],
        json_schema_extra=DATE_SCHEMA,
    ),
]
ReasonQuery = Annotated[
    str | None,
    Query(
        max_length=100,
        description=f"Only this displacement reason: {', '.join(DISPLACEMENT_REASONS)}.",
        examples=["conflict"],
        json_schema_extra=words(DISPLACEMENT_REASONS),
    ),
]


# The statistics filter's parameters, declared once (read by app.api.query); the
# nationalities take them without `reason`.
class ReasonlessQuery(BaseModel):
    """The parameters of a statistics filter without a displacement reason."""

    level: StatsLevelQuery = 0
    round: RoundQuery = None
    round_from: RoundFromQuery = None
    round_to: RoundToQuery = None
    date_from: DateFromQuery = None
    date_to: DateToQuery = None
    population_type: PopulationTypeQuery = None
    pcode: PcodeQuery = None
    name: NameQuery = None
    quality: QualityQuery = None


class StatsQuery(ReasonlessQuery):
    """The parameters of a statistics filter."""

    reason: ReasonQuery = None


def resolve_filter(session, q: ReasonlessQuery) -> StatsFilter:
    """Figures of displaced people: the checks that join parameters, and the rounds and
    areas they name looked up (in the worker thread that answers)."""
    if q.round_from and q.round_to and q.round_from > q.round_to:
        raise InvalidParameter(
            "round_from", f"{q.round_from} is after round_to {q.round_to}", q.round_from
        )
    date_from, date_to = _date("date_from", q.date_from), _date("date_to", q.date_to)
    if date_from and date_to and date_from > date_to:
        raise InvalidParameter(
            "date_from", f"{date_from} is after date_to {date_to}", str(date_from)
        )
    types = choices("population_type", q.population_type, POPULATION_TYPES)
    qualities = choices("quality", q.quality, QUALITIES)
    reason = (getattr(q, "reason", None) or "").strip().lower() or None
    if reason is not None and reason not in DISPLACEMENT_REASONS:
        raise InvalidParameter(
            "reason", f"'{reason}' is not one of {', '.join(DISPLACEMENT_REASONS)}", reason
        )
    return StatsFilter(
        level=q.level,
        # the round catalogue is read once per data version (app.memo), then from memory
        round_ids=resolve_rounds(session, q.round),
        round_from=q.round_from,
        round_to=q.round_to,
        date_from=date_from,
        date_to=date_to,
        population_types=tuple(types or POPULATION_TYPES),
        areas=resolve_areas(session, q.pcode, q.name, q.level) if q.pcode or q.name else None,
        reason=reason,
        any_reason=reason is None,
        qualities=tuple(qualities or ("published",)),
    )


def indicator_filter(
    session: SessionDep,
    indicator: Annotated[
        list[str] | None,
        Query(
            description="Indicator codes; repeat or separate with commas (none: list them).",
            examples=["in_informal_camp_setting_hh,abondoned_buildings_hh"],
        ),
    ] = None,
    round: Annotated[
        list[str] | None,
        Query(
            description="One round, by code or DTM round number (default: the latest with "
            "indicators).",
            examples=["R39"],
            json_schema_extra={"maxItems": 1, "items": {"type": "string", "pattern": "^[^,]*$"}},
        ),
    ] = None,
    level: Annotated[
        int,
        Query(ge=0, le=3, description="0 country, 1 mantika, 2 baladiya, 3 muhalla.", examples=[2]),
    ] = 2,
    population_type: Annotated[
        Literal["idp", "returnee"] | None,
        Query(description="Only this population type.", examples=["idp"]),
    ] = None,
    min_share: Annotated[
        float | None,
        Query(
            gt=0, lt=1, description="Keep areas whose combined share exceeds this.", examples=[0.2]
        ),
    ] = None,
    pcode: PcodeQuery = None,
    name: NameQuery = None,
) -> IndicatorFilter:
    """The indicators asked for (`indicators` empty: the round's list is wanted)."""
    round_ids = resolve_rounds(session, round)
    if round_ids is not None and len(round_ids) != 1:
        raise InvalidParameter("round", "one round at a time", round)
    round_id = round_ids[0] if round_ids else indicators.latest_round(session)
    if round_id is None:
        raise NotFound("no round has indicators; list rounds with GET /api/v1/rounds")
    codes = tuple(sorted({c for c in split_list(indicator, "indicator") or ()}))
    if codes:
        known = {k["indicator"] for k in indicators.known_indicators(session, round_id)}
        unknown = sorted(set(codes) - known)
        if unknown:
            raise NotFound(
                f"unknown indicator(s) {', '.join(unknown)}; list them with "
                "GET /api/v1/indicators?round=..."
            )
    return IndicatorFilter(
        round_id,
        level,
        codes,
        (population_type,) if population_type else None,
        resolve_areas(session, pcode, name, level),
        min_share,
    )
