"""OGC API - Features collections and Mapbox vector tiles, generated in PostGIS.

Each collection is a SQL source with a geometry, a stable integer feature id and its
properties. Queries transform the query geometry (bbox) to storage CRS and the output
geometry to the requested CRS; the stored columns are never transformed for filtering.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import cache

import orjson
from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from app.errors import InvalidParameter
from app.geo import encoded, tile_geometries
from app.geo.hotspots import MIN_UNITS, Options
from app.loaders import catalog
from app.memo import Memo
from app.services import cql2, hotspots, operations, rollup, rounds
from app.services.hierarchy import within
from app.vocabulary import LATEST, PLURAL, POPULATION_TYPES

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS_URIS = {
    CRS84: 4326,
    "http://www.opengis.net/def/crs/EPSG/0/4326": 4326,
    "http://www.opengis.net/def/crs/EPSG/0/3857": 3857,
}
LAT_LON = "http://www.opengis.net/def/crs/EPSG/0/4326"  # axis order latitude, longitude
SHORT_CRS = {
    "CRS84": CRS84,
    "EPSG:4326": LAT_LON,
    "EPSG:3857": "http://www.opengis.net/def/crs/EPSG/0/3857",
}


def _stats_source(level: int) -> str:
    """Published counts per population type for each area of `level` in round :round,
    one total per area (app.services.rollup.MAP_FIGURES, as the statistics map has them)."""
    return f"""
        SELECT {_FID} AS fid, {_AREA_COLUMNS}, f.round_code AS round, f.reporting_date,
               f.idps, f.returnees, f.migrants, f.complete, f.quality, a.geom
        FROM (SELECT s.pcode, {rollup.MAP_FIGURES}
              FROM rolled_up_figures s
              WHERE s.qualities = '{{published}}' AND s.reasons_collapsed
                AND s.level = {level} AND s.round_code = :round
              GROUP BY s.pcode) f
        JOIN admin_areas a ON a.pcode = f.pcode
    """


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    source: str  # SQL yielding fid, pcode, geom (4326) and property columns
    properties: tuple[str, ...]
    geometry_type: str
    stats: bool = False  # takes ?round= (default: the latest round with figures)
    level: int = 0  # statistics collections: the admin level of their areas
    computed: bool = False  # rows computed in Python, passed to the SQL as :hotspots
    flows: bool = False  # takes ?round= (default: the latest round with flows)
    # where a feature's geometry comes from: the encoded area geometries of this kind,
    # joined by pcode (app.geo.encoded), or None for geometry built by the source's SQL
    geometry_kind: str | None = "official"
    # vector tiles: the lowest zoom that draws the layer (muhallas only close up)
    min_zoom: int = 0
    operation: str = "LBY"  # the ISO3 code of the operation whose areas it shows
    weights: str | None = None  # hotspots: the spatial weights (app.geo.hotspots.Options)
    metric: str | None = None  # hotspots: count or rate


_AREA_PROPS = ("pcode", "name_en", "name_ar", "parent_pcode", "region_pcode")
_STATS_PROPS = ("round", "reporting_date", "idps", "returnees", "migrants", "complete", "quality")
_HOTSPOT_PROPS = (
    "round",
    "reporting_date",
    "population_type",
    "metric",
    "value",
    "z",
    "p_analytic",
    "p_permutation",
    "class",
)
_FLOW_PROPS = (
    "round",
    "reporting_date",
    "population_type",
    "origin_pcode",
    "destination_pcode",
    "individuals",
    "households",
    "quality",
    "source",
)
# with the area's ancestry, which the `area` parameter selects by (not a property)
_AREA_COLUMNS = ", ".join(f"a.{p}" for p in (*_AREA_PROPS, "ancestry"))
# a feature id from the pcode's digits, unique within a level (LY0101 -> 101, LY010102 ->
# 10102, IQG01Q01 -> 101, IQG01Q01S01 -> 10101). Guarded: the planner may evaluate it on
# the country row (LBY) before a join or filter removes that row.
_FID = "CASE WHEN a.level > 0 THEN CAST(regexp_replace(a.pcode, '[^0-9]', '', 'g') AS integer) END"


def _sources(row: dict) -> tuple[str, tuple[str, ...], dict]:
    """A catalogue row's SQL source, properties and flags, by its kind."""
    level, op = row["level"], row["operation"]
    of_operation = f"a.ancestry[1] = '{op}'"
    if row["kind"] == "areas":
        sql = (
            f"SELECT {_FID} AS fid, {_AREA_COLUMNS}, "
            "CASE WHEN a.geom IS NULL THEN 'none' ELSE 'official' END AS geometry_quality, "
            f"a.geom FROM admin_areas a WHERE a.level = {level} AND {of_operation}"
        )
        return sql, (*_AREA_PROPS, "geometry_quality"), {}
    if row["kind"] == "approximate":
        sql = (
            f"SELECT {_FID} AS fid, {_AREA_COLUMNS}, 'approximate' AS geometry_quality, "
            "ab.method, ab.geom FROM admin_areas a JOIN approximate_boundaries ab USING (pcode) "
            f"WHERE {of_operation}"
        )
        return sql, (*_AREA_PROPS, "geometry_quality", "method"), {"geometry_kind": "approximate"}
    if row["kind"] == "stats":
        return _stats_source(level), (*_AREA_PROPS, *_STATS_PROPS), {"stats": True}
    if row["kind"] == "hotspots":
        sql = (
            f"SELECT {_FID} AS fid, {_AREA_COLUMNS}, h.round, "
            "(SELECT COALESCE(r.reporting_date, r.collection_end) FROM rounds r "
            "WHERE r.code = h.round) AS reporting_date, h.population_type, h.metric, "
            "h.value, h.z, h.p_analytic, h.p_permutation, h.class, a.geom "
            "FROM json_to_recordset(CAST(:hotspots AS json)) AS h(pcode text, round text, "
            "population_type text, metric text, value float8, z float8, p_analytic float8, "
            "p_permutation float8, class text) "
            "JOIN admin_areas a ON a.pcode = h.pcode"
        )
        return sql, (*_AREA_PROPS, *_HOTSPOT_PROPS), {"computed": True}
    if row["kind"] == "flows":
        sql = (
            "SELECT f.id AS fid, r.code AS round, "
            "COALESCE(r.reporting_date, r.collection_end) AS reporting_date, "
            "f.population_type, f.origin_pcode, "
            "f.destination_pcode, f.individuals, f.households, f.quality, f.source, "
            "o.ancestry AS origin_ancestry, d.ancestry AS destination_ancestry, "
            "ST_MakeLine(ST_PointOnSurface(o.geom), ST_PointOnSurface(d.geom)) AS geom "
            "FROM flows f JOIN rounds r ON r.id = f.round_id "
            "JOIN admin_areas o ON o.pcode = f.origin_pcode "
            "JOIN admin_areas d ON d.pcode = f.destination_pcode "
            # one round: snapshots of the same people never add up
            "WHERE r.code = :round"
        )
        return sql, _FLOW_PROPS, {"flows": True, "geometry_kind": None}
    raise ValueError(f"data/catalog/ogc_collections.csv: unknown kind {row['kind']!r}")


