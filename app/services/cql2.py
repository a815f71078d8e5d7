"""CQL2 filters (OGC API - Features Part 3) as SQL conditions on a collection's columns.

pygeofilter parses CQL2-text and CQL2-JSON; this module turns its syntax tree into a SQL
condition with bind parameters, checking every property against the collection's
queryables and every literal against the property's type, so that a bad filter is a 400
naming what is wrong and never reaches PostgreSQL as a failing query.

Supported: AND, OR, NOT; =, <>, <, <=, >, >=; LIKE, BETWEEN, IN; IS NULL; CASEI (lower);
property-property comparisons of one type; the spatial predicates S_INTERSECTS,
S_DISJOINT, S_CONTAINS, S_WITHIN, S_TOUCHES, S_CROSSES, S_OVERLAPS and S_EQUALS with a
geometry or BBOX literal (in filter-crs, transformed once to the storage CRS).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass, field

import orjson
import shapely
import shapely.geometry
from pygeofilter import ast, values

from app.errors import DtmGeoError

MAX_FILTER_LENGTH = 20_000
MAX_NODES = 500

# JSON Schema types of the queryables; dates are strings with format "date"
STRING, INTEGER, NUMBER, BOOLEAN, DATE = "string", "integer", "number", "boolean", "date"

_COMPARISONS = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
_SPATIAL = {
    ast.GeometryIntersects: "ST_Intersects",
    ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryContains: "ST_Contains",
    ast.GeometryWithin: "ST_Within",
    ast.GeometryTouches: "ST_Touches",
    ast.GeometryCrosses: "ST_Crosses",
    ast.GeometryOverlaps: "ST_Overlaps",
    ast.GeometryEquals: "ST_Equals",
}
GEOMETRY = "geometry"
_TEMPORAL = re.compile(r"\bT_[A-Z]+\s*\(", re.IGNORECASE)
_NO_TEMPORAL = (
    "temporal operators (T_AFTER, T_DURING...) are not supported; compare dates instead, "
    "e.g. reporting_date >= DATE('2023-10-01')"
)


class FilterError(DtmGeoError):
    """A filter that cannot be run; the message says why (the API answers 400)."""

    def __init__(self, message: str):
        super().__init__(f"filter: {message}")


@dataclass
class _Sql:
    """Accumulates bind parameters while a condition is written."""

    queryables: dict[str, str]
    srid: int
    lat_lon: bool
    params: dict = field(default_factory=dict)
    nodes: int = 0

    def bind(self, value) -> str:
        name = f"cql_{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def parse(text: str, lang: str) -> ast.Node:
    """The syntax tree of a CQL2-text or CQL2-JSON filter; FilterError when malformed."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"longer than {MAX_FILTER_LENGTH} characters")
    if "\x00" in text:
        raise FilterError("contains a NUL character")
    if lang == "cql2-json":
        return _parse_json(text)
    if _TEMPORAL.search(_QUOTED.sub("''", text)):
        raise FilterError(_NO_TEMPORAL)
    from lark.exceptions import UnexpectedInput

    try:
        return _text_parser().parse(text)
    except UnexpectedInput as exc:
        near = text[max(0, exc.column - 11) : exc.column + 9] if exc.column > 0 else text[:20]
        raise FilterError(
            f"not valid CQL2-text at column {exc.column} (near '{near}'); e.g. "
            "idps > 1000 AND name_en LIKE 'Der%'"
        ) from None
    except Exception:  # the grammar's transformers raise assorted errors on odd literals
        raise FilterError("not valid CQL2-text; e.g. idps > 1000 AND name_en LIKE 'Der%'") from None


# pygeofilter 0.4's CQL2-text grammar, with three departures from CQL2 1.0 mended:
# NOT before any condition (it took one predicate: QGIS writes NOT ((a) AND (b))),
# one-letter property names (z), and '' for a quote inside a string ('O''Brien').
_GRAMMAR_FIXES = (
    (
        r'\| "NOT"i predicate\s+-> not_\s+\| "NOT"i "\(" predicate "\)"\s+-> not_',
        '| "NOT"i condition_1 -> not_',
    ),
    (r"attribute: /\[a-zA-Z\]\[a-zA-Z_:0-9.\]\+/", "attribute: /[a-zA-Z][a-zA-Z_:0-9.]*/"),
    (r"SINGLE_QUOTED: \"'\" /\.\*\?/ \"'\"", "SINGLE_QUOTED: /'(?:[^']|'')*'/"),
)
_QUOTED = re.compile(r"'(?:[^']|'')*'")


