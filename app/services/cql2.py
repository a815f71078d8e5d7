"""CQL2 filters (OGC API - Features Part 3) as SQL conditions on a collection's columns.

The `cql2` package (cql2-rs, the Rust implementation tipg uses) parses CQL2-text and
CQL2-JSON into the standard CQL2-JSON tree; this module walks that tree (plain dicts and
lists) into a SQL condition with bind parameters, checking every property against the
collection's queryables and every literal against the property's type, so that a bad
filter is a 400 naming what is wrong and never reaches PostgreSQL as a failing query.

Supported: AND, OR, NOT; =, <>, <, <=, >, >=; LIKE, BETWEEN, IN; IS NULL; CASEI (lower);
property-property comparisons of one type; the spatial predicates S_INTERSECTS,
S_DISJOINT, S_CONTAINS, S_WITHIN, S_TOUCHES, S_CROSSES, S_OVERLAPS and S_EQUALS with a
geometry or BBOX literal (in filter-crs, transformed once to the storage CRS).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

import cql2
import orjson
import shapely
import shapely.geometry

from app.errors import DtmGeoError

MAX_FILTER_LENGTH = 20_000
MAX_NODES = 500
# cql2-rs parses CQL2-text with a backtracking (PEG) parser, checked here before it runs:
# - a syntax error inside n nested parentheses costs it about 4^n steps (20 unclosed
#   parentheses, 8 s), so text nested deeper than MAX_PARENTHESES is refused;
# - it recurses on the thread's stack: 1,600 parentheses or 6,000 NOTs or minus signs
#   in a row overflow 8 MB and kill the process (a segfault, not an exception), so the
#   parentheses and prefix operators (NOT, -) around any term are at most MAX_DEPTH.
MAX_PARENTHESES = 10
MAX_DEPTH = 100

# JSON Schema types of the queryables; dates are strings with format "date"
STRING, INTEGER, NUMBER, BOOLEAN, DATE = "string", "integer", "number", "boolean", "date"
GEOMETRY = "geometry"

_COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SPATIAL = {
    "s_intersects": "ST_Intersects",
    "s_disjoint": "ST_Disjoint",
    "s_contains": "ST_Contains",
    "s_within": "ST_Within",
    "s_touches": "ST_Touches",
    "s_crosses": "ST_Crosses",
    "s_overlaps": "ST_Overlaps",
    "s_equals": "ST_Equals",
}
_ARITHMETIC = {"+", "-", "*", "/", "%", "^", "div"}
_GEOJSON_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}
_NO_TEMPORAL = (
    "temporal operators (T_AFTER, T_DURING...) are not supported; compare dates instead, "
    "e.g. reporting_date >= DATE('2023-10-01')"
)
_TEXT_EXAMPLE = "idps > 1000 AND name_en LIKE 'Der%'"
_JSON_EXAMPLE = '{"op": ">", "args": [{"property": "idps"}, 1000]}'


class FilterError(DtmGeoError):
    """A filter that cannot be run; the message says why (the API answers 400)."""

    def __init__(self, message: str):
        super().__init__(f"filter: {message}")


@dataclass(frozen=True)
class Filter:
    """A parsed filter: its standard CQL2-JSON tree and the language it was written in."""

    tree: object
    lang: str = "cql2-text"


@dataclass
class _Sql:
    """Accumulates bind parameters while a condition is written."""

    queryables: dict[str, str]
    srid: int
    lat_lon: bool
    lang: str
    params: dict = field(default_factory=dict)
    nodes: int = 0

    def bind(self, value) -> str:
        name = f"cql_{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def parse(text: str, lang: str) -> Filter:
    """A CQL2-text or CQL2-JSON filter as its CQL2-JSON tree; FilterError when malformed."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"longer than {MAX_FILTER_LENGTH} characters")
    if "\x00" in text:
        raise FilterError("contains a NUL character")
    if lang == "cql2-json":
        return Filter(_parse_json(text), lang)
    parentheses, depth = _nesting(text)
    if parentheses > MAX_PARENTHESES:
        raise FilterError(f"parentheses nested more than {MAX_PARENTHESES} deep")
    if depth > MAX_DEPTH:
        raise FilterError(f"nested more than {MAX_DEPTH} deep (parentheses, NOT and -)")
    try:
        return Filter(cql2.parse_text(text).to_json(), lang)
    except cql2.ParseError as exc:
        place = re.search(r"--> (\d+):(\d+)", str(exc))
        if place is None:
            raise FilterError(f"not valid CQL2-text; e.g. {_TEXT_EXAMPLE}") from None
        line, column = int(place[1]), int(place[2])
        at = sum(len(x) + 1 for x in text.split("\n")[: line - 1]) + column - 1
        near = text[max(0, at - 10) : at + 10]
        raise FilterError(
            f"not valid CQL2-text at column {column} (near '{near}'); e.g. {_TEXT_EXAMPLE}"
        ) from None
    except ValueError as exc:
        raise FilterError(f"not valid CQL2-text: {exc}") from None
    except Exception as exc:  # cql2-rs raises a bare Exception for malformed WKT
        if "geometry" in str(exc):
            raise FilterError(
                "not valid CQL2-text: a geometry is not valid WKT, e.g. POINT(22.6 32.7)"
            ) from None
        raise FilterError(f"not valid CQL2-text; e.g. {_TEXT_EXAMPLE}") from None


