"""The OpenAPI description as the service answers: every error is a problem document.

FastAPI documents request validation errors with its own schema (HTTPValidationError);
the service answers them as RFC 9457 problems (app.api.errors), with 400 under the OGC
API. This rewrites the generated description once so that it says what is served.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.schemas import Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def install(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = _rewrite(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }


def _rewrite(spec: dict) -> dict:
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in schemas["Problem"].pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            bad = "400" if path.startswith("/ogc") else "422"
            if "422" in responses and bad == "400":
                responses.pop("422")
            if operation.get("parameters") or operation.get("requestBody"):
                responses[bad] = _problem(
                    "A malformed parameter, named with what it expects"
                    if bad == "400" or "422" not in responses
                    else responses["422"].get("description", "Invalid request")
                )
            if path.startswith(("/v2/", "/v3/")):  # DTM API's own envelope, as DTM answers
                responses["400"] = {
                    "description": "A bad or missing parameter, in the DTM API's envelope "
                    "(isSuccess false, errorMessages)",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            for status, answer in responses.items():
                if status == "400" and path.startswith(("/v2/", "/v3/")):
                    continue
                if status.startswith(("4", "5")):
                    answer["content"] = {"application/problem+json": {"schema": PROBLEM_REF}}
            responses.setdefault(
                "500", _problem("A fault of the service; the body has an incident id")
            )
            responses.setdefault("503", _problem("The database is unavailable"))
    _content_types(spec)
    _no_nul(spec)
    _writes(spec)
    _hoist_definitions(spec, schemas)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return spec


# Answers served in more than one content type, as the routes write them (`f=html` for
# browsers on the OGC pages; the OGC API's own definitions have their media types).
_ALTERNATIVES = {
    "/ogc": ["text/html"],
    "/ogc/conformance": ["text/html"],
    "/ogc/collections": ["text/html"],
    "/ogc/collections/{collection_id}": ["text/html"],
    "/ogc/collections/{collection_id}/items": ["application/geo+json", "text/csv", "text/html"],
    "/ogc/collections/{collection_id}/items/{feature_id}": ["application/geo+json", "text/html"],
    "/ogc/collections/{collection_id}/queryables": ["application/schema+json"],
    "/ogc/api": ["application/vnd.oai.openapi+json;version=3.0"],
    "/ogc/tiles/{layer}/tilejson.json": ["application/json"],
}


def _content_types(spec: dict) -> None:
    for path, types in _ALTERNATIVES.items():
        operation = spec.get("paths", {}).get(path, {}).get("get")
        if operation is None:
            continue
        ok = operation["responses"].setdefault("200", {"description": "Successful Response"})
        content = ok.setdefault("content", {})
        for media in types:
            content.setdefault(
                media,
                {
                    "schema": {"type": "string"}
                    if "html" in media or "csv" in media
                    else {"type": "object"}
                },
            )


NO_NUL = "^[^\\u0000]*$"  # PostgreSQL text cannot hold NUL: such values are refused


def _no_nul(spec: dict) -> None:
    """Free-text parameters say they take no NUL character (app.api.errors refuses it)."""

    def text_schemas(schema: dict):
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") == "string":
                yield branch
            elif branch.get("type") == "array":
                yield from text_schemas(branch.get("items", {}))

    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if any(k in schema for k in ("pattern", "enum", "format")):
                    continue
                for text in text_schemas(schema):
                    if not any(k in text for k in ("pattern", "enum", "format")):
                        text["pattern"] = NO_NUL


_WRITE_ANSWERS = {
    "401": "No valid API key (send it in X-API-Key)",
    "403": "The key lacks the scope",
    "404": "No such round",
    "409": "Another write holds the round; retry after Retry-After",
    "412": "If-Match names a revision that is no longer current",
    "413": "The body is larger than MAX_UPLOAD_BYTES",
    "415": "The body's content type is not one this endpoint reads",
}


def _writes(spec: dict) -> None:
    """Writes need an API key (declared as a security scheme) and answer the statuses of
    the ingest path; a round's history and a submission may be unknown (404)."""
    schemes = spec["components"].setdefault("securitySchemes", {})
    schemes["ApiKey"] = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    schemes["SubscriptionKey"] = {
        "type": "apiKey",
        "in": "header",
        "name": "Ocp-Apim-Subscription-Key",
        "description": "The same key under the DTM API's header name.",
    }
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "429",
                _problem("Over the rate of the key or address (RATE_LIMIT_*); see Retry-After"),
            )
            if method in ("post", "put", "delete", "patch"):
                operation["security"] = [{"ApiKey": []}, {"SubscriptionKey": []}]
                for status, description in _WRITE_ANSWERS.items():
                    responses.setdefault(status, _problem(description))
            elif path.startswith(("/api/v1/rounds/{code}", "/api/v1/submissions/")):
                responses.setdefault("404", _problem("No such round or submission"))


def _hoist_definitions(node, schemas: dict) -> None:
    """Schemas written inline by pydantic carry their own `$defs`: move them to the
    components and point their references there (ReDoc cannot follow `#/$defs/...`)."""
    if isinstance(node, dict):
        for name, schema in node.pop("$defs", {}).items():
            schemas.setdefault(name, schema)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        for value in list(node.values()):
            _hoist_definitions(value, schemas)
    elif isinstance(node, list):
        for value in node:
            _hoist_definitions(value, schemas)
