"""Rounds of data collection: the one place rounds are ordered, looked up and chosen.

Every read that needs a default round asks the catalogue, so "the latest round" means the
same thing everywhere (the page reads it from `/api/v1/rounds`): the latest round, in
time order, whose published figures of the asked population type cover every area of the
asked level (`Coverage.whole`). A partial round (a flash update of three baladiyas, say)
is shown only when asked for by name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.memo import Memo
from app.services import operations
from app.vocabulary import LATEST

_UNKNOWN = "unknown round '{}'; list rounds with GET /api/v1/rounds"


@dataclass(frozen=True)
class Coverage:
    """How much of one level a round's published figures of one population type cover."""

    areas: int  # areas of the level with a value (stored, or summed from below)
    complete: int  # of these, complete ones (stored, or summed from every area below)
    of: int  # areas the level has (in the round's operation)
    assessed: bool = False  # the round assessed every area: one without a value had none

    @property
    def whole(self) -> bool:
        """Every area of the level has a complete value (or, in a round that assessed
        every area, every value is complete): the level's figures are the whole picture,
        and their sum is a total."""
        if self.assessed:
            return self.of > 0 and self.areas > 0 and self.complete == self.areas
        return self.of > 0 and self.areas == self.of and self.complete == self.of

    def as_dict(self) -> dict:
        return {"areas": self.areas, "of": self.of, "complete": self.whole}


@dataclass(frozen=True)
class RoundRef:
    """A round as look-ups need it, with its coverage by (population type, level)."""

    id: int
    code: str
    operation: str
    number: int | None
    kind: str
    when: date | None  # reporting date, else end of collection, else publication
    reporting_date: date | None
    has_flows: bool
    has_indicators: bool
    coverage: dict[tuple[str, int], Coverage] = field(
        default_factory=dict, compare=False, hash=False
    )

    def whole(self, population_types: Kinds, level: int) -> bool:
        """Its figures of one of `population_types` (any, when None) cover every area of
        `level`."""
        kinds = _kinds(population_types)
        return any(
            c.whole
            for (kind, at), c in self.coverage.items()
            if at == level and (kinds is None or kind in kinds)
        )


Kinds = str | Collection[str] | None  # a population type, several, or any
Latest = Callable[["Catalogue"], "RoundRef | None"]  # how `latest` is chosen


def _kinds(population_types: Kinds) -> Collection[str] | None:
    return (population_types,) if isinstance(population_types, str) else population_types


_CATALOGUE_SQL = """
SELECT r.id, r.code, r.operation, r.all_areas_assessed, r.number, r.kind,
       COALESCE(r.reporting_date, r.collection_end, r.published_on) AS when, r.reporting_date,
       EXISTS (SELECT 1 FROM flows f WHERE f.round_id = r.id) AS has_flows,
       EXISTS (SELECT 1 FROM indicators i WHERE i.round_id = r.id) AS has_indicators,
       (SELECT json_agg(json_build_array(x.population_type, x.level, x.areas, x.complete))
        FROM (SELECT s.population_type, s.level, count(*) AS areas,
                     count(*) FILTER (WHERE s.complete) AS complete
              FROM rolled_up_figures s
              WHERE s.round_id = r.id AND s.qualities = '{published}' AND s.reasons_collapsed
              GROUP BY 1, 2) x) AS coverage
FROM rounds r
"""
_LEVEL_SIZES_SQL = "SELECT ancestry[1], level, count(*) FROM admin_areas GROUP BY 1, 2"

_CATALOGUE = Memo(8)


def order_key(when: date | None, code: str) -> tuple:
    """The one time order of rounds: by date (undated last), then code."""
    return (when is None, when or date.min, code)


