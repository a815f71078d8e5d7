"""The OpenAPI 3.0 definition of the OGC API paths (the `service-desc` QGIS reads)."""

from __future__ import annotations

from app.services import cql2
from app.services.ogc import COLLECTIONS, CRS_URIS, Collection

_STRING = {"type": "string"}


def _param(name: str, description: str, where: str = "query", required: bool = False) -> dict:
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": _STRING,
    }


def _ok(description: str, media: str) -> dict:
    return {
        "200": {"description": description, "content": {media: {"schema": {"type": "object"}}}},
        "400": {"description": "Malformed parameter"},
        "404": {"description": "Not found"},
    }


def openapi(base: str) -> dict:
    collection_id = _param("collectionId", f"One of: {', '.join(COLLECTIONS)}.", "path", True)
    items_params = [
        collection_id,
        _param("bbox", "minx,miny,maxx,maxy in bbox-crs."),
        _param("bbox-crs", f"One of {', '.join(CRS_URIS)}."),
        _param("crs", f"Output CRS, one of {', '.join(CRS_URIS)}."),
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "Page size.",
            "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100},
        },
        {
            "name": "offset",
            "in": "query",
            "required": False,
            "description": "Skip.",
            "schema": {"type": "integer", "minimum": 0, "default": 0},
        },
        _param("datetime", "RFC 3339 date or interval on the reporting date."),
        _param("round", "Round code (statistics collections)."),
        _param("population_type", "idp, returnee or migrant."),
        _param("pcode", "Features with this pcode (flows: either end)."),
        _param("area", "An area and the areas within it (flows: either end)."),
        _param("filter", "CQL2 filter on the collection's queryables."),
        {
            "name": "filter-lang",
            "in": "query",
            "required": False,
            "description": "Language of filter.",
            "schema": {"type": "string", "enum": ["cql2-text", "cql2-json"]},
        },
        _param("filter-crs", f"CRS of the filter's geometries, one of {', '.join(CRS_URIS)}."),
    ]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "DTM Geo OGC API - Features",
            "version": "1.0.0",
            "description": "IOM DTM Libya figures and OCHA COD-AB boundaries.",
        },
        "servers": [{"url": base}],
        "paths": {
            "/": {
                "get": {
                    "summary": "Landing page",
                    "operationId": "getLandingPage",
                    "responses": _ok("Landing page", "application/json"),
                }
            },
            "/conformance": {
                "get": {
                    "summary": "Conformance",
                    "operationId": "getConformance",
                    "responses": _ok("Conformance", "application/json"),
                }
            },
            "/collections": {
                "get": {
                    "summary": "Collections",
                    "operationId": "getCollections",
                    "responses": _ok("Collections", "application/json"),
                }
            },
            "/collections/{collectionId}": {
                "get": {
                    "summary": "Collection",
                    "operationId": "describeCollection",
                    "parameters": [collection_id],
                    "responses": _ok("Collection", "application/json"),
                }
            },
            "/collections/{collectionId}/items": {
                "get": {
                    "summary": "Features",
                    "operationId": "getFeatures",
                    "parameters": items_params,
                    "responses": _ok("Features", "application/geo+json"),
                }
            },
            "/collections/{collectionId}/queryables": {
                "get": {
                    "summary": "Queryables",
                    "operationId": "getQueryables",
                    "parameters": [collection_id],
                    "responses": _ok("Queryables", "application/schema+json"),
                }
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": {
                    "summary": "Feature",
                    "operationId": "getFeature",
                    "parameters": [
                        collection_id,
                        _param("featureId", "Feature id.", "path", True),
                        _param("crs", "Output CRS."),
                    ],
                    "responses": _ok("Feature", "application/geo+json"),
                }
            },
        },
    }


_SCHEMAS = {
    cql2.STRING: {"type": "string"},
    cql2.INTEGER: {"type": "integer"},
    cql2.NUMBER: {"type": "number"},
    cql2.BOOLEAN: {"type": "boolean"},
    cql2.DATE: {"type": "string", "format": "date"},
}


def queryables(collection: Collection, types: dict[str, str], base: str) -> dict:
    """The JSON Schema of what a filter on the collection may use (OGC API - Features 3)."""
    properties = {
        name: {"title": name, **_SCHEMAS[kind]}
        for name, kind in types.items()
        if name != cql2.GEOMETRY
    }
    geometry = {
        "title": "geometry",
        "format": f"geometry-{collection.geometry_type.lower()}",
        # QGIS recognises a geometry queryable by a GeoJSON schema reference
        "$ref": f"https://geojson.org/schema/{collection.geometry_type}.json",
        "x-ogc-role": "primary-geometry",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{collection.id}/queryables",
        "type": "object",
        "title": collection.title,
        "properties": {cql2.GEOMETRY: geometry, **properties},
        "additionalProperties": False,
    }