@functools.cache
def _text_parser():
    """pygeofilter's CQL2-text parser, built from its grammar with _GRAMMAR_FIXES."""
    from pathlib import Path

    from lark import Lark
    from pygeofilter.parsers.cql2_text import parser as base

    folder = Path(base.__file__).parent
    grammar = (folder / "grammar.lark").read_text()
    for pattern, replacement in _GRAMMAR_FIXES:
        grammar, found = re.subn(pattern, lambda _, r=replacement: r, grammar)
        if found != 1:  # a pygeofilter release changed its grammar: review the fixes
            raise RuntimeError(f"CQL2 grammar fix not applicable: {pattern}")

    class Transformer(base.CQLTransformer):
        def SINGLE_QUOTED(self, token):
            return token[1:-1].replace("''", "'")

    return Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=Transformer(),
        import_paths=[str(folder.parent)],
    )


def _parse_json(text: str) -> ast.Node:
    from pygeofilter.parsers.cql2_json import parse as parse_json

    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise FilterError(f"not valid JSON: {exc}") from None
    try:
        return parse_json(_as_pygeofilter(document))
    except FilterError:
        raise
    except Exception:
        raise FilterError(
            'not valid CQL2-JSON; e.g. {"op": ">", "args": [{"property": "idps"}, 1000]}'
        ) from None