# Tokens of CQL2-text that matter for nesting; quoted strings and names are skipped whole
_TOKENS = re.compile(r"""'(?:[^']|'')*'|"[^"]*"|[()]|-|\bNOT\b|[^\s()'"-]+""", re.IGNORECASE)


def _nesting(text: str) -> tuple[int, int]:
    """How deep parentheses nest in `text`, and an upper bound on how deep the parser
    recurses: each enclosing parenthesis and each prefix operator (NOT, -) in front of a
    term is one level. Unbalanced parentheses count as they open; reading stops once
    either passes its limit."""
    parentheses, deepest, base, run, outer = 0, 0, 0, 0, []
    for token in _TOKENS.findall(text):
        if token == "(":
            outer.append(base)
            base, run = base + run + 1, 0
            parentheses = max(parentheses, len(outer))
        elif token == ")":
            base, run = (outer.pop() if outer else 0), 0
        elif token == "-" or token.upper() == "NOT":
            run += 1
        else:
            run = 0
        deepest = max(deepest, base + run)
        if parentheses > MAX_PARENTHESES or deepest > MAX_DEPTH:
            break  # too deep already: no need to read on
    return parentheses, deepest


def _parse_json(text: str):
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise FilterError(f"not valid JSON: {exc}") from None
    try:
        return cql2.parse_json(text).to_json()
    except cql2.ParseError as exc:
        problem = _json_problem(document) or (
            "nested too deeply" if "recursion limit" in str(exc) else None
        )
    except ValueError as exc:
        problem = str(exc)
    except Exception:  # not seen from parse_json, but cql2-rs raises bare ones elsewhere
        problem = _json_problem(document)
    if problem:
        raise FilterError(f"not valid CQL2-JSON: {problem}")
    raise FilterError(f"not valid CQL2-JSON; e.g. {_JSON_EXAMPLE}")


def _json_problem(node, depth: int = 0) -> str | None:
    """What makes a CQL2-JSON document unreadable, where that can be put in words
    (cql2-rs only says that no form of expression matched)."""
    if depth > 200:
        return None
    if isinstance(node, list):
        return next((p for n in node if (p := _json_problem(n, depth + 1))), None)
    if not isinstance(node, dict):
        return None
    if "property" in node and not isinstance(node["property"], str):
        return 'a property is named by text, e.g. {"property": "idps"}'
    if "op" in node:
        if not isinstance(node["op"], str):
            return 'an operator is named by text, e.g. {"op": "=", ...}'
        if not isinstance(node.get("args"), list):
            return f"the arguments of '{node['op']}' are a list in \"args\""
    if "type" in node and "op" not in node and node["type"] not in _GEOJSON_TYPES:
        return f"'{node['type']}' is not a GeoJSON geometry type"
    return next((p for v in node.values() if (p := _json_problem(v, depth + 1))), None)


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
    node: Filter | dict | bool, queryables: dict[str, str], srid: int = 4326, lat_lon: bool = False
) -> tuple[str, dict]:
    """(SQL condition on alias `c`, bind parameters) for a parsed filter.

    `queryables` maps property names to their types (STRING, INTEGER, ...); a property
    named GEOMETRY stands for the feature's geometry (column `geom`, stored in 4326).
    Geometry literals are in `srid`, with latitude first when `lat_lon`. `node` is what
    parse() returns, or a CQL2-JSON tree as a dict.
    """
    if not isinstance(node, Filter):
        node = Filter(node, "cql2-json")
    sql = _Sql(queryables, srid, lat_lon, node.lang)
    try:
        return _condition(node.tree, sql), sql.params
    except (TypeError, AttributeError, ValueError, KeyError, IndexError):
        raise FilterError("a term has arguments of an unexpected kind or number") from None


def properties(node: Filter | object) -> set[str]:
    """The names of the properties a parsed filter refers to."""
    tree = node.tree if isinstance(node, Filter) else node
    if isinstance(tree, list):
        return set().union(*(properties(item) for item in tree))
    if not isinstance(tree, dict):
        return set()
    found = (
        {tree["property"]} if _is_property(tree) and isinstance(tree["property"], str) else set()
    )
    return found.union(*(properties(value) for value in tree.values()))