class Catalogue:
    """Every round, read once per data version, in time order (latest last)."""

    def __init__(self, refs: list[RoundRef], round_prefix: str = ""):
        self.round_prefix = round_prefix
        self.rounds = sorted(refs, key=lambda r: order_key(r.when, r.code))
        self._by_code = {r.code: r for r in refs}
        self._by_id = {r.id: r for r in refs}
        self._position = {r.code: n for n, r in enumerate(self.rounds)}

    def get(self, code: str) -> RoundRef | None:
        return self._by_code.get(code)

    def by_id(self, round_id: int) -> RoundRef | None:
        return self._by_id.get(round_id)

    def require(self, code: str) -> RoundRef:
        found = self.get(code)
        if found is None:
            raise NotFound(_UNKNOWN.format(code))
        return found

    def in_order(self, codes: Iterable[str]) -> list[str]:
        """Round codes in time order (unknown ones last, by code)."""
        end = len(self._position)
        return sorted(set(codes), key=lambda c: (self._position.get(c, end), c))

    def resolve(self, value: str, latest: Latest | None = None) -> list[RoundRef]:
        """A code (any case, with or without the operation's round prefix: IRQ-R132 or
        R132 in Iraq), a mobility-tracking round number, or `latest`: the round `latest`
        chooses from this catalogue (by default, `Catalogue.latest()`)."""
        folded = value.lower()
        if folded == LATEST:
            found = (latest or Catalogue.latest)(self)
            if found is None:
                raise NotFound(
                    "no round is the latest of what was asked; name a round (list them with "
                    "GET /api/v1/rounds)"
                )
            return [found]
        prefixed = f"{self.round_prefix}{value}".lower()
        found = [
            r
            for r in self.rounds
            if r.code == value
            or r.code.lower() in (folded, prefixed)
            or (r.kind == "mobility_tracking" and str(r.number) == value)
        ]
        if not found:
            raise NotFound(_UNKNOWN.format(value))
        return found

    def latest(
        self,
        population_types: Kinds = None,
        level: int = 0,
        among: Callable[[RoundRef], bool] = lambda _: True,
    ) -> RoundRef | None:
        """The latest round (of those `among` admits) whose published figures of one of
        `population_types` (any, when None) cover every area of `level`."""
        return self._last(lambda r: among(r) and r.whole(population_types, level))

    def previous(self, ref: RoundRef) -> RoundRef | None:
        """The round of the same operation and kind just before `ref` in time order (what
        a round's change is measured against); None for the first of its kind."""
        at = self._position.get(ref.code, 0)
        return next(
            (
                r
                for r in reversed(self.rounds[:at])
                if r.operation == ref.operation and r.kind == ref.kind
            ),
            None,
        )

    def latest_with_flows(self) -> RoundRef | None:
        return self._last(lambda r: r.has_flows)

    def latest_with_indicators(self) -> RoundRef | None:
        return self._last(lambda r: r.has_indicators)

    def latest_codes(self, population_types: Iterable[str], levels: Iterable[int]) -> dict:
        """{population type or 'any': {level: the latest round's code or None}}, as the
        page reads the rule."""
        return {
            kind or "any": {
                str(level): getattr(self.latest(kind, level), "code", None) for level in levels
            }
            for kind in (None, *population_types)
        }

    def _last(self, wanted: Callable[[RoundRef], bool]) -> RoundRef | None:
        return next((r for r in reversed(self.rounds) if wanted(r)), None)


def catalogue(session: Session, operation: str | None) -> Catalogue:
    """The rounds of one operation (its ISO3 code), or of every operation for None (to
    order or look up rounds by code or id)."""
    return _CATALOGUE.get(session, ("rounds", operation), lambda: _one(session, operation))


def _one(session: Session, operation: str | None) -> Catalogue:
    every = _CATALOGUE.get(session, ("rounds", None), lambda: _read_catalogue(session))
    if operation is None:
        return every
    prefix = operations.all_operations(session).get(operation)
    return Catalogue(
        [r for r in every.rounds if r.operation == operation],
        prefix.round_prefix if prefix else "",
    )


def _read_catalogue(session: Session) -> Catalogue:
    sizes = {(op, level): n for op, level, n in session.execute(text(_LEVEL_SIZES_SQL))}
    refs = []
    for row in session.execute(text(_CATALOGUE_SQL)).mappings():
        coverage = {
            (kind, level): Coverage(
                areas,
                complete,
                sizes.get((row["operation"], level), 0),
                row["all_areas_assessed"],
            )
            for kind, level, areas, complete in row["coverage"] or ()
        }
        refs.append(
            RoundRef(
                row["id"],
                row["code"],
                row["operation"],
                row["number"],
                row["kind"],
                row["when"],
                row["reporting_date"],
                row["has_flows"],
                row["has_indicators"],
                coverage,
            )
        )
    return Catalogue(refs)


# --- rounds as rows ----------------------------------------------------------------------

_ROUNDS_SQL = """
SELECT r.code, r.number, r.kind, r.event_slug, r.title, r.collection_start, r.collection_end,
       r.reporting_date, r.source, r.source_url, r.revision,
       coalesce(o.observations, 0) AS observations,
       coalesce(o.population_types, ARRAY[]::text[]) AS population_types,
       coalesce(o.levels, ARRAY[]::smallint[]) AS admin_levels,
       coalesce(o.qualities, ARRAY[]::text[]) AS qualities
FROM rounds r
LEFT JOIN LATERAL (
    SELECT count(*) AS observations,
           array_agg(DISTINCT ob.population_type ORDER BY ob.population_type) AS population_types,
           array_agg(DISTINCT a.level ORDER BY a.level) AS levels,
           array_agg(DISTINCT ob.quality ORDER BY ob.quality) AS qualities
    FROM observations ob JOIN admin_areas a ON a.pcode = ob.pcode
    WHERE ob.round_id = r.id
) o ON true
WHERE r.operation = :operation
  AND (CAST(:code AS text) IS NULL OR r.code = :code)
  AND (CAST(:kind AS text) IS NULL OR r.kind = :kind)
  AND (CAST(:event AS text) IS NULL OR r.event_slug = :event)
"""


def list_rounds(
    session: Session,
    operation: str,
    code: str | None = None,
    kind: str | None = None,
    event: str | None = None,
) -> list[dict]:
    """Rounds in time order; each with its observation count, population types, levels,
    and its coverage: per population type and level, how many areas have a value, of how
    many, and whether that is the whole level (`complete`)."""
    known = catalogue(session, operation)
    params = {"operation": operation, "code": code, "kind": kind, "event": event}
    rows = session.execute(text(_ROUNDS_SQL), params)
    found = {r["code"]: dict(r) for r in rows.mappings()}
    out = []
    for round_code in known.in_order(found):
        row, ref = found[round_code], known.get(round_code)
        row["coverage"] = [
            {"population_type": kind, "level": level, **c.as_dict()}
            for (kind, level), c in sorted((ref.coverage if ref else {}).items())
        ]
        out.append(row)
    return out
