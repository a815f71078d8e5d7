"""Query parameters parsed once, in dependencies, into service-level filters."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.dates import parse_date
from app.errors import InvalidParameter, NotFound
from app.services import areas, indicators, names, operations, rounds
from app.services.indicators import IndicatorFilter
from app.services.stats import StatsFilter
from app.vocabulary import (
    ADMIN_LEVELS,
    DISPLACEMENT_REASONS,
    POPULATION_TYPES,
    QUALITIES,
    GeometryChoice,
)

MAX_LIMIT = 10_000
MAX_ROUND = 10_000
MAX_OFFSET = 1_000_000_000
# an operation's country (LBY, IRQ) or an area's pcode (LY0101, IQG01Q01, IQG01Q01S01)
PCODE = r"^([A-Z]{3}|[A-Z]{2}[A-Z0-9]{1,14})$"


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
GeometryQuery = Annotated[
    GeometryChoice,
    Query(
        description="GeoJSON baladiya geometry: official points or approximate polygons.",
        examples=["approximate"],
    ),
]


OperationQuery = Annotated[
    str | None,
    Query(
        max_length=32,
        description="The DTM operation, by ISO3 code or slug: LBY or libya (the default), "
        "IRQ or iraq. List them with GET /api/v1/operations.",
        examples=["IRQ"],
    ),
]


def resolve_operation(session, value: str | None) -> operations.Operation:
    """The operation asked for (default: Libya); 404 listing the operations if unknown."""
    return operations.resolve(session, value)


def check_level(operation: operations.Operation, level: int | None, parameter: str = "level"):
    """A level the operation has (0 to its deepest), or InvalidParameter naming them."""
    if level is not None and level not in operation.levels:
        named = ", ".join(f"{n} {lv.name_en}" for n, lv in sorted(operation.levels.items()))
        raise InvalidParameter(
            parameter, f"{operation.name_en} ({operation.iso3}) has the levels {named}", level
        )
    return level


def resolve_rounds(
    session,
    values: list[str] | None,
    latest: rounds.Latest | None = None,
    operation: str = "LBY",
) -> tuple[int, ...] | None:
    """Round codes (R54, storm-daniel-2023-10-31), numbers (54) or `latest` (the round
    `latest` chooses, see app.services.rounds) of the operation to round ids."""
    values = split_list(values, "round")
    if values is None:
        return None
    known = rounds.catalogue(session, operation)
    return tuple(sorted({r.id for v in values for r in known.resolve(v, latest)}))


def latest_covering(population_types, level: int) -> rounds.Latest:
    """`latest` of the statistics: the latest round whose figures of `population_types`
    cover every area of `level`."""
    return lambda known: known.latest(population_types, level)


def resolve_areas(
    session,
    pcodes: list[str] | None,
    place_names: list[str] | None,
    level: int | None = None,
    operation: str = "LBY",
):
    """Pcodes given directly, plus the areas English or Arabic names mean at `level`
    (app.services.names.resolve_at: Derna the baladiya at levels 2 and 3), all of the
    operation (a pcode of another is a 404 that names the operation holding it)."""
    found: list[str] = []
    for pcode in split_list(pcodes, "pcode") or ():
        if not areas.exists(session, pcode):
            raise NotFound(
                f"unknown pcode '{pcode}'; list areas with GET /api/v1/areas?level=1 or ?level=2"
            )
        operations.require_area_in(session, pcode, operations.resolve(session, operation))
        found.append(pcode)
    for name in split_list(place_names, "name") or ():
        matched = names.resolve_at(session, name, level, operation)
        if not matched:
            hint = names.suggestions(session, name, operation=operation)
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
        description="Round code (R54, storm-daniel-2023-10-31), DTM round number (54) or "
        "`latest` (the latest round whose figures cover every area of the level asked); "
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
    int | None,
    Query(
        ge=0,
        le=max(ADMIN_LEVELS),
        description="DTM admin level: 0 country, 1 mantika, 2 baladiya, 3 muhalla in Libya; "
        "1 governorate, 2 district, 3 sub-district, 4 location in Iraq (default: "
        "the level of the areas `pcode` or `name` give, else 0).",
        examples=[1],
    ),
]
RoundFromQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ROUND, description="Lowest DTM round number.", examples=[50])
]
RoundToQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ROUND, description="Highest DTM round number.", examples=[54])
]


def _calendar_date(value, info: ValidationInfo):
    """A date parameter (app.dates), refused naming the parameter."""
    if value is None or isinstance(value, date):
        return value
    try:
        return parse_date(str(value))
    except ValueError as exc:
        raise InvalidParameter(info.field_name, str(exc), str(value)[:64]) from None


CalendarDate = Annotated[date | None, BeforeValidator(_calendar_date)]


DateFromQuery = Annotated[
    CalendarDate,
    Query(
        description="Earliest reporting date (YYYY-MM-DD).",
        examples=["2023-01-01"],
        json_schema_extra=DATE_SCHEMA,
    ),
]
DateToQuery = Annotated[
    CalendarDate,
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


def ordered(q: BaseModel, low: str, high: str) -> None:
    """A cross-field rule: `low` is not after `high` (either may be missing)."""
    first, last = getattr(q, low), getattr(q, high)
    if first is not None and last is not None and first > last:
        raise InvalidParameter(low, f"{first} is after {high} {last}", str(first))


def each_of(allowed: tuple[str, ...]):
    """A list parameter's values, each one of `allowed` (refused naming the parameter)."""

    def check(values, info: ValidationInfo):
        return choices(info.field_name, values, allowed)

    return AfterValidator(check)


