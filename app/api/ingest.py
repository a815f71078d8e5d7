"""Writing round data: round metadata, JSON rows, file uploads, history. Keys required."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from http import HTTPStatus
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.convertors import Convertor, register_url_convertor

from app.api import writers
from app.api.deps import KeyInfo, SessionDep, require
from app.api.errors import problem
from app.api.writes import run_write
from app.errors import (
    Forbidden,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)
from app.ingest import parse, service
from app.ingest.cancel import cancellable
from app.ingest.limits import WorkbookLimits
from app.ingest.pipeline import Submission, round_etag
from app.ingest.specs import QUALITIES, SPECS
from app.vocabulary import RoundKind
from app.weburl import MAX_LENGTH as URL_LENGTH
from app.weburl import PATTERN as URL_PATTERN
from app.weburl import web_url

router = APIRouter(prefix="/api/v1", tags=["ingest"])

IngestKey = Annotated[KeyInfo, Depends(require("ingest"))]
AdminKey = Annotated[KeyInfo, Depends(require("admin"))]
RoundCode = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description="Round code.", examples=["R55"]),
]
METADATA_BYTES = 64 * 1024  # a round's metadata is a few hundred bytes
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        examples=["2024-r55-upload-1"],
        description="Retrying a request with the same key returns the first answer.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        examples=['"round-R55-r3"'],
        description="The round's ETag as last read: the write is refused (412) if it changed.",
    ),
]


# The bodies are read by hand, after the key and size checks; declared here for clients.
FILE_BODY = {
    "required": True,
    "content": {
        XLSX: {"schema": {"type": "string", "format": "binary"}},
        "text/csv": {"schema": {"type": "string", "description": "Long CSV, one figure a row"}},
    },
}
_COLUMNS = sorted({column for spec in SPECS.values() for column in spec.columns})
ROWS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["source", "rows"],
                "properties": {
                    "source": {"type": "string", "minLength": 1, "maxLength": 500},
                    "source_url": {
                        "anyOf": [
                            {"type": "string", "maxLength": URL_LENGTH, "pattern": URL_PATTERN},
                            {"type": "null"},
                        ]
                    },
                    "quality": {"enum": list(QUALITIES), "default": "published"},
                    "rows": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "description": "One row; its columns, by dataset, as in the README: "
                            + ", ".join(_COLUMNS),
                        },
                    },
                },
            },
            "example": {
                "source": "IOM DTM Libya",
                "quality": "published",
                "rows": [{"pcode": "LY010102", "population_type": "idp", "individuals": 120}],
            },
        }
    },
}


def _json(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    if status >= 400:  # a refused write, with every row's problem: a problem document
        extra = {k: v for k, v in body.items() if k not in ("type", "title", "status", "detail")}
        return problem(status, body.get("detail", HTTPStatus(status).phrase), headers, **extra)
    return writers.json_response(body, status, headers)


async def _body(request: Request, allowed: tuple[str, ...], max_bytes: int | None = None) -> bytes:
    """The request body, refusing a wrong content type (415) or too large a body (413).

    Called after the key check; the declared size is judged before a byte is read, and a
    chunked body is cut off as soon as it runs over.
    """
    limit = min(request.app.state.settings.max_upload_bytes, max_bytes or 1 << 62)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in allowed:
        raise UnsupportedMediaType(
            f"Content-Type '{media or 'none'}' is not accepted here; "
            f"send one of {', '.join(allowed)}",
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; at most {limit} are accepted")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes, the most accepted")
        chunks.append(chunk)
    return b"".join(chunks)


class RoundIn(BaseModel):
    """Round metadata."""

    # strict: a date is a YYYY-MM-DD string, never a number read as a Unix time
    model_config = ConfigDict(extra="forbid", strict=True)
    operation: str | None = Field(
        None,
        max_length=32,
        description="The operation the round belongs to (ISO3 code or slug; default Libya). "
        "A round's operation never changes.",
        examples=["LBY"],
    )
    number: int | None = Field(None, ge=1, le=10_000, examples=[55])
    kind: RoundKind
    event_slug: str | None = Field(
        None, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64, examples=["storm-daniel-2023"]
    )
    title: str = Field(min_length=1, max_length=500)
    collection_start: date | None = None
    collection_end: date | None = None
    reporting_date: date | None = None
    published_on: date | None = None
    source: str = Field(min_length=1, max_length=500, examples=["IOM DTM Libya"])
    source_url: str | None = Field(
        None,
        max_length=URL_LENGTH,
        json_schema_extra={"pattern": URL_PATTERN},
        examples=["https://dtm.iom.int/libya"],
    )

    @field_validator("title", "source")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value

    @field_validator("source_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        return web_url(value)


@router.put(
    "/rounds/{code}",
    summary="Create or update a round's metadata (scope: ingest)",
    status_code=200,
    responses={
        201: {"description": "Created"},
        409: {"description": "Another write holds the round; retry after Retry-After"},
        412: {"description": "If-Match is stale"},
        413: {"description": "Too large"},
    },
    # The body is read by hand, after the key and size checks: declared here for clients.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RoundIn.model_json_schema()}},
        }
    },
)
async def put_round(
    request: Request,
    session: SessionDep,
    key: IngestKey,
    code: RoundCode,
    if_match: IfMatch = None,
) -> Response:
    session.close()
    raw = await _body(request, ("application/json",), max_bytes=METADATA_BYTES)
    try:
        body = RoundIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_context=False)]
        ) from None
    if body.kind != "mobility_tracking" and not body.event_slug:
        raise Unprocessable("event_slug is required for flash updates and event tracking")
    payload = hashlib.sha256(body.model_dump_json().encode()).hexdigest()

    def write(token):
        with request.app.state.write_sessionmaker() as writer, cancellable(writer, token):
            view, created = service.put_round(
                writer, code, body.model_dump(), key, if_match, payload
            )
            token.check()
            writer.commit()
        return view, created

    view, created = await run_write(request, write)
    return _json(
        {"data": view}, 201 if created else 200, {"ETag": round_etag(code, view["revision"])}
    )


@router.delete(
    "/rounds/{code}",
    summary="Delete a round and its data (scope: admin)",
    responses={409: {"description": "Another write holds the round; retry after Retry-After"}},
)
async def delete_round(
    request: Request, session: SessionDep, key: AdminKey, code: RoundCode, if_match: IfMatch = None
) -> Response:
    session.close()

    def write(token):
        with request.app.state.write_sessionmaker() as writer, cancellable(writer, token):
            body = service.delete_round(
                writer, code, key, if_match, hashlib.sha256(code.encode()).hexdigest()
            )
            token.check()
            writer.commit()
        return body

    return _json(await run_write(request, write))


ModeQuery = Annotated[
    Literal["upsert", "replace"],
    Query(
        description="upsert (default) inserts and updates on the natural key; replace is a full "
        "resubmission of the round (per population type present): rows it lacks are removed "
        "(needs the admin scope).",
        examples=["upsert"],
    ),
]
DryRunQuery = Annotated[
    bool,
    Query(description="Validate and report what would change; write nothing.", examples=[True]),
]


def _check_mode(mode: str, key: KeyInfo) -> None:
    if mode == "replace" and not key.allows("admin"):
        raise Forbidden(
            f"the key '{key.name}' lacks the 'admin' scope needed to replace a round's data"
        )


@router.post(
    "/rounds/{code}/files",
    summary="Upload a DTM Libya XLSX or a long CSV for a round (scope: ingest)",
    description="Send the file as the raw request body with Content-Type "
    f"`{XLSX}` or `text/csv`. See the README for the accepted layouts.",
    responses={
        413: {"description": "Too large"},
        415: {"description": "Wrong content type"},
        422: {"description": "Unreadable file or invalid rows"},
    },
    openapi_extra={"requestBody": FILE_BODY},
)
async def post_file(
    request: Request,
    session: SessionDep,
    key: IngestKey,
    code: RoundCode,
    source: Annotated[
        str,
        Query(
            min_length=1,
            max_length=500,
            examples=["IOM DTM Libya"],
            description="The publication the figures come from.",
        ),
    ],
    source_url: Annotated[
        str | None,
        Query(
            max_length=URL_LENGTH,
            description="Its address (http or https).",
            examples=["https://dtm.iom.int/libya"],
            json_schema_extra={"pattern": URL_PATTERN},
        ),
    ] = None,
    quality: Annotated[
        Literal["published", "modelled", "synthetic"],
        Query(
            description="Quality label of every figure in the file.",
            examples=["published"],
        ),
    ] = "published",
    mode: ModeQuery = "upsert",
    dry_run: DryRunQuery = False,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response:
    _check_mode(mode, key)
    source_url = _url_parameter(source_url, "query")
    session.close()
    raw = await _body(request, (XLSX, "text/csv"))
    content_type = request.headers["content-type"].lower()
    settings = request.app.state.settings

    def write(token):
        parts = service.file_parts(
            _parse_file(raw, content_type, WorkbookLimits.from_settings(settings)),
            code,
            source=source,
            source_url=source_url,
            quality=quality,
            mode=mode,
            dry_run=dry_run,
            payload_sha256=hashlib.sha256(raw).hexdigest(),
            key=key,
            idempotency_key=idempotency_key,
            if_match=if_match,
        )
        try:
            return service.submit(request.app.state.write_sessionmaker, parts, cancel=token)
        except parse.LayoutError as exc:  # found while streaming the rows
            raise Unprocessable(f"unreadable or wrongly laid out file: {exc}") from None

    status, body = await run_write(request, write)
    return _json(body, status)


class _Dataset(Convertor):
    """Only the three datasets match the path, so /rounds/{code}/history is not taken for
    one (a POST there is 405, not a request for a dataset called 'history')."""

    regex = "observations|flows|nationalities"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("dataset", _Dataset())


@router.post(
    "/rounds/{code}/{dataset:dataset}",
    summary="Post observations, flows or nationalities as JSON (scope: ingest)",
    description='Body: {"source": "...", "source_url": "...", "quality": "published", '
    '"rows": [{"pcode": "LY010102", "population_type": "idp", "individuals": 120, ...}]}. '
    "Every problem is reported at once (row, column, value, message) and nothing is written "
    "when any row fails.",
    responses={422: {"description": "Invalid rows"}, 412: {"description": "Stale If-Match"}},
    openapi_extra={"requestBody": ROWS_BODY},
)
async def post_rows(
    request: Request,
    session: SessionDep,
    key: IngestKey,
    code: RoundCode,
    dataset: Annotated[
        Literal["observations", "flows", "nationalities"],
        Path(description="Which table the rows go to.", examples=["observations"]),
    ],
    mode: ModeQuery = "upsert",
    dry_run: DryRunQuery = False,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> Response:
    _check_mode(mode, key)
    session.close()
    raw = await _body(request, ("application/json",))
    status, body = await run_write(
        request,
        lambda token: _post_rows(
            request, raw, key, code, dataset, mode, dry_run, idempotency_key, if_match, token
        ),
    )
    return _json(body, status)


def _post_rows(
    request, raw, key, code, dataset, mode, dry_run, idempotency_key, if_match, token
) -> tuple[int, dict]:
    try:
        payload = orjson.loads(raw)  # also refuses invalid UTF-8, NaN and deep nesting
    except orjson.JSONDecodeError as exc:
        raise Unprocessable(f"the body is not valid JSON: {exc}") from None
    if isinstance(payload, list):
        payload = {"rows": payload}
    if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
        raise Unprocessable('expected {"source": ..., "rows": [...]} or a list of rows')
    source = payload.get("source")
    if not isinstance(source, str) or not source.strip() or len(source) > 500:
        raise Unprocessable(
            "source: required, the publication the figures come from (at most 500 characters)"
        )
    source_url = _url_parameter(payload.get("source_url"), "body")
    if "\x00" in source:
        raise Unprocessable("source: must not contain a NUL character")
    quality = payload.get("quality", "published")
    if quality not in QUALITIES:
        raise Unprocessable(f"quality: '{quality}' is not one of {', '.join(QUALITIES)}")
    try:
        rows = list(parse.json_rows(dataset, payload["rows"]))
    except parse.LayoutError as exc:
        raise Unprocessable(str(exc)) from None
    sub = Submission(
        spec=SPECS[dataset],
        round_code=code,
        rows=rows,
        source=source.strip(),
        source_url=source_url,
        quality=quality,
        mode=mode,
        dry_run=dry_run,
        payload_sha256=hashlib.sha256(raw).hexdigest(),
        key=key,
        idempotency_key=idempotency_key,
        if_match=if_match,
    )
    return service.submit(request.app.state.write_sessionmaker, [sub], cancel=token)


def _url_parameter(value, where: str) -> str | None:
    """A poster's `source_url`, checked by the one rule (app.weburl): 422 naming it."""
    try:
        return web_url(value)
    except ValueError as exc:
        raise InvalidParameter("source_url", str(exc), _clip_text(value), where=where) from None


def _clip_text(value) -> str | None:
    return value if isinstance(value, str) else None


def _parse_file(raw: bytes, content_type: str, limits: WorkbookLimits) -> dict[str, Iterable]:
    """The file's datasets, their rows read as the import consumes them."""
    try:
        if content_type.startswith("text/csv"):
            return {"observations": parse.csv_rows("observations", raw)}
        return parse.xlsx_datasets(raw, limits)
    except parse.LayoutError as exc:
        raise Unprocessable(f"unreadable or wrongly laid out file: {exc}") from None


@router.get("/rounds/{code}/history", summary="Every write to a round, oldest first")
def round_history(session: SessionDep, code: RoundCode) -> Response:
    if service.round_view(session, code) is None and not service.history(session, code):
        raise NotFound(f"unknown round '{code}'; list rounds with GET /api/v1/rounds")
    return _json({"data": service.history(session, code)})


@router.get("/submissions/{submission_id}", summary="One write, with the values it replaced")
def get_submission(
    session: SessionDep,
    submission_id: Annotated[int, Path(ge=1, le=2**62, description="Submission id.", examples=[1])],
) -> Response:
    return _json({"data": service.submission_detail(session, submission_id)})