def _as_pygeofilter(node):
    """CQL2-JSON rewritten where pygeofilter 0.4 reads it otherwise: BETWEEN's three
    arguments (it wants [value, [low, high]]) and {"bbox": [minx, miny, maxx, maxy]} (it
    reads the numbers in another order; a GeoJSON polygon is read right)."""
    if isinstance(node, list):
        return [_as_pygeofilter(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"}:
        return {"type": "Polygon", "coordinates": _envelope_ring(node["bbox"])}
    node = {k: _as_pygeofilter(v) for k, v in node.items()}
    args = node.get("args")
    if str(node.get("op", "")).lower() == "between" and isinstance(args, list) and len(args) == 3:
        node["args"] = [args[0], args[1:]]
    return node


def _envelope_ring(numbers) -> list:
    if (
        not isinstance(numbers, list)
        or len(numbers) not in (4, 6)
        or not all(_is_number(n) for n in numbers)
    ):
        raise FilterError("a bbox is four numbers: minx, miny, maxx, maxy")
    x1, y1, x2, y2 = numbers if len(numbers) == 4 else (*numbers[:2], *numbers[3:5])
    if x1 > x2 or y1 > y2:
        raise FilterError("a bbox gives its lower corner first: minx, miny, maxx, maxy")
    return [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]


def to_sql(
    node: ast.Node, queryables: dict[str, str], srid: int = 4326, lat_lon: bool = False
) -> tuple[str, dict]:
    """(SQL condition on alias `c`, bind parameters) for a parsed filter.

    `queryables` maps property names to their types (STRING, INTEGER, ...); a property
    named GEOMETRY stands for the feature's geometry (column `geom`, stored in 4326).
    Geometry literals are in `srid`, with latitude first when `lat_lon`.
    """
    sql = _Sql(queryables, srid, lat_lon)
    try:
        return _condition(node, sql), sql.params
    except (TypeError, AttributeError, ValueError, KeyError):
        # pygeofilter builds its tree from any JSON: an operand of a shape no rule expects
        raise FilterError("a term has arguments of an unexpected kind or number") from None


def _condition(node, sql: _Sql) -> str:
    sql.nodes += 1
    if sql.nodes > MAX_NODES:
        raise FilterError(f"more than {MAX_NODES} terms")
    if isinstance(node, ast.And | ast.Or):
        joiner = " AND " if isinstance(node, ast.And) else " OR "
        return f"({_condition(node.lhs, sql)}{joiner}{_condition(node.rhs, sql)})"
    if isinstance(node, ast.Not):
        return f"(NOT {_condition(node.sub_node, sql)})"
    if isinstance(node, bool):
        return "true" if node else "false"
    if type(node) in _COMPARISONS:
        return _compare(node.lhs, _COMPARISONS[type(node)], node.rhs, sql)
    if isinstance(node, ast.Between):
        lhs, kind = _operand(node.lhs, sql)
        low, high = _literal(node.low, kind, sql), _literal(node.high, kind, sql)
        return f"({lhs} {'NOT ' if node.not_ else ''}BETWEEN {low} AND {high})"
    if isinstance(node, ast.In):
        lhs, kind = _operand(node.lhs, sql)
        if not isinstance(node.sub_nodes, list | tuple) or not node.sub_nodes:
            raise FilterError("IN needs a list of at least one value")
        items = ", ".join(_literal(v, kind, sql) for v in node.sub_nodes)
        return f"({lhs} {'NOT ' if node.not_ else ''}IN ({items}))"
    if isinstance(node, ast.Like):
        lhs, kind = _operand(node.lhs, sql)
        if kind != STRING:
            raise FilterError(f"LIKE compares text; {_name(node.lhs)} is of type {kind}")
        pattern, folded = node.pattern, False
        if _is_casei(pattern) and len(pattern.arguments) == 1:
            pattern, folded = pattern.arguments[0], True  # CASEI(x) LIKE CASEI('der%')
        if not isinstance(pattern, str):
            raise FilterError("LIKE takes a text pattern in single quotes, e.g. 'Der%'")
        if (len(pattern) - len(pattern.rstrip("\\"))) % 2:
            raise FilterError("a LIKE pattern cannot end with a lone escape character (\\)")
        operator = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
        bound = _text(pattern, sql)
        return f"({lhs} {operator} {f'lower({bound})' if folded else bound})"
    if isinstance(node, ast.IsNull):
        lhs, _ = _operand(node.lhs, sql)
        return f"({lhs} IS {'NOT ' if node.not_ else ''}NULL)"
    if type(node) in _SPATIAL:
        return _spatial(node, _SPATIAL[type(node)], sql)
    if isinstance(node, ast.TemporalPredicate):
        raise FilterError(_NO_TEMPORAL)
    raise FilterError(f"{_describe(node)} is not supported here")


def _compare(lhs, operator: str, rhs, sql: _Sql) -> str:
    if _is_property_like(lhs):
        left, kind = _operand(lhs, sql)
        if _is_property_like(rhs):
            right = _operand(rhs, sql, expect=kind)[0]
        else:
            right = _literal(rhs, kind, sql)
    elif _is_property_like(rhs):
        right, kind = _operand(rhs, sql)
        left = _literal(lhs, kind, sql)
    else:
        raise FilterError("a comparison needs a property on one side, e.g. idps > 1000")
    return f"({left} {operator} {right})"


def _is_casei(node) -> bool:
    """CASEI(...): pygeofilter's text parser names it lower, its JSON parser casei."""
    return isinstance(node, ast.Function) and node.name.lower() in ("lower", "casei")


def _is_property_like(node) -> bool:
    return isinstance(node, ast.Attribute) or (
        _is_casei(node) and any(isinstance(a, ast.Attribute) for a in node.arguments)
    )


def _operand(node, sql: _Sql, expect: str | None = None) -> tuple[str, str]:
    """(SQL, type) of a property or CASEI(property)."""
    if _is_casei(node):
        if len(node.arguments) != 1:
            raise FilterError("CASEI takes one argument")
        inner, kind = _operand(node.arguments[0], sql)
        if kind != STRING or expect not in (None, STRING):
            raise FilterError("CASEI applies to text and compares with text")
        return f"lower({inner})", STRING
    if not isinstance(node, ast.Attribute):
        raise FilterError(f"expected a property, found {_describe(node)}")
    name = node.name
    if not isinstance(name, str):
        raise FilterError('a property is named by text, e.g. {"property": "idps"}')
    kind = sql.queryables.get(name)
    if kind is None or name == GEOMETRY:
        known = ", ".join(sorted(p for p in sql.queryables if p != GEOMETRY))
        where = "spatial predicates" if name == GEOMETRY else "queryables"
        raise FilterError(f"unknown property '{name}' here (see {where}); properties: {known}")
    if expect and kind != expect and {kind, expect} != {INTEGER, NUMBER}:
        raise FilterError(f"cannot compare {name} ({kind}) with a property of type {expect}")
    return f'c."{name}"', kind


def _literal(node, kind: str, sql: _Sql) -> str:
    """A bind parameter for a literal of the property's type, or FilterError."""
    if _is_casei(node):
        if len(node.arguments) != 1 or not isinstance(node.arguments[0], str):
            raise FilterError("CASEI of a literal takes one text value")
        if kind != STRING:
            raise FilterError(f"CASEI gives text, which a value of type {kind} is not")
        return f"lower({_text(node.arguments[0], sql)})"
    if kind == STRING and isinstance(node, str):
        return _text(node, sql)
    if kind in (INTEGER, NUMBER) and _is_number(node):
        return sql.bind(node)
    if kind == BOOLEAN and isinstance(node, bool):
        return sql.bind(node)
    if kind == DATE:
        if isinstance(node, dt.datetime | dt.date):
            return f"CAST({sql.bind(node)} AS date)"
        if isinstance(node, str):
            try:
                return f"CAST({sql.bind(dt.date.fromisoformat(node))} AS date)"
            except ValueError:
                pass
    expected = {
        STRING: "text in single quotes",
        INTEGER: "a number",
        NUMBER: "a number",
        BOOLEAN: "true or false",
        DATE: "DATE('YYYY-MM-DD')",
    }[kind]
    raise FilterError(f"{_describe(node)} is not a value of type {kind}: expected {expected}")


def _text(value: str, sql: _Sql) -> str:
    if "\x00" in value:  # CQL2-JSON may carry one as \u0000
        raise FilterError("a text value contains a NUL character")
    return sql.bind(value)


def _is_number(value) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) < 1e15
    )


