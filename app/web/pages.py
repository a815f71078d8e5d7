"""`/` (the web map), `/upload` (posting a round), `/docs` and `/redoc` from vendored
assets, and `/static`.

Vendored files have their version in the path and are cached for a year; the app's own
files and the page are revalidated (ETag) on every load. Static answers are gzipped."""

from __future__ import annotations

import gzip
import html
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from app.errors import InvalidParameter, NotFound

STATIC = Path(__file__).resolve().parent.parent / "static"
GLYPHS = STATIC / "glyphs"  # written by tools/make_glyphs.py
PROTOBUF = "application/x-protobuf"
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
    return _page(request, "index.html")


@router.get("/upload")
def upload(request: Request) -> Response:
    """The upload page for DTM teams: it posts through the ingest API, as the scripts do."""
    return _page(request, "upload.html")


def _page(request: Request, name: str) -> Response:
    page = STATIC / name
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


RANGE = re.compile(r"(\d{1,5})-(\d{1,5})")


@lru_cache(maxsize=64)
def _glyph_range(fontstack: str, name: str) -> tuple[bytes, bytes, str]:
    """A range's protobuf, gzipped, and its ETag; an empty range (the fontstack named, no
    glyphs) when the fonts have none in it, so that a label with such a letter still draws
    and the map asks nothing again."""
    path = GLYPHS / fontstack / f"{name}.pbf"
    if path.is_file():
        body = path.read_bytes()
        tag = f'"{path.stat().st_mtime_ns:x}-{len(body):x}"'
    else:
        stack, rng = fontstack.encode(), name.encode()
        inner = b"\x0a" + bytes([len(stack)]) + stack + b"\x12" + bytes([len(rng)]) + rng
        body = b"\x0a" + bytes([len(inner)]) + inner
        tag = f'"empty-{len(body):x}"'
    return body, gzip.compress(body, 6, mtime=0), tag


@router.get("/glyphs/{fontstack}/{glyph_range}.pbf")
def glyphs(request: Request, fontstack: str, glyph_range: str) -> Response:
    """SDF glyphs for the map's labels (MapLibre's `glyphs` URL), 256 code points a file."""
    known = sorted(p.name for p in GLYPHS.iterdir() if p.is_dir()) if GLYPHS.is_dir() else []
    if fontstack not in known:
        raise NotFound(f"unknown fontstack '{fontstack}'; fontstacks: {', '.join(known)}")
    found = RANGE.fullmatch(glyph_range)
    start, end = (int(found[1]), int(found[2])) if found else (-1, -1)
    if start % 256 or end != start + 255 or end > 65535:
        raise InvalidParameter(
            "range",
            "a range is {start}-{end} with start a multiple of 256, end start + 255, at most "
            "65279-65535",
            glyph_range,
            where="path",
        )
    body, zipped, tag = _glyph_range(fontstack, glyph_range)
    headers = {"Cache-Control": REVALIDATE, "ETag": tag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(zipped, media_type=PROTOBUF, headers=headers)
    return Response(body, media_type=PROTOBUF, headers=headers)
