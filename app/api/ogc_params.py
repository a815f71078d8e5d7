"""OGC API - Features parameters, declared once: FastAPI checks and documents them, and
one dependency turns them into the service's query for a collection.

Malformed values answer 400 naming the parameter (app.api.errors), as the standard asks;
so does a parameter items do not define, or one the collection has nothing to select by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from app.api.deps import SessionDep
from app.dates import parse_date
from app.errors import InvalidParameter, NotFound
from app.services import cql2, ogc, rounds
from app.services.ogc import CRS84, CRS_URIS, LAT_LON, SHORT_CRS, ItemsQuery
from app.vocabulary import LATEST, POPULATION_TYPES

FILTER_LANGS = ("cql2-text", "cql2-json")
MAX_LIMIT = ogc.MAX_ITEMS
CollectionId = Annotated[str, Path(description="Collection id.", examples=["mantikas"])]
# items' examples are read together: a collection that every other example applies to
LayerId = Annotated[str, Path(description="Collection id.", examples=["stats-admin2"])]


def collection_of(collection_id: str) -> ogc.Collection:
    found = ogc.COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFound(f"unknown collection '{collection_id}'; list them with GET /ogc/collections")
    return found


def known_round(session, code: str | None, operation: str | None = None) -> str | None:
    """The round code as given (None for `latest`: the collection's default), or 404
    when no such round exists (in the collection's operation, when given)."""
    if code is None or code.lower() == LATEST:
        return None
    return rounds.catalogue(session, operation).require(code).code


def _crs(name: str, value: str | None) -> str:
    if value is None:
        return CRS84
    uri = SHORT_CRS.get(value.strip("[]"), value.strip("[]"))
    if uri not in CRS_URIS:
        raise InvalidParameter(
            name, f"'{value}' is not supported; use one of {', '.join(CRS_URIS)}", value
        )
    return uri


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(abs(n) < 1e8 for n in numbers):
        raise InvalidParameter("bbox", "expected four numbers minx,miny,maxx,maxy", value)
    if numbers[0] > numbers[2] or numbers[1] > numbers[3]:
        raise InvalidParameter(
            "bbox", "the lower corner must come first (minx,miny,maxx,maxy)", value
        )
    return tuple(numbers)


def _int(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not re.fullmatch(r"\d{1,12}", value) or not low <= int(value) <= high:
        raise InvalidParameter(name, f"expected a whole number from {low} to {high}", value)
    return int(value)


def _instant(text: str) -> str | None:
    if text in ("", ".."):
        return None
    try:  # GDAL's OAPIF driver sends a date as 2023-10-01T
        return parse_date(text.removesuffix("T"), times=True).isoformat()
    except ValueError as exc:
        raise InvalidParameter("datetime", str(exc), text[:64]) from None


def _datetime(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if "/" in value:
        start, end = (_instant(part) for part in value.split("/", 1))
        if start and end and start > end:
            raise InvalidParameter("datetime", "the interval starts after it ends", value)
        return start, end
    moment = _instant(value)
    return moment, moment


def _filter(
    text: str | None, lang: str | None, crs: str | None, collection: ogc.Collection
) -> tuple[str | None, tuple, set[str]]:
    """The CQL2 `filter` (in `filter-lang`, geometries in `filter-crs`) as SQL, and the
    properties it refers to."""
    lang = lang or "cql2-text"
    if lang not in FILTER_LANGS:
        raise InvalidParameter("filter-lang", "expected cql2-text or cql2-json", lang)
    filter_crs = _crs("filter-crs", crs)  # checked with or without a filter
    if text is None:
        return None, (), set()
    try:
        parsed = cql2.parse(text, lang)
        sql, params = cql2.to_sql(
            parsed,
            ogc.queryables(collection),
            srid=CRS_URIS[filter_crs],
            lat_lon=filter_crs == LAT_LON,
        )
    except cql2.FilterError as exc:
        name, _, message = str(exc).partition(": ")
        if not name.startswith("filter"):
            name, message = "filter", str(exc)
        raise InvalidParameter(name, message) from None
    return sql, tuple(params.items()), cql2.properties(parsed)


def _applies(name: str, collection: ogc.Collection) -> bool:
    """Whether a selection parameter means something on this collection."""
    props = collection.properties
    if name == "round":
        return collection.stats or "round" in props
    if name == "population_type":
        return collection.stats or "population_type" in props
    if name in ("pcode", "area"):
        return "pcode" in props or collection.flows
    return True


def _check_names(request: Request, collection: ogc.Collection) -> None:
    """Unknown parameters, and ones this collection has nothing to select by, are 400
    (OGC API - Features asks for 400 on a parameter it does not define)."""
    for name in request.query_params:
        if name not in ITEM_PARAMETERS:
            raise InvalidParameter(
                name[:64], f"not a parameter of items; known: {', '.join(ITEM_PARAMETERS)}"
            )
        if not _applies(name, collection):
            raise InvalidParameter(
                name, f"the {collection.id} collection has nothing to select by it"
            )


def _text(description: str, example: str, alias: str | None = None, one_of=None, pattern=None):
    """A text parameter; `one_of` (values, or nothing: the default) or `pattern` describe it
    in OpenAPI only, so a bad value still gets this module's 400 naming the parameter."""
    if one_of:
        pattern = "^(" + "|".join(re.escape(value) for value in one_of) + ")?$"
    extra = {"pattern": pattern} if pattern else None
    return Query(alias=alias, description=description, examples=[example], json_schema_extra=extra)


CRS_NAMES = (*SHORT_CRS, *CRS_URIS)


Bbox = Annotated[
    str | None, _text("minx,miny,maxx,maxy (in bbox-crs, default CRS84).", "20,30,25,33")
]
BboxCrs = Annotated[
    str | None,
    _text(
        "CRS of bbox: CRS84, EPSG:4326 (lat,lon) or EPSG:3857, or their URIs.",
        "CRS84",
        "bbox-crs",
        CRS_NAMES,
    ),
]
Crs = Annotated[
    str | None, _text("CRS of the output geometry (same choices).", "EPSG:3857", None, CRS_NAMES)
]
Limit = Annotated[
    str | None,
    _text(
        f"Features per page, 1 to {MAX_LIMIT} (default 100; more is served as {MAX_LIMIT}).",
        "100",
        pattern=r"^[1-9][0-9]{0,8}$",
    ),
]
Offset = Annotated[str | None, _text("Features to skip.", "0", pattern=r"^(0|[1-9][0-9]{0,8})$")]
Datetime = Annotated[
    str | None,
    _text(
        "Reporting date or interval (2024-09-30, 2023-01-01/.., ../2024-12-31); collections "
        "without dates (the boundaries) take it and are not filtered by it.",
        "2024-09-30",
    ),
]
Round = Annotated[
    str | None,
    _text("Round code for the statistics collections (default: the latest with figures).", "R54"),
]
PopulationTypeParam = Annotated[
    str | None,
    _text(f"{', '.join(POPULATION_TYPES)} (statistics, flows).", "migrant", None, POPULATION_TYPES),
]
Pcode = Annotated[
    str | None, _text("Features whose pcode property is this one (flows: either end).", "LY010102")
]
Area = Annotated[
    str | None,
    _text("An area's pcode: the area and the areas within it (flows: either end).", "LY0101"),
]
Format = Annotated[
    str | None,
    _text(
        "json (GeoJSON, default), csv (properties and WKT geometry) or html.",
        "csv",
        None,
        ("json", "geojson", "csv", "html"),
    ),
]
Filter = Annotated[
    str | None,
    _text(
        "CQL2 filter on the collection's queryables, e.g. idps > 1000 AND name_en LIKE 'Der%' "
        "or S_INTERSECTS(geometry, BBOX(20,30,25,33)).",
        "migrants > 1000",
    ),
]
FilterLang = Annotated[
    str | None, _text("cql2-text (default) or cql2-json.", "cql2-text", "filter-lang", FILTER_LANGS)
]
FilterCrs = Annotated[
    str | None,
    _text(
        "CRS of the filter's geometries (same choices as bbox-crs; default CRS84).",
        "CRS84",
        "filter-crs",
        CRS_NAMES,
    ),
]
ITEM_PARAMETERS = (
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "datetime",
    "round",
    "population_type",
    "pcode",
    "area",
    "f",
    "filter",
    "filter-lang",
    "filter-crs",
)


@dataclass(frozen=True)
class ItemsRequest:
    """What an items request asks of one collection, parsed once."""

    collection: ogc.Collection
    crs: str
    query: ItemsQuery
    output: str = "json"


def _items_request(
    request: Request,
    session,
    collection_id: str,
    fid: int | None,
    bbox,
    bbox_crs,
    crs,
    limit,
    offset,
    datetime_,
    round_,
    population_type,
    pcode,
    area,
    f,
    filter_,
    filter_lang,
    filter_crs,
) -> ItemsRequest:
    collection = collection_of(collection_id)
    _check_names(request, collection)
    where, where_params, filtered = _filter(filter_, filter_lang, filter_crs, collection)
    out_crs = _crs("crs", crs)
    box_crs = _crs("bbox-crs", bbox_crs)
    start, end = _datetime(datetime_)
    if population_type not in (None, *POPULATION_TYPES):
        raise InvalidParameter(
            "population_type", f"expected one of {', '.join(POPULATION_TYPES)}", population_type
        )
    output = f or "json"
    if output not in ("json", "geojson", "csv", "html"):
        raise InvalidParameter("f", "expected json (GeoJSON), csv or html", output)
    asked = (population_type,) if population_type else ogc.counted_types(filtered)
    asked_round = known_round(session, round_, collection.operation)
    round_code = ogc.round_for(session, collection, asked_round, asked, start, end)
    query = ItemsQuery(
        bbox=_bbox(bbox),
        bbox_srid=CRS_URIS[box_crs],
        bbox_lat_lon=box_crs == LAT_LON,
        out_srid=CRS_URIS[out_crs],
        out_lat_lon=out_crs == LAT_LON,
        # a limit above the maximum is not an error: OGC API - Features serves the maximum
        limit=min(_int("limit", limit, 100, 1, 10**9), MAX_LIMIT),
        offset=_int("offset", offset, 0, 0, 10**9),
        round=round_code,
        population_type=population_type,
        pcode=pcode,
        area=area,
        date_from=start,
        date_to=end,
        fid=fid,
        filter=where,
        filter_params=where_params,
    )
    return ItemsRequest(collection, out_crs, query, output)


def items_params(
    request: Request,
    session: SessionDep,
    collection_id: LayerId,
    bbox: Bbox = None,
    bbox_crs: BboxCrs = None,
    crs: Crs = None,
    limit: Limit = None,
    offset: Offset = None,
    datetime: Datetime = None,
    round: Round = None,
    population_type: PopulationTypeParam = None,
    pcode: Pcode = None,
    area: Area = None,
    f: Format = None,
    filter: Filter = None,
    filter_lang: FilterLang = None,
    filter_crs: FilterCrs = None,
) -> ItemsRequest:
    return _items_request(
        request, session, collection_id, None, bbox, bbox_crs, crs, limit, offset, datetime,
        round, population_type, pcode, area, f, filter, filter_lang, filter_crs,
    )  # fmt: skip


def item_params(
    request: Request,
    session: SessionDep,
    collection_id: LayerId,
    feature_id: Annotated[str, Path(description="Feature id.", examples=["10102"])],
    crs: Crs = None,
    round: Round = None,
    population_type: PopulationTypeParam = None,
    f: Format = None,
) -> ItemsRequest:
    if not re.fullmatch(r"\d{1,12}", feature_id):
        raise NotFound(f"no feature '{feature_id}' in {collection_id}: ids are whole numbers")
    return _items_request(
        request, session, collection_id, int(feature_id), None, None, crs, None, None,
        None, round, population_type, None, None, f, None, None, None,
    )  # fmt: skip


ItemsParamsDep = Annotated[ItemsRequest, Depends(items_params)]
ItemParamsDep = Annotated[ItemsRequest, Depends(item_params)]