# The statistics filter's parameters, declared once (read by app.api.query) with the rules
# that join them; the nationalities take them without `reason`.
class ReasonlessQuery(BaseModel):
    """The parameters of a statistics filter without a displacement reason."""

    operation: OperationQuery = None
    level: StatsLevelQuery = None
    round: RoundQuery = None
    round_from: RoundFromQuery = None
    round_to: RoundToQuery = None
    date_from: DateFromQuery = None
    date_to: DateToQuery = None
    population_type: Annotated[PopulationTypeQuery, each_of(POPULATION_TYPES)] = None
    pcode: PcodeQuery = None
    name: NameQuery = None
    quality: Annotated[QualityQuery, each_of(QUALITIES)] = None

    @model_validator(mode="after")
    def _bounds_in_order(self):
        ordered(self, "round_from", "round_to")
        ordered(self, "date_from", "date_to")
        return self


class StatsQuery(ReasonlessQuery):
    """The parameters of a statistics filter."""

    reason: ReasonQuery = None

    @field_validator("reason")
    @classmethod
    def _known_reason(cls, value: str | None) -> str | None:
        reason = (value or "").strip().lower() or None
        if reason is not None and reason not in DISPLACEMENT_REASONS:
            raise InvalidParameter(
                "reason", f"'{reason}' is not one of {', '.join(DISPLACEMENT_REASONS)}", reason
            )
        return reason


def resolve_filter(session, q: ReasonlessQuery) -> StatsFilter:
    """Figures of displaced people: the rounds and areas the query names, looked up (in the
    worker thread that answers). Without `level`, the level of the areas it names (the
    coarsest, when they differ), else the country."""
    types = q.population_type
    op = resolve_operation(session, q.operation)
    check_level(op, q.level)
    named = resolve_areas(session, q.pcode, q.name, q.level, op.iso3) if q.pcode or q.name else None
    level = q.level if q.level is not None else areas.coarsest_level(session, named or ())
    reason = getattr(q, "reason", None)
    return StatsFilter(
        level=level,
        operation=op.iso3,
        # the round catalogue is read once per data version (app.memo), then from memory
        round_ids=resolve_rounds(session, q.round, latest_covering(types, level), op.iso3),
        round_from=q.round_from,
        round_to=q.round_to,
        date_from=q.date_from,
        date_to=q.date_to,
        population_types=tuple(types or POPULATION_TYPES),
        areas=named,
        reason=reason,
        any_reason=reason is None,
        qualities=tuple(q.quality or ("published",)),
    )


class IndicatorsQuery(BaseModel):
    """The parameters of the indicators."""

    operation: OperationQuery = None
    indicator: Annotated[
        list[str] | None,
        Query(
            description="Indicator codes; repeat or separate with commas (none: list them).",
            examples=["in_informal_camp_setting_hh,abondoned_buildings_hh"],
        ),
    ] = None
    round: Annotated[
        list[str] | None,
        Query(
            description="One round, by code, DTM round number or `latest` (default: the "
            "latest with indicators).",
            examples=["R39"],
            json_schema_extra={"maxItems": 1, "items": {"type": "string", "pattern": "^[^,]*$"}},
        ),
    ] = None
    level: Annotated[
        int,
        Query(
            ge=0,
            le=max(ADMIN_LEVELS),
            description="0 country, 1 mantika, 2 baladiya, 3 muhalla (Libya); Iraq's levels "
            "run to 4.",
            examples=[2],
        ),
    ] = 2
    population_type: Annotated[
        Literal["idp", "returnee"] | None,
        Query(description="Only this population type.", examples=["idp"]),
    ] = None
    min_share: Annotated[
        float | None,
        Query(
            gt=0, lt=1, description="Keep areas whose combined share exceeds this.", examples=[0.2]
        ),
    ] = None
    pcode: PcodeQuery = None
    name: NameQuery = None
    format: Annotated[
        Literal["json", "csv", "geojson"],
        Query(
            description="Output format: `geojson` is the map of one indicator.", examples=["csv"]
        ),
    ] = "json"
    geometry: GeometryQuery = GeometryChoice.OFFICIAL


def indicator_filter(session, q: IndicatorsQuery) -> IndicatorFilter:
    """The indicators asked for (`indicators` empty: the round's list is wanted)."""
    op = resolve_operation(session, q.operation)
    check_level(op, q.level)
    latest_rule = rounds.Catalogue.latest_with_indicators
    round_ids = resolve_rounds(session, q.round, latest_rule, op.iso3)
    if round_ids is not None and len(round_ids) != 1:
        raise InvalidParameter("round", "one round at a time", q.round)
    latest = rounds.catalogue(session, op.iso3).latest_with_indicators()
    round_id = round_ids[0] if round_ids else getattr(latest, "id", None)
    codes = tuple(sorted({c for c in split_list(q.indicator, "indicator") or ()}))
    if round_id is None and not codes and q.format == "json":
        # the list of an operation without indicators: empty, not an error
        return IndicatorFilter(None, q.level, ())
    if round_id is None:
        raise NotFound("no round has indicators; list rounds with GET /api/v1/rounds")
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
        q.level,
        codes,
        (q.population_type,) if q.population_type else None,
        resolve_areas(session, q.pcode, q.name, q.level, op.iso3),
        q.min_share,
    )
