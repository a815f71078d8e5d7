"""OGC API - Features (Part 1 Core, GeoJSON, OpenAPI 3.0; Part 2 CRS) and vector tiles.

What QGIS and GDAL need to load the layers from the service's URL: a landing page with
`service-desc`, `data` and `conformance` links, collections with extents and CRS lists,
and paged items with numberMatched, numberReturned and next links. Bad parameters answer
400 with the reason, as the standard asks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.exc import DataError, ProgrammingError

from app.api import schemas, writers
from app.api.caching import answer, cached_response
from app.api.deps import SessionDep
from app.api.ogc_params import (
    CollectionId,
    ItemParamsDep,
    ItemsParamsDep,
    collection_of,
    known_round,
)
from app.api.params import OperationQuery, resolve_operation
from app.api.rendered import Rendered
from app.errors import InvalidParameter, NotFound
from app.maps import qgis_project as qgis_project_of
from app.maps import styles as styles_of
from app.serialize import dumps
from app.services import ogc, ogc_docs, package
from app.services.ogc import CRS84, CRS_URIS, ItemsQuery
from app.web import ogc_html

router = APIRouter(
    prefix="/ogc", tags=["OGC API - Features and tiles"], responses=schemas.OGC_ERRORS
)

JSON = "application/json"
HTML = "text/html; charset=utf-8"
GEOJSON = "application/geo+json"
QGZ = "application/x-qgis-project+zip"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
]
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _json(body, media: str = JSON) -> Rendered:
    return Rendered(writers.json_body(body), media)


FormatQuery = Annotated[
    Literal["json", "html"] | None,
    Query(description="json (default) or html, a page for browsers.", examples=["html"]),
]


def _document(request: Request, document: dict, f: str | None) -> Rendered:
    """A page's document as JSON, or written as HTML for browsers (`f=html`)."""
    if f == "html":
        path = request.url.path.rstrip("/")
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "f"]
        return Rendered(ogc_html.render(path, query, document).encode(), HTML)
    return _json(document)


def _send(rendered: Rendered) -> Response:
    return Response(rendered.body, media_type=rendered.media_type)


@router.get("", summary="Landing page (of one operation: Libya by default)")
def landing(
    request: Request, session: SessionDep, f: FormatQuery = None, operation: OperationQuery = None
) -> Response:
    base = _base(request)
    op = resolve_operation(session, operation)
    # `?operation=IRQ` on the landing page carries on to its collections, so that GDAL and
    # QGIS pointed at `/ogc?operation=IRQ` list that operation's collections
    asked = f"?operation={op.iso3}" if operation else ""
    return _send(
        _document(
            request,
            {
                "title": f"DTM Geo: {op.name_en} displacement data",
                "description": f"IOM DTM {op.name_en} figures and OCHA COD-AB boundaries as "
                "OGC API - Features collections and vector tiles.",
                "links": [
                    {"href": base, "rel": "self", "type": JSON, "title": "This document"},
                    {
                        "href": f"{base}/api",
                        "rel": "service-desc",
                        "type": "application/vnd.oai.openapi+json;version=3.0",
                        "title": "API definition",
                    },
                    {
                        "href": str(request.base_url) + "docs",
                        "rel": "service-doc",
                        "type": "text/html",
                        "title": "API documentation",
                    },
                    {
                        "href": f"{base}/conformance",
                        "rel": "conformance",
                        "type": JSON,
                        "title": "Conformance classes",
                    },
                    {
                        "href": f"{base}/collections{asked}",
                        "rel": "data",
                        "type": JSON,
                        "title": "Collections",
                    },
                ],
            },
            f,
        )
    )


@router.get(
    "/project.qgz",
    summary="A QGIS project of the operation's collections, styled as the web map",
    responses={200: {"content": {QGZ: {}}}},
)
def qgis_project(
    request: Request,
    session: SessionDep,
    operation: OperationQuery = None,
    lang: Annotated[
        Literal["en", "ar"], Query(description="Language of the labels.", examples=["ar"])
    ] = "en",
) -> Response:
    op = resolve_operation(session, operation)

    def render() -> Rendered:
        return Rendered(qgis_project_of.qgz(session, op, _base(request), lang), QGZ)

    response = cached_response(request, session, render)
    response.headers["Content-Disposition"] = f'attachment; filename="dtm-geo-{op.slug}.qgz"'
    return response


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request, f: FormatQuery = None) -> Response:
    return _send(_document(request, {"conformsTo": CONFORMANCE}, f))


