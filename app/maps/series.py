"""Classes of a series of maps: one legend for every mobility-tracking round of an operation.

A map played round after round compares colours only if each round is coloured by the
same classes. These are the quantile classes (app.maps.classes, the one rule) over the
values of every mobility-tracking round at the level, read in one statement from the
stored roll-up with the rules the map of one round reads it by (published figures,
reasons collapsed, the level's areas in the operation), so each value is the one the
map of its round draws.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.maps.classes import Classes, quantile_classes
from app.maps.svg import check_view
from app.services import rollup, rounds
from app.services.operations import Operation
from app.services.prepared import Prepared
from app.vocabulary import RoundKind

SERIES_KIND = RoundKind.MOBILITY_TRACKING

# every value of the rounds at the level, as the map's MAP_FIGURES reads it: with reasons
# collapsed a (round, area, type) has one row; the map's qualities; no value, no element
_VALUES = Prepared(
    text("""
SELECT coalesce(array_agg(v.value), ARRAY[]::float8[]) AS values,
       count(DISTINCT v.round_id) AS rounds_with_value
FROM (
    SELECT s.round_id,
           CASE WHEN :rate THEN s.per_1000 ELSE s.individuals::float8 END AS value
    FROM rolled_up_figures s
    WHERE s.qualities = CAST(:qualities AS varchar(10)[]) AND s.reasons_collapsed
      AND s.level = :level AND s.ancestry[1] = :operation
      AND s.population_type = :type AND s.round_id = ANY(:round_ids)
) v
WHERE v.value IS NOT NULL""")
)


@dataclass(frozen=True)
class SeriesClasses:
    operation: Operation
    level: int
    population_type: str
    measure: str
    rounds: list[str]  # the series' rounds, in time order
    rounds_with_value: int
    values: int  # (round, area) values the classes are made of
    classes: Classes

    def as_json(self) -> dict:
        return {
            "operation": self.operation.iso3,
            "kind": str(SERIES_KIND),
            "level": self.level,
            "population_type": self.population_type,
            "measure": self.measure,
            "rounds": self.rounds,
            "rounds_with_value": self.rounds_with_value,
            "values": self.values,
            **self.classes.as_json(),
        }


def series_classes(
    session: Session, op: Operation, level: int, population_type: str, measure: str
) -> SeriesClasses:
    """The classes of every mobility-tracking round of `op` at `level` together."""
    check_view(op, level, population_type, measure)
    series = [r for r in rounds.catalogue(session, op.iso3).rounds if r.kind == SERIES_KIND]
    found = _VALUES.run(
        session,
        {
            "rate": measure == "per_1000",
            "qualities": rollup.selection(("published",)),
            "level": level,
            "operation": op.iso3,
            "type": population_type,
            "round_ids": [r.id for r in series],
        },
    ).one()
    values = found["values"]
    return SeriesClasses(
        op,
        level,
        population_type,
        measure,
        [r.code for r in series],
        found["rounds_with_value"],
        len(values),
        quantile_classes(values),
    )