def _spatial(node, function: str, sql: _Sql) -> str:
    lhs, rhs = node.lhs, node.rhs
    if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
        lhs, rhs = rhs, lhs
        # the predicate reads the other way round for the asymmetric ones
        function = {"ST_Contains": "ST_Within", "ST_Within": "ST_Contains"}.get(function, function)
    if not (isinstance(lhs, ast.Attribute) and lhs.name == GEOMETRY):
        raise FilterError(f"spatial predicates compare the property '{GEOMETRY}' with a geometry")
    shape = _geometry(rhs)
    if sql.lat_lon:
        shape = shapely.transform(shape, lambda xy: xy[:, ::-1])
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
    literal = f"ST_GeomFromText({sql.bind(shape.wkt)}, {int(sql.srid)})"
    if sql.srid != 4326:
        literal = f"ST_Transform({literal}, 4326)"  # the query geometry, never the column
    return f"{function}(c.geom, {literal})"


def _geometry(node) -> shapely.Geometry:
    if isinstance(node, ast.Function) and node.name.lower() == "bbox":
        return shapely.geometry.shape(
            {"type": "Polygon", "coordinates": _envelope_ring(list(node.arguments))}
        )
    if isinstance(node, values.Envelope):
        ring = _envelope_ring([node.x1, node.y1, node.x2, node.y2])
        return shapely.geometry.shape({"type": "Polygon", "coordinates": ring})
    if isinstance(node, values.Geometry):
        try:
            shape = shapely.geometry.shape(node.geometry)
        except Exception:
            raise FilterError("the geometry literal is not a valid geometry") from None
        coords = shapely.get_coordinates(shape)
        if shape.is_empty or not all(_is_number(float(v)) for v in coords.ravel()):
            raise FilterError("the geometry literal is empty or has non-finite coordinates")
        return shape
    raise FilterError(f"expected a geometry (POINT, POLYGON..., BBOX), found {_describe(node)}")


def _name(node) -> str:
    return node.name if isinstance(node, ast.Attribute) else _describe(node)


def _describe(node) -> str:
    """How the user wrote a term, in CQL2's words (never Python's)."""
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, ast.Attribute):
        return f"property {node.name}"
    if isinstance(node, ast.Function):
        name = "CASEI" if node.name.lower() == "lower" else node.name.upper()
        return f"{name}(...)"
    if isinstance(node, ast.ArrayPredicate):
        return "an array operator (A_CONTAINS...)"
    if isinstance(node, ast.Arithmetic):
        return "arithmetic (+, -, *, /)"
    if isinstance(node, values.Interval):
        return "an INTERVAL"
    if isinstance(node, list | tuple):
        return "an array"
    if isinstance(node, ast.Node | values.Geometry | values.Envelope):
        return "this operator or value"
    if isinstance(node, str):
        return f"'{node[:40]}'"
    if isinstance(node, dt.date | dt.datetime):
        return f"{'TIMESTAMP' if isinstance(node, dt.datetime) else 'DATE'}('{node.isoformat()}')"
    return str(node)[:40]
