"""Response models: what the JSON answers hold, for the OpenAPI description.

Answers are written by app.api.writers (bytes assembled once per data version), not
validated through these models at run time; tests check that real answers fit them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.vocabulary import PopulationType, Quality, RoundKind


class _Open(BaseModel):
    """A documented object that may carry more members than it names."""

    model_config = ConfigDict(extra="allow")


class ProblemItem(_Open):
    parameter: str = Field(description="The parameter, field or header at fault.")
    in_: str = Field(alias="in", description="query, path, header, body or request.")
    message: str
    input: Any | None = None


class RowProblem(_Open):
    """A refused write's problem with one value of its body or file."""

    row: int | None = Field(default=None, description="Row (1 = the first data row).")
    column: str | None = None
    value: Any | None = None
    message: str


class Problem(_Open):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = "about:blank"
    title: str = Field(description="The HTTP status phrase.")
    status: int
    detail: str = Field(description="What went wrong and what is expected, for people.")
    errors: list[ProblemItem | RowProblem] | None = Field(
        default=None,
        description="Each bad parameter, with what it expects; or each bad row of a write.",
    )
    incident: str | None = Field(default=None, description="500 only: an id in the log.")


def errors(*statuses: int) -> dict:
    """`responses` entries for the statuses an operation can answer with a problem."""
    described = {
        400: "A malformed parameter (OGC API: every bad parameter)",
        401: "No valid API key",
        403: "The key lacks the scope",
        404: "An unknown pcode, name, round, collection or feature",
        409: "Another write holds the round",
        412: "If-Match names a revision that is no longer current",
        413: "The body is larger than MAX_UPLOAD_BYTES",
        415: "The body's content type is not one this endpoint reads",
        422: "A parameter or row that is malformed or makes no sense",
        503: "The database is unavailable",
    }
    return {
        s: {
            "model": Problem,
            "description": described[s],
            "content": {"application/problem+json": {}},
        }
        for s in statuses
    }


READ_ERRORS = errors(404, 422, 503)
OGC_ERRORS = errors(400, 404, 503)


class Paging(_Open):
    total: int
    limit: int
    offset: int
    returned: int
    next: str | None
    prev: str | None


class Denominator(_Open):
    year: int
    source: str
    definition: str | None


class StatsRow(_Open):
    round_code: str
    round_number: int | None
    round_kind: RoundKind
    event_slug: str | None
    reporting_date: date | None
    level: int
    pcode: str
    name_en: str
    name_ar: str | None
    parent_pcode: str | None
    parent_name_en: str | None
    parent_name_ar: str | None
    population_type: PopulationType
    displacement_reason: str | None
    individuals: int
    households: int | None
    males: int | None
    females: int | None
    quality: Quality
    units: int = Field(description="How many stored figures the value sums.")
    complete: bool = Field(description="False for a sum of only some of the areas below.")
    record_id: int
    stored_levels: list[int]
    sources: list[str]
    population: int | None
    population_year: int | None
    per_1000: float | None


class StatsMeta(Paging):
    level: int
    level_name: str
    rounds: list[str]
    sources: list[str]
    qualities: list[Quality]
    denominators: list[Denominator]
    attribution: list[str]


class Stats(BaseModel):
    data: list[StatsRow]
    meta: StatsMeta


class SeriesPoint(_Open):
    round_code: str
    round_number: int | None
    round_kind: RoundKind
    reporting_date: date | None
    individuals: int
    households: int | None
    per_1000: float | None
    quality: Quality
    complete: bool


class Series(_Open):
    pcode: str
    name_en: str
    name_ar: str | None
    level: int
    population_type: PopulationType
    displacement_reason: str | None
    points: list[SeriesPoint]


class Timeseries(BaseModel):
    data: list[Series]
    meta: dict[str, Any]


class ChangeRow(_Open):
    pcode: str
    name_en: str
    name_ar: str | None
    population_type: PopulationType
    displacement_reason: str | None
    before: int | None
    after: int | None
    change: int | None
    change_percent: float | None
    before_round: str | None
    after_round: str | None
    complete: bool