def _op(node) -> str | None:
    """The operator of a CQL2-JSON node, lower case (cql2-rs writes isNull), or None."""
    if isinstance(node, dict) and isinstance(node.get("op"), str):
        return node["op"].lower()
    return None


def _args(node, count: int | None = None) -> list:
    args = node.get("args")
    if not isinstance(args, list) or (count is not None and len(args) != count):
        name = node["op"].upper()
        raise FilterError(f"{name} takes {count or 'a list of'} argument{'s' * (count != 1)}")
    return args


def _condition(node, sql: _Sql) -> str:
    sql.nodes += 1
    if sql.nodes > MAX_NODES:
        raise FilterError(f"more than {MAX_NODES} terms")
    if isinstance(node, bool):
        return "true" if node else "false"
    op = _op(node)
    if op in ("and", "or"):
        args = _args(node)
        if len(args) < 2:
            raise FilterError(f"{op.upper()} joins two or more conditions")
        sql.nodes += len(args) - 2  # counted as the chain of binary terms it stands for
        joiner = f" {op.upper()} "
        written = _condition(args[0], sql)
        for arg in args[1:]:  # ((a AND b) AND c): nested as a chain of binary terms
            written = f"({written}{joiner}{_condition(arg, sql)})"
        return written
    if op == "not":
        [inner] = _args(node, 1)
        if _op(inner) in ("like", "between", "in", "isnull"):
            return _predicate(inner, sql, negated=True)  # x NOT LIKE 'a%', x IS NOT NULL
        return f"(NOT {_condition(inner, sql)})"
    if op in _COMPARISONS:
        lhs, rhs = _args(node, 2)
        return _compare(lhs, _COMPARISONS[op], rhs, sql)
    if op in ("like", "between", "in", "isnull"):
        return _predicate(node, sql, negated=False)
    if op in _SPATIAL:
        lhs, rhs = _args(node, 2)
        return _spatial(lhs, _SPATIAL[op], rhs, sql)
    if op is not None and op.startswith("t_"):
        raise FilterError(_NO_TEMPORAL)
    if op is not None and sql.lang == "cql2-json" and not _is_known(op):
        raise FilterError(f"'{node['op']}' is not a CQL2-JSON operator this server supports")
    raise FilterError(f"{_describe(node)} is not supported here")


def _is_known(op: str) -> bool:
    """Whether `op` is an operator or function of CQL2 (if not one this module runs)."""
    return (
        op in _ARITHMETIC
        or op[:2] in ("a_", "s_", "t_")
        or op in ("casei", "accenti", "bbox", "interval", "date", "timestamp")
    )


def _predicate(node, sql: _Sql, negated: bool) -> str:
    """LIKE, BETWEEN, IN and IS NULL, or their NOT forms."""
    op, no = _op(node), "NOT " if negated else ""
    if negated:
        sql.nodes -= 1  # one term, as x NOT LIKE 'a%' is
    if op == "between":
        value, low, high = _args(node, 3)
        lhs, kind = _operand(value, sql)
        low, high = _literal(low, kind, sql), _literal(high, kind, sql)
        return f"({lhs} {no}BETWEEN {low} AND {high})"
    if op == "in":
        value, items = _args(node, 2)
        lhs, kind = _operand(value, sql)
        if not isinstance(items, list) or not items:
            raise FilterError("IN needs a list of at least one value")
        listed = ", ".join(_literal(v, kind, sql) for v in items)
        return f"({lhs} {no}IN ({listed}))"
    if op == "isnull":
        [value] = _args(node, 1)
        lhs, _ = _operand(value, sql)
        return f"({lhs} IS {no}NULL)"
    value, pattern = _args(node, 2)  # like
    lhs, kind = _operand(value, sql)
    if kind != STRING:
        raise FilterError(f"LIKE compares text; {_name(value)} is of type {kind}")
    folded = False
    if _op(pattern) == "casei" and len(_args(pattern)) == 1:
        pattern, folded = pattern["args"][0], True  # CASEI(x) LIKE CASEI('der%')
    if not isinstance(pattern, str):
        raise FilterError("LIKE takes a text pattern in single quotes, e.g. 'Der%'")
    if (len(pattern) - len(pattern.rstrip("\\"))) % 2:
        raise FilterError("a LIKE pattern cannot end with a lone escape character (\\)")
    bound = _text(pattern, sql)
    return f"({lhs} {no}LIKE {f'lower({bound})' if folded else bound})"


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


def _is_property(node) -> bool:
    return isinstance(node, dict) and "property" in node and "op" not in node


def _is_property_like(node) -> bool:
    return _is_property(node) or (
        _op(node) == "casei"
        and isinstance(node.get("args"), list)
        and any(_is_property(a) for a in node["args"])
    )