def _collection(row: dict) -> Collection:
    source, properties, flags = _sources(row)
    return Collection(
        row["id"],
        row["title"],
        row["description"],
        source,
        properties,
        row["geometry_type"],
        level=row["level"] or 0,
        min_zoom=row["min_zoom"],
        operation=row["operation"],
        weights=row["weights"] or None,
        metric=row["metric"] or None,
        **flags,
    )


# every operation's collections, ids unique across them (Iraq's say so: irq-districts),
# as data/catalog/ogc_collections.csv configures them
COLLECTIONS = {c.id: c for c in map(_collection, catalog.collection_rows())}


def of_operation(operation: str) -> list[Collection]:
    """The collections of one operation, in catalogue order."""
    return [c for c in COLLECTIONS.values() if c.operation == operation]


def outline_layer(operation: str) -> str | None:
    """The tile layer of the operation's level-1 areas (its land and first-level lines on
    the web map)."""
    return next(
        (
            c.id
            for c in of_operation(operation)
            if c.level == 1
            and not (c.stats or c.flows or c.computed)
            and c.geometry_kind == "official"
        ),
        None,
    )


def approximate_level(operation: str) -> int | None:
    """The level whose approximate polygons the operation has, if any."""
    return next(
        (c.level for c in of_operation(operation) if c.geometry_kind == "approximate"), None
    )