class Change(BaseModel):
    data: list[ChangeRow]
    top_movers: list[ChangeRow] = Field(description="The largest changes either way.")
    top_increases: list[ChangeRow] = Field(description="The largest increases.")
    top_decreases: list[ChangeRow] = Field(description="The largest decreases.")
    meta: dict[str, Any]


class NationalityRow(_Open):
    round_code: str
    round_number: int | None
    reporting_date: date | None
    level: int
    pcode: str
    name_en: str
    name_ar: str | None
    parent_pcode: str | None
    nationality: str
    nationality_ar: str | None = Field(description="Arabic name, where one is known.")
    individuals: int
    quality: Quality
    complete: bool
    share_percent: float | None
    sources: list[str] | None


class Nationalities(BaseModel):
    data: list[NationalityRow]
    meta: Paging


class Coverage(BaseModel):
    """How much of a level a round's published figures of one population type cover."""

    population_type: PopulationType
    level: int
    areas: int = Field(description="areas of the level with a value")
    of: int = Field(description="areas the level has")
    complete: bool = Field(description="every area has a complete value: not partial")


class RoundRow(_Open):
    code: str
    number: int | None
    kind: RoundKind
    event_slug: str | None
    title: str
    collection_start: date | None
    collection_end: date | None
    reporting_date: date | None
    source: str
    source_url: str | None
    revision: int
    observations: int
    population_types: list[PopulationType]
    admin_levels: list[int]
    qualities: list[Quality]
    coverage: list[Coverage]


class Rounds(BaseModel):
    data: list[RoundRow]
    meta: dict[str, Any]


class OneRound(BaseModel):
    data: RoundRow


class AreaRow(_Open):
    pcode: str
    level: int
    level_name: str
    name_en: str
    name_ar: str | None
    parent_pcode: str | None
    region_pcode: str | None
    ocha_pcode: str | None
    lon: float | None
    lat: float | None


class Areas(BaseModel):
    data: list[AreaRow]
    meta: dict[str, Any]


class OneArea(BaseModel):
    data: AreaRow
    meta: dict[str, Any]


class FlowRow(_Open):
    round_code: str
    population_type: PopulationType
    origin_pcode: str
    destination_pcode: str
    individuals: int
    households: int | None
    share_of_origin: float | None
    share_of_destination: float | None
    internal: bool
    quality: Quality
    sources: list[str]


class Flows(BaseModel):
    data: list[FlowRow]
    meta: dict[str, Any]


class FlowmapLocation(_Open):
    id: str
    name: str
    lat: float
    lon: float


class FlowmapFlow(_Open):
    origin: str
    dest: str
    count: int


class Flowmap(BaseModel):
    """`format=flowmap`: the flowmap.blue / flowmap.gl layout."""

    locations: list[FlowmapLocation]
    flows: list[FlowmapFlow]


class FlowBalance(_Open):
    round_code: str
    population_type: PopulationType
    pcode: str
    level: int
    inflow: int
    outflow: int
    internal: int
    net: int
    hosted: int
    displaced_from: int
    quality: Quality


class FlowBalances(BaseModel):
    data: list[FlowBalance]
    meta: dict[str, Any]


class HotspotRow(_Open):
    pcode: str
    name_en: str
    name_ar: str | None
    value: float | None
    z: float | None
    p_analytic: float | None
    p_permutation: float | None
    class_: str = Field(alias="class")


class Hotspots(BaseModel):
    data: list[HotspotRow]
    meta: dict[str, Any]


class Event(_Open):
    event: str
    rounds: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    snapshots: list[dict[str, Any]]
    meta: dict[str, Any]


class FeatureCollection(_Open):
    """An RFC 7946 FeatureCollection, with the collection's metadata as members."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]


GEOJSON_CONTENT = {"schema": FeatureCollection.model_json_schema()}
CSV_CONTENT = {"schema": {"type": "string", "description": "CSV (see app.api.writers)"}}