@router.get("/api", summary="OpenAPI 3.0 definition of the OGC API")
def api_definition(request: Request) -> Response:
    return writers.json_response(
        ogc_docs.openapi(_base(request)),
        media_type="application/vnd.oai.openapi+json;version=3.0",
    )


def _describe(request: Request, session, collection: ogc.Collection) -> dict:
    base = _base(request)
    code = ogc.round_for(session, collection, None)
    bbox = ogc.extent(session, collection, ogc.source_params(session, collection, code))
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [bbox] if bbox else [], "crs": CRS84}},
        "crs": list(CRS_URIS),
        "storageCrs": CRS84,
        "links": [
            {"href": f"{base}/collections/{collection.id}", "rel": "self", "type": JSON},
            {
                "href": f"{base}/collections/{collection.id}/items",
                "rel": "items",
                "type": GEOJSON,
                "title": "Features",
            },
            {
                "href": f"{base}/collections/{collection.id}/queryables",
                "rel": QUERYABLES_REL,
                "type": "application/schema+json",
                "title": "Properties a filter may use",
            },
            *(
                [
                    {
                        "href": f"{base}/tiles/{collection.id}/tilejson.json",
                        "rel": "tiles",
                        "type": JSON,
                        "title": "Vector tiles (TileJSON)",
                    }
                ]
                if collection.id in ogc.TILE_LAYERS
                else []
            ),
        ],
    }


@router.get("/collections", summary="The collections (of one operation: Libya by default)")
def collections(
    request: Request,
    session: SessionDep,
    f: FormatQuery = None,
    operation: OperationQuery = None,
) -> Response:
    op = resolve_operation(session, operation)

    def render() -> Rendered:
        base = _base(request)
        listed = ogc.of_operation(op.iso3)
        document = {
            "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON}],
            "collections": [_describe(request, session, c) for c in listed],
            "crs": list(CRS_URIS),
        }
        return _document(request, document, f)

    return cached_response(request, session, render)


@router.get("/collections/{collection_id}", summary="One collection")
def collection(
    request: Request, session: SessionDep, collection_id: CollectionId, f: FormatQuery = None
) -> Response:
    found = collection_of(collection_id)
    return cached_response(
        request, session, lambda: _document(request, _describe(request, session, found), f)
    )


@router.get(
    "/collections/{collection_id}/queryables",
    summary="Properties a CQL2 filter may use (JSON Schema)",
)
def queryables(request: Request, collection_id: CollectionId) -> Response:
    found = collection_of(collection_id)
    document = ogc_docs.queryables(found, ogc.queryables(found), _base(request))
    return writers.json_response(document, media_type="application/schema+json")


@router.get(
    "/collections/{collection_id}/styles",
    summary="The styles of a collection (OGC API - Styles): SLD 1.1 and MapLibre",
)
def styles(request: Request, session: SessionDep, collection_id: CollectionId) -> Response:
    found = collection_of(collection_id)

    def render() -> Rendered:
        base = f"{_base(request)}/collections/{found.id}/styles"
        listed = [
            {
                "id": style_id,
                "title": f"{found.title}: {style_id}",
                "links": [
                    {"href": f"{base}/{style_id}?f={f}", "rel": "stylesheet", "type": media}
                    for f, media in (("sld", styles_of.SLD), ("mapbox", styles_of.MAPLIBRE))
                ],
            }
            for style_id in styles_of.style_ids(session, found)
        ]
        return _json({"styles": listed, "default": listed[0]["id"] if listed else None})

    return cached_response(request, session, render)


@router.get(
    "/collections/{collection_id}/styles/{style_id}",
    summary="One style of a collection, as SLD 1.1 or a MapLibre style",
    responses={200: {"content": {styles_of.SLD: {}, styles_of.MAPLIBRE: {}}}},
)
def style(
    request: Request,
    session: SessionDep,
    collection_id: CollectionId,
    style_id: Annotated[str, Path(max_length=32, description="Style.", examples=["idp"])],
    f: Annotated[
        Literal["sld", "mapbox"],
        Query(description="sld (SLD 1.1) or mapbox (a MapLibre style).", examples=["sld"]),
    ] = "sld",
    lang: Annotated[
        Literal["en", "ar"], Query(description="Language of the labels.", examples=["ar"])
    ] = "en",
) -> Response:
    found = collection_of(collection_id)

    def render() -> Rendered:
        chosen = styles_of.style_of(session, found, style_id, lang)
        if f == "sld":
            return Rendered(chosen.sld_bytes(), styles_of.SLD)
        tilejson = f"{_base(request)}/tiles/{found.id}/tilejson.json"
        if chosen.round_code:
            tilejson += f"?round={chosen.round_code}"
        glyphs = str(request.base_url).rstrip("/") + "/glyphs/{fontstack}/{range}.pbf"
        return _json(styles_of.maplibre(chosen, tilejson, glyphs), styles_of.MAPLIBRE)

    return cached_response(request, session, render)


