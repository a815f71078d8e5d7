"""The web face of DTM Geo: the bilingual map at `/`, offline `/docs` and `/redoc`, and
HTML views of the OGC API pages. Everything it loads is served from `app/static/`."""

from __future__ import annotations

from fastapi import FastAPI

from app.web import ogc_html, pages
from app.web.headers import HeadAsGet, SecurityHeaders


def install(app: FastAPI) -> None:
    """Add the web routes, the static files and the OGC HTML views to `app`."""
    app.include_router(pages.router)
    app.mount("/static", pages.static_app(), name="static")
    app.add_middleware(ogc_html.HtmlRedirect)
    # outermost: every answer gets the headers, and HEAD runs as GET through everything
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecurityHeaders)
