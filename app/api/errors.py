"""One error model: every error is an RFC 9457 problem (`application/problem+json`).

4xx name the parameter and what is expected (400 under the OGC API, as its standard asks;
422 elsewhere); 500s never show internals, only an incident id that is in the log."""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from urllib.parse import parse_qsl

import anyio
import psycopg2
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.api.writers import json_body
from app.auth import KeyCache
from app.errors import DtmGeoError, InvalidParameter
from app.outage import RETRY_AFTER, is_outage

log = logging.getLogger("dtm_geo")


MAX_ECHO = 300  # characters of a message or input echoed back


PROBLEM = "application/problem+json"


def _clip(value):
    """Long inputs are echoed back cut short: an error is no place for 10 KB of them."""
    if isinstance(value, str) and len(value) > MAX_ECHO:
        return value[:MAX_ECHO] + f"... ({len(value)} characters)"
    return value


def problem_body(status: int, detail: str, **extra) -> bytes:
    """An RFC 9457 problem: type, title, status and detail, plus `errors` (each naming
    its parameter) or an `incident` id where there are some."""
    for item in extra.get("errors", ()):
        if isinstance(item, dict):
            for key in ("input", "message"):
                if key in item:
                    item[key] = _clip(item[key])
    body = {
        "type": "about:blank",
        "title": _phrase(status),
        "status": status,
        "detail": _clip(detail),
        **extra,
    }
    return json_body(body)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # 499, nginx's own
        return "Client Closed Request" if status == 499 else "Error"


def problem(status: int, detail: str, headers: dict | None = None, **extra) -> Response:
    return Response(
        problem_body(status, detail, **extra),
        status_code=status,
        media_type=PROBLEM,
        headers=headers,
    )


async def send_problem(send, status: int, detail: str, headers: dict | None = None, **extra):
    """The same problem, sent by a pure ASGI middleware."""
    body = problem_body(status, detail, **extra)
    raw = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _parameter_status(request: Request) -> int:
    """OGC API - Features answers bad parameters with 400; the rest of the API with 422."""
    return parameter_status(request.url.path)


def parameter_status(path: str) -> int:
    return 400 if path.startswith("/ogc") else 422


def _describe(error: dict) -> dict:
    loc = [str(p) for p in error.get("loc", ())]
    where, name = (loc[0], ".".join(loc[1:])) if len(loc) > 1 else ("request", ".".join(loc))
    item = {"parameter": name, "in": where, "message": error.get("msg", "invalid value")}
    if "input" in error and where in ("query", "path", "header"):
        item["input"] = error["input"]
    return item


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [_describe(e) for e in exc.errors()]
    summary = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
    status = _parameter_status(request)
    return problem(
        status, summary if status == 400 else f"invalid request: {summary}", errors=errors
    )


async def parameter_error(request: Request, exc: InvalidParameter) -> Response:
    item = {"parameter": exc.parameter, "in": exc.where, "message": exc.message}
    if exc.value is not None:
        item["input"] = exc.value
    status = _parameter_status(request)
    detail = f"{exc.parameter}: {exc.message}"
    return problem(
        status,
        detail if status == 400 else f"invalid request: {detail}",
        errors=[item],
        **exc.extra,
    )


def error_headers(exc: DtmGeoError) -> dict:
    headers = {"WWW-Authenticate": "ApiKey"} if exc.status == 401 else {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return headers


async def domain_error(_: Request, exc: DtmGeoError) -> Response:
    """Every other error of the project's own carries its status (and Retry-After)."""
    if exc.status >= 500:
        log.error("%s: %s", type(exc).__name__, exc)
    return problem(exc.status, str(exc), error_headers(exc))


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed(request))
    return problem(exc.status_code, str(exc.detail), headers)


def _allowed(request: Request) -> list[str]:
    """Every method some route answers at this path (routes are registered per method)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


UNAVAILABLE = "the database is unavailable; try again shortly"


def unavailable() -> Response:
    return problem(503, UNAVAILABLE, {"Retry-After": str(RETRY_AFTER)})


async def database_error(request: Request, exc: Exception) -> Response:
    """Database errors raised by the routes: an outage is 503; anything else a fault."""
    if is_outage(exc):
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return unavailable()
    raise exc  # to unexpected_error: a 500 with an incident id


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """A lost database connection is an outage (503 with Retry-After), wherever it was
    raised, middleware included; anything else is a fault (500 with an incident id)."""
    if is_outage(exc):
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return unavailable()
    incident = uuid.uuid4().hex[:12]
    log.exception("unhandled error %s on %s %s", incident, request.method, request.url.path)
    return problem(500, "internal server error", incident=incident)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(InvalidParameter, parameter_error)
    app.add_exception_handler(DtmGeoError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(SQLAlchemyError, database_error)
    app.add_exception_handler(psycopg2.Error, database_error)
    app.add_exception_handler(Exception, unexpected_error)


class RejectNulCharacters:
    """422 (400 under /ogc) for NUL characters in the path or query, which PostgreSQL cannot
    store or compare.

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
                message = "must not contain a NUL character"
                await send_problem(
                    send,
                    parameter_status(scope["path"]),
                    f"invalid request: {name}: {message}",
                    errors=[{"parameter": name, "in": where, "message": message}],
                )
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
                await send_problem(
                    send,
                    401,
                    "this service requires an API key for reading: send it in the X-API-Key header",
                    {"WWW-Authenticate": "ApiKey"},
                )
                return
        await self.app(scope, receive, send)
