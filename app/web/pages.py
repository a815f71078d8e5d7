"""`/` (the web map), `/docs` and `/redoc` from vendored assets, and `/static`.

Vendored files have their version in the path and are cached for a year; the app's own
files and the page are revalidated (ETag) on every load. Static answers are gzipped."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

STATIC = Path(__file__).resolve().parent.parent / "static"
VENDOR = "/static/vendor"
SWAGGER = f"{VENDOR}/swagger-ui-5.35.0"
REDOC = f"{VENDOR}/redoc-2.5.4"
YEAR = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

router = APIRouter(include_in_schema=False)


class CachedStatic(StaticFiles):
    """StaticFiles with Cache-Control: a year for versioned vendor files, else no-cache."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = YEAR if "/vendor/" in scope["path"] else REVALIDATE

        async def send_with_cache(message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"cache-control", policy.encode()),
                ]
            await send(message)

        await super().__call__(scope, receive, send_with_cache)


def static_app():
    return GZipMiddleware(CachedStatic(directory=STATIC), minimum_size=1024)


@router.get("/")
def index(request: Request) -> Response:
    page = STATIC / "index.html"
    stat = page.stat()
    headers = {"Cache-Control": REVALIDATE, "ETag": f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return FileResponse(page, media_type="text/html", headers=headers)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(
        STATIC / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": REVALIDATE}
    )


# Swagger UI started by a file (app/static/swagger-init.js): the pages' CSP allows no
# inline script (app.web.headers).
SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{swagger}/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head><body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body></html>
"""
REDOC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<style>body {{ margin: 0; padding: 0; }}</style>
</head><body>
<noscript>ReDoc needs JavaScript; the description: <a href="{openapi}">{openapi}</a>.</noscript>
<redoc spec-url="{openapi}"></redoc>
<script src="{redoc}/redoc.standalone.js"></script>
</body></html>
"""


@router.get("/docs")
def swagger(request: Request) -> HTMLResponse:
    return HTMLResponse(
        SWAGGER_PAGE.format(
            title=html.escape(f"{request.app.title} - API"),
            swagger=SWAGGER,
            openapi=html.escape(request.app.openapi_url),
        )
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return HTMLResponse(
        REDOC_PAGE.format(
            title=html.escape(f"{request.app.title} - ReDoc"),
            redoc=REDOC,
            openapi=html.escape(request.app.openapi_url),
        )
    )