_TYPES = {
    **dict.fromkeys(
        (
            *_AREA_PROPS,
            "geometry_quality",
            "method",
            "round",
            "quality",
            "population_type",
            "metric",
            "class",
            "origin_pcode",
            "destination_pcode",
            "source",
        ),
        cql2.STRING,
    ),
    **dict.fromkeys(("idps", "returnees", "migrants", "individuals", "households"), cql2.INTEGER),
    **dict.fromkeys(("value", "z", "p_analytic", "p_permutation"), cql2.NUMBER),
    "complete": cql2.BOOLEAN,
    "reporting_date": cql2.DATE,
}


# How each property type travels in a vector tile (ST_AsMVT writes a numeric, such as a
# sum of counts, as a string) and how TileJSON 3 / MapLibre name it.
_TILE_CASTS = {cql2.INTEGER: "bigint", cql2.NUMBER: "float8"}
TILEJSON_TYPES = {cql2.INTEGER: "Number", cql2.NUMBER: "Number", cql2.BOOLEAN: "Boolean"}


def tile_fields(collection: Collection) -> dict[str, str]:
    """TileJSON `vector_layers[].fields`: each property's type (dates travel as text)."""
    return {p: TILEJSON_TYPES.get(_TYPES[p], "String") for p in collection.properties}


def property_type(name: str) -> str:
    """A property's type (app.services.cql2's names: integer, number, string...)."""
    return _TYPES[name]


def queryables(collection: Collection) -> dict[str, str]:
    """The properties a filter may use, with their types; `geometry` is the feature's."""
    return {**{p: _TYPES[p] for p in collection.properties}, cql2.GEOMETRY: "geometry"}


def source_params(
    session: Session,
    collection: Collection,
    round_code: str | None,
    population_type: str | None = None,
    strict: bool = False,
) -> dict:
    """Parameters of a collection's SQL source; computed collections get their rows.

    With `strict`, a round that cannot be analysed raises InvalidParameter (the items
    endpoint answers 400 with the reason); otherwise its layer is empty.
    """
    params = {"round": round_code}
    if collection.computed:
        params["hotspots"] = _hotspot_rows(session, collection, round_code, population_type, strict)
    return params


def _hotspot_rows(session, collection, round_code, population_type, strict) -> str | None:
    """A hotspots layer's rows: Gi* of the collection's metric per area of its level in
    the round (by default, the latest whose figures of the type cover every area of the
    level) and population type (by default, the first the round covers most of)."""
    level, metric = collection.level, collection.metric or "count"
    known = rounds.catalogue(session, collection.operation)
    ref = known.require(round_code) if round_code else known.latest(population_type, level)
    kinds = [population_type] if population_type else list(POPULATION_TYPES)
    covered = {
        k: ref.coverage[(k, level)].areas for k in kinds if ref and (k, level) in ref.coverage
    }
    if not covered:
        if strict:
            what = f" of {population_type}" if population_type else ""
            where = f"{round_code} has" if round_code else "no round has"
            plural = operations.all_operations(session)[collection.operation].levels[level]
            raise InvalidParameter(
                "round",
                f"{where} no published {plural.name_en} figures{what}; hotspots need figures "
                f"for at least {MIN_UNITS} {plural.plural_en}",
            )
        return None
    kind = max(kinds, key=lambda k: covered.get(k, -1))
    options = Options(weights=collection.weights) if collection.weights else Options()
    try:
        rows, _, _ = hotspots.compute(session, level, ref.id, kind, metric, None, options)
    except InvalidParameter:  # too few areas (app.geo.hotspots.MIN_UNITS)
        if strict:
            raise
        return None
    keep = ("pcode", "value", "z", "p_analytic", "p_permutation", "class")
    return orjson.dumps(
        [
            {
                **{k: r[k] for k in keep},
                "round": ref.code,
                "population_type": kind,
                "metric": metric,
            }
            for r in rows
        ]
    ).decode()