@router.get("/collections/{collection_id}/items", summary="Features of a collection (GeoJSON)")
async def items(request: Request, session: SessionDep, params: ItemsParamsDep) -> Response:
    found, crs, query, output = params.collection, params.crs, params.query, params.output
    collection_id = found.id

    def render() -> Rendered:
        page = _items(session, found, query, wkt=output == "csv")
        if output == "csv":
            name = f"dtm-geo-{collection_id}.csv"
            rows = [{"id": f.fid, **f.properties, "wkt": f.wkt} for f in page.features]
            return Rendered(
                writers.csv_body(["id", *found.properties, "wkt"], rows),
                writers.CSV,
                {
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "Content-Crs": f"<{crs}>",
                },
            )
        members = _page_members(request, page.matched, len(page.features), query)
        if output == "html":
            features = [{"id": f.fid, "properties": f.properties} for f in page.features]
            document = {"type": "FeatureCollection", "features": features, **members}
            return _document(request, document, "html")
        body = writers.feature_collection(
            (writers.feature(f.fid, f.geometry, f.properties) for f in page.features), members
        )
        return Rendered(body, GEOJSON, {"Content-Crs": f"<{crs}>"})

    return await answer(request, session, render)


def _items(session, collection: ogc.Collection, query: ItemsQuery, wkt: bool = False):
    """ogc.items, with what a request can still get wrong answered 400."""
    try:
        return ogc.items(session, collection, query, wkt)
    except (DataError, ProgrammingError):
        # a filter PostgreSQL refuses where the checks before it could not tell; without
        # a filter it is the service's fault and stays a 500
        session.rollback()
        if not query.filter:
            raise
        raise InvalidParameter("filter", "the database cannot evaluate it") from None


def _page_members(request: Request, matched: int, returned: int, q: ItemsQuery) -> dict:
    url = request.url
    links = [
        {"href": str(url), "rel": "self", "type": GEOJSON},
        {"href": str(url).split("/items")[0], "rel": "collection", "type": JSON},
    ]
    if q.offset + returned < matched:
        links.append(
            {
                "href": str(url.include_query_params(offset=q.offset + q.limit)),
                "rel": "next",
                "type": GEOJSON,
            }
        )
    if q.offset > 0:
        links.append(
            {
                "href": str(url.include_query_params(offset=max(q.offset - q.limit, 0))),
                "rel": "prev",
                "type": GEOJSON,
            }
        )
    return {
        "numberMatched": matched,
        "numberReturned": returned,
        "links": links,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
def item(request: Request, session: SessionDep, params: ItemParamsDep) -> Response:
    found, crs, query = params.collection, params.crs, params.query
    collection_id, feature_id = found.id, query.fid

    def render() -> Rendered:
        features = _items(session, found, query).features
        if not features:
            raise NotFound(f"no feature {feature_id} in {collection_id}")
        base = str(request.url).split("?")[0]
        links = [
            {"href": base, "rel": "self", "type": GEOJSON},
            {"href": base.rsplit("/items", 1)[0], "rel": "collection", "type": JSON},
        ]
        f = features[0]
        if params.output == "html":
            document = {"type": "Feature", "id": f.fid, "properties": f.properties}
            return _document(request, {**document, "links": links}, "html")
        body = writers.feature(f.fid, f.geometry, f.properties)[:-1] + b',"links":'
        return Rendered(body + dumps(links) + b"}", GEOJSON, {"Content-Crs": f"<{crs}>"})

    return cached_response(request, session, render)


GPKG = writers.GPKG


@router.get(
    "/download.gpkg",
    summary="A GeoPackage of every collection (statistics for one round)",
    responses={200: {"content": {GPKG: {}}}},
)
def download_geopackage(
    request: Request,
    session: SessionDep,
    round: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Round of the statistics layers (default: the latest with figures).",
            examples=["R54"],
        ),
    ] = None,
    operation: OperationQuery = None,
) -> Response:
    op = resolve_operation(session, operation)
    known_round(session, round, op.iso3)

    def render() -> Rendered:
        code = known_round(session, round, op.iso3)
        name = f"dtm-geo-{op.slug}-{code or 'latest'}.gpkg"
        layers, metadata = package.layers(session, op, code)
        return Rendered(
            writers.geopackage(layers, metadata),
            writers.GPKG,
            {"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return cached_response(request, session, render)
