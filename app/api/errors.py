"""Error responses: 4xx name the parameter and what is expected; 500s never show internals."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qsl

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.responses import JSON
from app.auth import KeyCache
from app.errors import InvalidParameter, NotFound
from app.ingest.pipeline import PreconditionFailed
from app.serialize import dumps

log = logging.getLogger("dtm_geo")


MAX_ECHO = 300  # characters of a message or input echoed back


def _clip(value):
    """Long inputs are echoed back cut short: an error is no place for 10 KB of them."""
    if isinstance(value, str) and len(value) > MAX_ECHO:
        return value[:MAX_ECHO] + f"... ({len(value)} characters)"
    return value


def _problem(status: int, detail: str, **extra) -> JSON:
    for item in extra.get("errors", ()):
        if isinstance(item, dict):
            for key in ("input", "message"):
                if key in item:
                    item[key] = _clip(item[key])
    return JSON({"status": status, "detail": _clip(detail), **extra}, status_code=status)


def _describe(error: dict) -> dict:
    loc = [str(p) for p in error.get("loc", ())]
    where, name = (loc[0], ".".join(loc[1:])) if len(loc) > 1 else ("request", ".".join(loc))
    item = {"parameter": name, "in": where, "message": error.get("msg", "invalid value")}
    if "input" in error and where in ("query", "path", "header"):
        item["input"] = error["input"]
    return item


async def validation_error(_: Request, exc: RequestValidationError) -> JSON:
    errors = [_describe(e) for e in exc.errors()]
    summary = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
    return _problem(422, f"invalid request: {summary}", errors=errors)


async def parameter_error(_: Request, exc: InvalidParameter) -> JSON:
    item = {"parameter": exc.parameter, "in": exc.where, "message": exc.message}
    if exc.value is not None:
        item["input"] = exc.value
    return _problem(422, f"invalid request: {exc.parameter}: {exc.message}", errors=[item])


async def not_found(_: Request, exc: NotFound) -> JSON:
    return _problem(404, str(exc))


async def precondition_failed(_: Request, exc: PreconditionFailed) -> JSON:
    return _problem(412, str(exc))


async def http_error(_: Request, exc: StarletteHTTPException) -> JSON:
    response = _problem(exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def database_unavailable(_: Request, exc: OperationalError) -> JSON:
    log.error("database unavailable: %s", exc.orig)
    return _problem(503, "the database is unavailable; try again shortly")


async def unexpected_error(request: Request, exc: Exception) -> JSON:
    incident = uuid.uuid4().hex[:12]
    log.exception("unhandled error %s on %s %s", incident, request.method, request.url.path)
    return _problem(500, "internal server error", incident=incident)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(InvalidParameter, parameter_error)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(PreconditionFailed, precondition_failed)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(Exception, unexpected_error)


class RejectNulCharacters:
    """422 for NUL characters in the path or query, which PostgreSQL cannot store or compare.

    Checked at the edge (pure ASGI) so no handler ever passes one to the database.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            culprit = None
            if "\x00" in scope["path"]:
                culprit = ("path", "path")
            else:
                query = scope.get("query_string", b"").decode("latin-1")
                if "%00" in query or "\x00" in query:
                    for key, value in parse_qsl(query, keep_blank_values=True):
                        if "\x00" in key or "\x00" in value:
                            culprit = (key.replace("\x00", ""), "query")
                            break
            if culprit:
                name, where = culprit
                body = dumps(
                    {
                        "status": 422,
                        "detail": f"invalid request: {name}: must not contain a NUL character",
                        "errors": [
                            {
                                "parameter": name,
                                "in": where,
                                "message": "must not contain a NUL character",
                            }
                        ],
                    }
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 422,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class ReadKeyGuard:
    """When READ_KEY_REQUIRED is set, GETs of data need a valid key (any scope).

    Pure ASGI and outside the response cache, so cached answers are guarded too. Verified
    keys are remembered for at most a second (`KeyCache`), so a revocation holds at once.
    """

    PUBLIC = ("/healthz", "/readyz")

    def __init__(self, app, sessions, seconds: float = 1.0):
        self.app, self._valid = app, KeyCache(sessions, seconds).valid

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] not in self.PUBLIC:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            presented = headers.get("x-api-key") or headers.get("ocp-apim-subscription-key")
            if not presented or not await anyio.to_thread.run_sync(self._valid, presented):
                body = dumps(
                    {
                        "status": 401,
                        "detail": "this service requires an API key for "
                        "reading: send it in the X-API-Key header",
                    }
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b"ApiKey"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
