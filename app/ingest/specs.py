"""What each postable dataset looks like: staging columns, natural key, values, checks."""

from __future__ import annotations

from dataclasses import dataclass

# re-exported for the ingest modules
from app.vocabulary import DISPLACEMENT_REASONS, POPULATION_TYPES, QUALITIES  # noqa: F401


@dataclass(frozen=True)
class Spec:
    name: str
    table: str
    columns: tuple[str, ...]  # staging text columns (plus `line` and `round`)
    key: dict[str, str]  # target key column -> typed staging expression (round_id implied)
    values: dict[str, str]  # target value column -> typed staging expression
    counts: tuple[str, ...]  # whole non-negative numbers; the first is required
    pcodes: tuple[str, ...]  # staging columns holding pcodes
    scope: str | None  # replace mode removes rows of the round within this column's values
    tracked: bool = True  # the table has source_url and updated_at columns
    nullable_keys: tuple[str, ...] = ()  # key columns that may hold NULL (never '')


def _count(column: str) -> str:
    return f"NULLIF(s.{column}, '')::bigint"


OBSERVATIONS = Spec(
    name="observations",
    table="observations",
    columns=(
        "pcode",
        "level",
        "population_type",
        "reason",
        "individuals",
        "households",
        "males",
        "females",
    ),
    key={
        "pcode": "s.pcode",
        "population_type": "s.population_type",
        "displacement_reason": "NULLIF(s.reason, '')",
    },
    values={
        "individuals": _count("individuals"),
        "households": _count("households"),
        "males": _count("males"),
        "females": _count("females"),
    },
    counts=("individuals", "households", "males", "females"),
    pcodes=("pcode",),
    scope="population_type",
    nullable_keys=("displacement_reason",),
)

FLOWS = Spec(
    name="flows",
    table="flows",
    columns=("population_type", "origin_pcode", "destination_pcode", "individuals", "households"),
    key={
        "population_type": "s.population_type",
        "origin_pcode": "s.origin_pcode",
        "destination_pcode": "s.destination_pcode",
    },
    values={"individuals": _count("individuals"), "households": _count("households")},
    counts=("individuals", "households"),
    pcodes=("origin_pcode", "destination_pcode"),
    scope="population_type",
)

NATIONALITIES = Spec(
    name="nationalities",
    table="migrant_nationalities",
    columns=("pcode", "level", "nationality", "individuals"),
    key={"pcode": "s.pcode", "nationality": "s.nationality"},
    values={"individuals": _count("individuals"), "nationality_provider": "s.nationality"},
    counts=("individuals",),
    pcodes=("pcode",),
    scope=None,
    tracked=False,
)

SPECS = {spec.name: spec for spec in (OBSERVATIONS, FLOWS, NATIONALITIES)}
