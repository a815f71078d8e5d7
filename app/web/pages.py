"""`/` (the web map), `/docs` and `/redoc` from vendored assets, and `/static`.

Vendored files have their version in the path and are cached for a year; the app's own
files and the page are revalidated (ETag) on every load. Static answers are gzipped."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
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


@router.get("/docs")
def swagger(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        swagger_ui_parameters={"validatorUrl": None},  # no badge from validator.swagger.io
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{REDOC}/redoc.standalone.js",
        redoc_favicon_url="/static/favicon.svg",
        with_google_fonts=False,
    )