def _operand(node, sql: _Sql, expect: str | None = None) -> tuple[str, str]:
    """(SQL, type) of a property or CASEI(property)."""
    if _op(node) == "casei":
        args = _args(node)
        if len(args) != 1:
            raise FilterError("CASEI takes one argument")
        inner, kind = _operand(args[0], sql)
        if kind != STRING or expect not in (None, STRING):
            raise FilterError("CASEI applies to text and compares with text")
        return f"lower({inner})", STRING
    if not _is_property(node):
        raise FilterError(f"expected a property, found {_describe(node)}")
    name = node["property"]
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
    if _op(node) == "casei":
        args = _args(node)
        if len(args) != 1 or not isinstance(args[0], str):
            raise FilterError("CASEI of a literal takes one text value")
        if kind != STRING:
            raise FilterError(f"CASEI gives text, which a value of type {kind} is not")
        return f"lower({_text(args[0], sql)})"
    if kind == STRING and isinstance(node, str):
        return _text(node, sql)
    if kind in (INTEGER, NUMBER) and _is_number(node):
        # cql2-rs reads every number as a float: 1000 is bound as the integer it was
        return sql.bind(int(node) if float(node).is_integer() else node)
    if kind == BOOLEAN and isinstance(node, bool):
        return sql.bind(node)
    if kind == DATE:
        day = _date(node)
        if day is not None:
            return f"CAST({sql.bind(day)} AS date)"
    expected = {
        STRING: "text in single quotes",
        INTEGER: "a number",
        NUMBER: "a number",
        BOOLEAN: "true or false",
        DATE: "DATE('YYYY-MM-DD')",
    }[kind]
    raise FilterError(f"{_describe(node)} is not a value of type {kind}: expected {expected}")


def _date(node) -> dt.date | dt.datetime | None:
    """DATE('...'), TIMESTAMP('...') or a 'YYYY-MM-DD' string, or None."""
    try:
        if isinstance(node, dict) and set(node) == {"date"}:
            return dt.date.fromisoformat(node["date"])
        if isinstance(node, dict) and set(node) == {"timestamp"}:
            return dt.datetime.fromisoformat(node["timestamp"])
        if isinstance(node, str):
            return dt.date.fromisoformat(node)
    except (TypeError, ValueError):
        pass
    return None


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


def _spatial(lhs, function: str, rhs, sql: _Sql) -> str:
    if _is_property(rhs) and not _is_property(lhs):
        lhs, rhs = rhs, lhs
        # the predicate reads the other way round for the asymmetric ones
        function = {"ST_Contains": "ST_Within", "ST_Within": "ST_Contains"}.get(function, function)
    if not (_is_property(lhs) and lhs["property"] == GEOMETRY):
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
    if isinstance(node, dict) and set(node) == {"bbox"}:
        ring = _envelope_ring(node["bbox"])
        return shapely.geometry.shape({"type": "Polygon", "coordinates": ring})
    if isinstance(node, dict) and node.get("type") in _GEOJSON_TYPES and "op" not in node:
        try:
            shape = shapely.geometry.shape(node)
        except Exception:
            raise FilterError("the geometry literal is not a valid geometry") from None
        coords = shapely.get_coordinates(shape)
        if shape.is_empty or not all(_is_number(float(v)) for v in coords.ravel()):
            raise FilterError("the geometry literal is empty or has non-finite coordinates")
        return shape
    raise FilterError(f"expected a geometry (POINT, POLYGON..., BBOX), found {_describe(node)}")


def _name(node) -> str:
    return node["property"] if _is_property(node) else _describe(node)


def _describe(node) -> str:
    """How the user wrote a term, in CQL2's words (never Python's)."""
    if isinstance(node, bool):
        return "true" if node else "false"
    if node is None:
        return "NULL"
    if isinstance(node, str):
        return f"'{node[:40]}'"
    if isinstance(node, float) and _is_number(node) and node.is_integer():
        return str(int(node))
    if isinstance(node, list):
        return "an array"
    if not isinstance(node, dict):
        return str(node)[:40]
    if _is_property(node):
        return f"property {node['property']}"
    op = _op(node)
    if op in _ARITHMETIC:
        return "arithmetic (+, -, *, /)"
    if op is not None and op.startswith("a_"):
        return "an array operator (A_CONTAINS...)"
    if op is not None:
        return f"{op.upper()}(...)"
    if "interval" in node:
        return "an INTERVAL"
    if set(node) in ({"date"}, {"timestamp"}):
        [(kind, value)] = node.items()
        return f"{kind.upper()}('{str(value)[:40]}')"
    if "bbox" in node:
        return "a BBOX"
    if "type" in node:
        return f"a geometry ({str(node['type']).upper()[:40]})"
    return "this operator or value"
