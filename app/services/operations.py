"""Operations: the one place an operation is looked up, and what it says of itself.

An operation (a row of `operations`, from data/catalog/operations.csv) is asked for by its
ISO3 code or slug, any case (`LBY`, `libya`, `IRQ`, `iraq`); no value means the default
(Libya). Its level-0 area has its ISO3 code as pcode, so an area belongs to the
operation first in its ancestry (`SQL_OF_AREA`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.loaders import catalog
from app.memo import Memo


@dataclass(frozen=True)
class Level:
    level: int
    name_en: str
    name_ar: str
    plural_en: str
    plural_ar: str
    geometry: str  # polygon or point


@dataclass(frozen=True)
class Operation:
    iso3: str
    slug: str
    name_en: str
    name_ar: str
    dtm_operation: str
    ocha_prefix: str
    round_prefix: str
    is_default: bool
    boundary_source: str
    figures_source: str
    denominators: str
    map_credit_en: str
    map_credit_ar: str
    map_bounds: tuple[float, float, float, float] | None
    levels: dict[int, Level] = field(default_factory=dict, compare=False, hash=False)

    def level_name(self, level: int) -> str:
        found = self.levels.get(level)
        return found.name_en if found else f"admin{level}"

    @property
    def deepest(self) -> int:
        return max(self.levels, default=0)

    def attribution(self, rated: bool = False) -> list[str]:
        """Whose figures and boundaries these are; the denominators' too if a rate is given."""
        return [
            self.figures_source,
            self.boundary_source,
            *([self.denominators] if rated and self.denominators else []),
        ]

    def describe(self) -> dict:
        return {
            "operation": self.iso3,
            "slug": self.slug,
            "name_en": self.name_en,
            "name_ar": self.name_ar,
            "dtm_operation": self.dtm_operation,
            "default": self.is_default,
            # the part of the world its maps show: west, south, east, north (CRS84)
            "bounds": list(self.map_bounds) if self.map_bounds else None,
            "levels": [
                {"level": n, **{k: v for k, v in vars(lv).items() if k != "level"}}
                for n, lv in sorted(self.levels.items())
            ],
            "attribution": self.attribution(rated=True),
            "denominators": self.denominators or None,
            "map_credit": {"en": self.map_credit_en, "ar": self.map_credit_ar},
        }


_MEMO = Memo(8)
_OPERATIONS_SQL = """
SELECT o.iso3, o.slug, o.name_en, o.name_ar, o.dtm_operation, o.ocha_prefix, o.round_prefix,
       o.is_default, o.boundary_source, o.figures_source, o.denominators,
       o.map_credit_en, o.map_credit_ar, o.map_bounds
FROM operations o ORDER BY NOT o.is_default, o.iso3
"""
_LEVELS_SQL = """
SELECT operation, level, name_en, name_ar, plural_en, plural_ar, geometry
FROM operation_levels ORDER BY operation, level
"""


def all_operations(session: Session) -> dict[str, Operation]:
    """Every operation by ISO3 code, the default first. Before the first load (an empty
    database), the catalogue's."""
    return _MEMO.get(session, "operations", lambda: _read(session))


def _read(session: Session) -> dict[str, Operation]:
    rows = [dict(r) for r in session.execute(text(_OPERATIONS_SQL)).mappings()]
    levels = [dict(r) for r in session.execute(text(_LEVELS_SQL)).mappings()]
    return _build(rows, levels) if rows else from_catalog()


def from_catalog() -> dict[str, Operation]:
    """The operations as data/catalog/ describes them (before any load)."""
    return _build(*catalog.operation_rows())


def _build(rows: list[dict], levels: list[dict]) -> dict[str, Operation]:
    by_operation: dict[str, dict[int, Level]] = {}
    fields = Level.__dataclass_fields__
    for lv in levels:
        level = Level(**{k: v for k, v in lv.items() if k in fields})
        by_operation.setdefault(lv["operation"], {})[level.level] = level
    fields = Operation.__dataclass_fields__
    found = {}
    for r in rows:
        r = {k: v for k, v in r.items() if k in fields}
        r["map_bounds"] = tuple(r["map_bounds"]) if r["map_bounds"] else None
        found[r["iso3"]] = Operation(**r, levels=by_operation.get(r["iso3"], {}))
    return dict(sorted(found.items(), key=lambda kv: (not kv[1].is_default, kv[0])))


def default(session: Session) -> Operation:
    return next(iter(all_operations(session).values()))


def resolve(session: Session, value: str | None) -> Operation:
    """The operation named by ISO3 code or slug (any case); the default for None."""
    known = all_operations(session)
    if value is None or value == "":
        return default(session)
    folded = value.strip().lower()
    for op in known.values():
        if folded in (op.iso3.lower(), op.slug):
            return op
    raise NotFound(f"unknown operation '{value}'; operations: {listing(known)}")


def by_dtm_name(session: Session, name: str) -> Operation | None:
    """The operation the DTM API names `name` ("Iraq conflict"), any case."""
    folded = name.strip().lower()
    return next(
        (o for o in all_operations(session).values() if o.dtm_operation.lower() == folded), None
    )


def listing(known: dict[str, Operation]) -> str:
    return ", ".join(f"{o.iso3} ({o.slug}, {o.dtm_operation})" for o in known.values())


def of_area(session: Session, pcode: str) -> str | None:
    """The ISO3 code of the operation an area belongs to; None for an unknown pcode."""
    return session.execute(
        text("SELECT ancestry[1] FROM admin_areas WHERE pcode = :p"), {"p": pcode}
    ).scalar()


def require_area_in(session: Session, pcode: str, operation: Operation) -> None:
    """NotFound unless `pcode` is an area of `operation`; the message names the operation
    that holds it, when another does."""
    holder = of_area(session, pcode)
    if holder == operation.iso3:
        return
    if holder is None:
        raise NotFound(f"unknown pcode '{pcode}'")
    other = all_operations(session).get(holder)
    name = f"{other.name_en} ({holder})" if other else holder
    raise NotFound(
        f"pcode '{pcode}' is an area of the operation {name}, not of {operation.name_en} "
        f"({operation.iso3}); ask with operation={holder}"
    )
