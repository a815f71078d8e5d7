"""The HTML writer of the OGC API pages, for browsers that follow the links.

The OGC routes write a page from the same document they would write as JSON (landing
page, conformance, collections, one collection, items, one item) when asked for
`f=html`; a browser asking by its Accept header alone is redirected to `f=html`."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode

from app.weburl import linkable

HTML_PATHS = re.compile(r"^/ogc(/conformance|/collections(/[^/]+(/items(/[^/]+)?)?)?)?/?$")
MAX_ROWS = 200


def wants_html(scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    if not HTML_PATHS.match(scope["path"]):
        return False
    params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    if "f" in params:
        return params["f"] == "html"
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"").decode("latin-1")
    return accept.split(",")[0].strip().startswith("text/html")


class HtmlRedirect:
    """ASGI middleware: a browser that asks an `/ogc` page for HTML by its Accept header
    alone is sent (303) to the same URL with `f=html`, so that each format has its own URL
    (and its own cached answer). The routes write the HTML (app.api.ogc)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        query = scope.get("query_string", b"").decode("latin-1") if scope["type"] == "http" else ""
        if not wants_html(scope) or "f" in dict(parse_qsl(query)):
            return await self.app(scope, receive, send)
        location = scope["path"] + "?" + (query + "&" if query else "") + "f=html"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"content-length", b"0"),
                    (b"vary", b"Accept"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _as_html(href: str) -> str:
    """The link with f=html when it points at a page this module renders."""
    path = re.sub(r"^https?://[^/]+", "", href).split("?")[0]
    if not HTML_PATHS.match(path):
        return href
    return href + ("&" if "?" in href else "?") + "f=html"


def _links(links) -> str:
    items = []
    for link in links or []:
        href = link.get("href", "")
        if not linkable(href):  # only this service's pages and http(s) addresses
            label = link.get("title") or link.get("rel")
            items.append(f"<li>{_e(label)} <small>{_e(href)}</small></li>")
            continue
        alternate = ""
        if _as_html(href) != href:
            alternate = f' (<a href="{_e(_as_html(href))}">HTML</a>)'
        items.append(
            f'<li><a href="{_e(href)}">{_e(link.get("title") or link.get("rel"))}</a>'
            f" <small>{_e(link.get('rel'))}, {_e(link.get('type'))}</small>{alternate}</li>"
        )
    return f"<h2>Links</h2><ul>{''.join(items)}</ul>" if items else ""


def _table(rows: list[dict], link_of=None) -> str:
    if not rows:
        return "<p>No features.</p>"
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns and not isinstance(row[c], dict | list)]
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = []
    for row in rows[:MAX_ROWS]:
        cells = []
        for i, c in enumerate(columns):
            text = _e(row.get(c))
            if i == 0 and link_of and linkable(link_of(row)):
                text = f'<a href="{_e(link_of(row))}">{text}</a>'
            cells.append(f"<td>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(path: str, query: list[tuple[str, str]], doc: dict) -> str:
    """One OGC JSON document as an HTML page."""
    title = doc.get("title") or doc.get("id") or path
    parts = [f"<p>{_e(doc.get('description'))}</p>" if doc.get("description") else ""]
    if "collections" in doc:
        title = "Collections"
        rows = [
            {"id": c["id"], "title": c.get("title"), "description": c.get("description")}
            for c in doc["collections"]
        ]
        parts.append(_table(rows, lambda r: f"{path}/{r['id']}?f=html"))
    if "conformsTo" in doc:
        title = "Conformance classes"
        parts.append("<ul>" + "".join(f"<li>{_e(c)}</li>" for c in doc["conformsTo"]) + "</ul>")
    if doc.get("type") == "FeatureCollection":
        title = f"Features of {path.split('/')[-2]}"
        parts.append(
            f"<p>{_e(doc.get('numberReturned'))} of {_e(doc.get('numberMatched'))} features"
            f' (JSON: <a href="{_e(path)}?{_e(urlencode(query))}">GeoJSON</a>).</p>'
        )
        rows = [{"id": f.get("id"), **(f.get("properties") or {})} for f in doc["features"]]
        parts.append(_table(rows, lambda r: f"{path}/{r['id']}?f=html"))
    if doc.get("type") == "Feature":
        title = f"Feature {doc.get('id')}"
        props = {"id": doc.get("id"), **(doc.get("properties") or {})}
        parts.append(
            "<table><tbody>"
            + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in props.items())
            + "</tbody></table>"
        )
    if "extent" in doc:
        bbox = (doc["extent"].get("spatial") or {}).get("bbox")
        parts.append(f"<p>Extent (lon/lat): {_e(bbox)}</p>")
    parts.append(_links(doc.get("links")))
    return PAGE.format(title=_e(title), body="".join(parts))


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - DTM Geo OGC API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<style>
body{{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#222}}
nav a{{margin-inline-end:1rem}} table{{border-collapse:collapse;font-size:13px;display:block;
overflow-x:auto}} th,td{{border:1px solid #ccc;padding:.2rem .4rem;text-align:start}}
th{{background:#f1f1f1}} small{{color:#666}}
</style></head><body>
<nav><a href="/">Web map</a><a href="/ogc?f=html">OGC API</a>
<a href="/ogc/collections?f=html">Collections</a><a href="/docs">API docs</a></nav>
<h1>{title}</h1>{body}
</body></html>
"""