def counted_types(properties: set[str]) -> tuple[str, ...] | None:
    """The population types whose counts a filter refers to (idps > 1000: idp), or None."""
    kinds = tuple(t for t in POPULATION_TYPES if PLURAL[t] in properties)
    return kinds or None


def round_for(
    session: Session,
    collection: Collection,
    requested: str | None,
    population_types: tuple[str, ...] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> str | None:
    """The round a collection shows: the requested one, else its own default: for the
    statistics, the latest whose figures of `population_types` (any, when None) cover
    every area of its level, reported between `date_from` and `date_to`; for flows, the
    latest with flows."""
    known = rounds.catalogue(session, collection.operation)
    if requested is not None and requested.lower() != LATEST:
        return known.require(requested).code
    found = None
    if collection.stats:
        start = date.fromisoformat(date_from) if date_from else None
        end = date.fromisoformat(date_to) if date_to else None

        def reported_between(ref: rounds.RoundRef) -> bool:
            when = ref.reporting_date
            return (start is None or (when and when >= start)) and (
                end is None or (when and when <= end)
            )

        found = known.latest(population_types, collection.level, reported_between)
    elif collection.flows:
        found = known.latest_with_flows()
    return found.code if found else None


def extent(session: Session, collection: Collection, params: dict) -> list[float] | None:
    """The bounding box of what the collection shows with these source parameters."""
    box = session.execute(
        text(f"SELECT ST_Extent(geom) FROM ({collection.source}) c"), params
    ).scalar()
    if not box:
        return None
    numbers = box.removeprefix("BOX(").removesuffix(")").replace(",", " ").split()
    return [round(float(n), 6) for n in numbers]


ENDS = ("origin", "destination")  # of a flow
MAX_ITEMS = 10_000  # features per page at most, as OGC API - Features lets a server cap


@dataclass(frozen=True)
class ItemsQuery:
    bbox: tuple[float, float, float, float] | None = None
    bbox_srid: int = 4326
    bbox_lat_lon: bool = False
    out_srid: int = 4326
    out_lat_lon: bool = False
    limit: int = 100
    offset: int = 0
    round: str | None = None
    population_type: str | None = None
    pcode: str | None = None
    area: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    fid: int | None = None
    filter: str | None = None  # a CQL2 condition on `c` (see app.services.cql2)
    filter_params: tuple = ()  # its bind parameters, as (name, value) pairs


@dataclass
class Feature:
    fid: int
    geometry: bytes | None  # encoded GeoJSON
    properties: dict
    wkt: str | None = None


@dataclass
class ItemsPage:
    matched: int
    features: list[Feature]


_WHOLE = Memo(64)


def items(session: Session, collection: Collection, q: ItemsQuery, wkt: bool = False) -> ItemsPage:
    """One page of a collection's features, in feature id order, and how many match.

    A page of the whole layer (no selection but its round) is cut from the layer read once
    per data version; a selection (bbox, filter, dates, pcode...) is a query.
    """
    whole = replace(q, limit=MAX_ITEMS, offset=0)
    if whole == ItemsQuery(
        round=q.round, out_srid=q.out_srid, out_lat_lon=q.out_lat_lon, limit=MAX_ITEMS
    ):
        layer = _WHOLE.get(
            session,
            (collection.id, q.round, q.out_srid, q.out_lat_lon, wkt),
            lambda: _query_items(session, collection, whole, wkt),
        )
        return ItemsPage(layer.matched, layer.features[q.offset : q.offset + q.limit])
    return _query_items(session, collection, q, wkt)


def _query_items(session: Session, collection: Collection, q: ItemsQuery, wkt: bool) -> ItemsPage:
    """One page of a collection's features by one query (see `items`).

    Area geometries come encoded from `app.geo.encoded` (once per data version and CRS);
    only the flows' lines are encoded here. `wkt` adds each geometry as WKT (for CSV).
    """
    where, params = _filters(collection, q)
    params.update(source_params(session, collection, q.round, q.population_type, strict=True))
    geometry = "geom" if q.out_srid == 4326 else f"ST_Transform(geom, {int(q.out_srid)})"
    if q.out_lat_lon:
        geometry = f"ST_FlipCoordinates({geometry})"
    decimals = 6 if q.out_srid == 4326 else 2
    # options 0: no per-geometry `crs` member (the Content-Crs header names the CRS)
    encode = (
        f"ST_AsGeoJSON({geometry}, {decimals}, 0)" if collection.geometry_kind is None else "NULL"
    )
    as_text = f"ST_AsText({geometry}, {decimals})" if wkt else "NULL"
    props = ", ".join(f"p.{name}" for name in collection.properties)
    sql = f"""
        WITH matched AS (SELECT * FROM ({collection.source}) c WHERE {where}),
        page AS (SELECT * FROM matched ORDER BY fid LIMIT :limit OFFSET :offset)
        SELECT n.matched, p.fid, {encode} AS geometry_json, {as_text} AS wkt, {props}
        FROM (SELECT count(*) AS matched FROM matched) n LEFT JOIN page p ON true
        ORDER BY p.fid
    """
    rows = session.execute(text(sql), {**params, "limit": q.limit, "offset": q.offset})
    rows = rows.mappings().all()
    shapes = (
        encoded.geometries(session, collection.geometry_kind, q.out_srid, q.out_lat_lon)
        if collection.geometry_kind
        else {}
    )
    features = [
        Feature(
            r["fid"],
            shapes.get(r["pcode"]) if shapes else (r["geometry_json"] or "").encode() or None,
            {name: r[name] for name in collection.properties},
            r["wkt"],
        )
        for r in rows
        if r["fid"] is not None
    ]
    return ItemsPage(rows[0]["matched"] if rows else 0, features)


def _filters(collection: Collection, q: ItemsQuery) -> tuple[str, dict]:
    clauses, params = ["true"], {"round": q.round}
    if q.bbox is not None:
        x1, y1, x2, y2 = q.bbox
        if q.bbox_lat_lon:
            x1, y1, x2, y2 = y1, x1, y2, x2
        # transform the query envelope to storage CRS, never the stored geometry
        clauses.append(
            "ST_Intersects(c.geom, ST_Transform(ST_MakeEnvelope(:x1, :y1, :x2, :y2, "
            ":bbox_srid), 4326))"
        )
        params.update(x1=x1, y1=y1, x2=x2, y2=y2, bbox_srid=q.bbox_srid)
    if q.fid is not None:
        clauses.append("c.fid = :fid")
        params["fid"] = q.fid
    # `pcode` is the property, matched exactly (clients such as GDAL send a query parameter
    # named like a property for an equality filter); `area` is an area and what lies in it.
    if q.pcode and "pcode" in collection.properties:
        clauses.append("c.pcode = :pcode")
        params["pcode"] = q.pcode
    area = q.area or (q.pcode if "origin_pcode" in collection.properties else None)
    if area and "pcode" in collection.properties:
        clauses.append(within("c"))
        params["areas"] = [area]
    elif area and "origin_pcode" in collection.properties:
        origin, destination = (within("c", column=f"{end}_ancestry") for end in ENDS)
        clauses.append(f"({origin} OR {destination})")
        params["areas"] = [area]
    if q.population_type and "population_type" in collection.properties:
        clauses.append("c.population_type = :population_type")
        params["population_type"] = q.population_type
    elif q.population_type and collection.stats:
        # areas with a figure for this population type (its count column is not empty)
        column = {"idp": "idps", "returnee": "returnees", "migrant": "migrants"}
        clauses.append(f"c.{column[q.population_type]} IS NOT NULL")
    if (q.date_from or q.date_to) and "reporting_date" in collection.properties:
        clauses.append(
            "c.reporting_date BETWEEN coalesce(CAST(:date_from AS date), '-infinity') "
            "AND coalesce(CAST(:date_to AS date), 'infinity')"
        )
        params.update(date_from=q.date_from, date_to=q.date_to)
    if q.filter:
        clauses.append(q.filter)
        params.update(q.filter_params)
    return " AND ".join(clauses), params


# --- vector tiles ------------------------------------------------------------------------

TILE_LAYERS = tuple(COLLECTIONS)  # every collection is a vector tile layer too
MIN_ZOOM, MAX_ZOOM = 0, 14
EXTENT = tile_geometries.EXTENT


def tile(
    session: Session, collection: Collection, z: int, x: int, y: int, round_code: str | None
) -> bytes:
    """One Mapbox vector tile (WebMercatorQuad), geometry simplified to the zoom; empty
    below the layer's lowest zoom (663 muhalla points are drawn only close up)."""
    if z < collection.min_zoom:
        return b""
    # a tile pixel at this zoom, in metres; simplify to half of it
    tolerance = tile_geometries.tolerance(z)
    params = {
        **source_params(session, collection, round_code),
        "z": z,
        "x": x,
        "y": y,
        "tolerance": tolerance,
        "layer": collection.id,
        "margin": tolerance * 2 * 64,
    }
    return bytes(session.execute(_tile_sql(collection.id), params).scalar() or b"")


# A feature's geometry in a tile. Raw: cut from the full-detail geometry (a large polygon
# costs a tile only its vertices inside), transformed, simplified, and snapped to the tile's
# grid and repaired by ST_AsMVTGeom. Stored, for the zooms app.geo.tile_geometries holds
# (its data, not a branch here): the copy already simplified and valid on the zoom's pixel
# grid, clipped, scaled to tile units and rounded, with nothing to repair.
_RAW = f"""ST_AsMVTGeom(
    ST_Simplify(ST_Transform(ST_ClipByBox2D(c.geom, bounds.query), 3857), :tolerance, true),
    bounds.env, {EXTENT}, 64, true)"""
_STORED = """ST_CollectionExtract(ST_SnapToGrid(ST_Affine(
    ST_ClipByBox2D(t.geom, bounds.clip),
    bounds.scale, 0, 0, -bounds.scale, bounds.xoff, bounds.yoff), 1), 3)"""
_STORED_OR_RAW = f"CASE WHEN t.geom IS NOT NULL THEN {_STORED} ELSE {_RAW} END"


@cache
def _tile_sql(collection_id: str) -> TextClause:
    """A layer's tile query, built once (a statement's text is parsed for its parameters
    each time one is made)."""
    collection = COLLECTIONS[collection_id]
    props = ", ".join(
        f"CAST(c.{p} AS {_TILE_CASTS[_TYPES[p]]}) AS {p}" if _TYPES[p] in _TILE_CASTS else f"c.{p}"
        for p in collection.properties
    )
    # areas' geometries may be stored per zoom; a layer drawing lines of its own has none
    stored = collection.geometry_kind is not None
    stored_join = (
        f"LEFT JOIN tile_geometries t ON t.kind = '{collection.geometry_kind}' "
        "AND t.zoom = :z AND t.pcode = c.pcode"
        if stored
        else ""
    )
    return text(f"""
        WITH bounds AS (
            SELECT env, ST_Expand(env, :margin)::box2d AS clip,
                   ST_Transform(ST_Expand(env, :margin), 4326)::box2d AS query,
                   -- 3857 to tile units (y down), as ST_AsMVTGeom scales
                   {EXTENT} / (ST_XMax(env) - ST_XMin(env)) AS scale,
                   -ST_XMin(env) * {EXTENT} / (ST_XMax(env) - ST_XMin(env)) AS xoff,
                   ST_YMax(env) * {EXTENT} / (ST_XMax(env) - ST_XMin(env)) AS yoff
            FROM ST_TileEnvelope(:z, :x, :y) AS env
        ),
        features AS (
            SELECT c.fid, {props}, {_STORED_OR_RAW if stored else _RAW} AS geom
            FROM ({collection.source}) c CROSS JOIN bounds {stored_join}
            WHERE c.geom && bounds.query
        )
        -- in feature-id order: the same tile bytes whatever plan the query takes
        SELECT ST_AsMVT(f.*, :layer, {EXTENT}, 'geom', 'fid')
        FROM (SELECT * FROM features WHERE NOT ST_IsEmpty(geom) ORDER BY fid) f
    """)
