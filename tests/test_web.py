"""The web face without a browser: `/`, static caching and gzip, offline docs, OGC HTML."""

from __future__ import annotations

import re

from app.web.ogc_html import wants_html

VENDOR = "/static/vendor/maplibre-gl-5.24.1/maplibre-gl.js"


def test_index_is_served_and_revalidated(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache" and r.headers["etag"]
    assert client.get("/", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_page_loads_nothing_from_another_host(client):
    page = client.get("/").text
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith(("/", "#")), url
        assert client.get(url).status_code == 200, url


def test_vendored_files_are_cached_for_a_year_and_gzipped(client):
    r = client.get(VENDOR, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert "max-age=31536000" in r.headers["cache-control"]
    assert r.headers["content-encoding"] == "gzip"
    own = client.get("/static/js/main.js", headers={"Accept-Encoding": "gzip"})
    assert own.headers["cache-control"] == "no-cache" and own.headers["etag"]


def test_docs_and_redoc_use_vendored_assets(client):
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        page = client.get(path).text
        assert asset in page and "cdn" not in page.lower() and "fonts.googleapis" not in page
        for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
            assert client.get(url).status_code == 200, url
    assert client.get("/openapi.json").status_code == 200


def test_ogc_pages_as_html(client):
    landing = client.get("/ogc?f=html")
    assert landing.headers["content-type"].startswith("text/html")
    assert "/ogc/collections?f=html" in landing.text
    collections = client.get("/ogc/collections", headers={"Accept": "text/html,*/*"})
    assert "mantikas" in collections.text and "<table>" in collections.text
    one = client.get("/ogc/collections/stats-admin2?f=html")
    assert "Extent" in one.text
    items = client.get("/ogc/collections/baladiyas/items?f=html&limit=5")
    assert (
        "5 of 100 features" in items.text
        and "Derna" in client.get("/ogc/collections/baladiyas/items/10102?f=html").text
    )


def test_json_clients_are_untouched(client):
    assert client.get("/ogc").headers["content-type"] == "application/json"
    r = client.get("/ogc/collections", headers={"Accept": "application/json"})
    assert r.json()["collections"]
    items = client.get("/ogc/collections/mantikas/items?limit=1&f=json")
    assert items.json()["type"] == "FeatureCollection"
    # errors stay JSON even when HTML was asked for
    missing = client.get("/ogc/collections/nope?f=html")
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_wants_html():
    def scope(path, query=b"", accept=b""):
        return {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query,
            "headers": [(b"accept", accept)],
        }

    assert wants_html(scope("/ogc", accept=b"text/html,application/xhtml+xml"))
    assert wants_html(scope("/ogc/collections/mantikas/items", b"f=html"))
    assert not wants_html(scope("/ogc/collections/mantikas/items", b"f=json", b"text/html"))
    assert not wants_html(scope("/ogc/tiles/mantikas/0/0/0.pbf", b"f=html"))
    assert not wants_html(scope("/ogc/collections", accept=b"application/json, text/html"))


def test_the_pages_modules_resolve_and_are_preloaded(client):
    """Every module the page imports is served, and named in the page's modulepreloads (so
    the browser fetches them at once, not one import after another)."""
    page = client.get("/").text
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)"', page))
    entry = re.search(r'<script type="module" src="([^"]+)"', page).group(1)
    seen, todo = set(), [entry]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "javascript" in answer.headers["content-type"], url
        base = url.rsplit("/", 1)[0]
        for spec in re.findall(r'from "(\.{1,2}/[^"]+)"', answer.text):
            parts = f"{base}/{spec}".split("/")
            resolved = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part != ".":
                    resolved.append(part)
            todo.append("/".join(resolved))
    assert len(seen) > 10
    assert seen == preloaded


def test_upload_page_is_served_with_the_pages_headers_and_no_inline_script(client):
    r = client.get("/upload")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["etag"]
    page = r.text
    assert '<script type="module" src="/static/upload.js">' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # the CSP would refuse it anyway
    assert not re.search(r"\son[a-z]+=", page)  # no inline handlers
    for url in re.findall(r'(?:src|href)="(/[^"]*)"', page):
        assert client.get(url).status_code == 200, url
    assert set(re.findall(r'(?:src|href)="([^/"][^"]*)"', page)) == {"#main"}
    for module in ("/static/upload.js", "/static/upload-i18n.js"):
        code = client.get(module).text
        # server text reaches the page through textContent only, never as markup
        assert "innerHTML" not in code and "insertAdjacentHTML" not in code
        assert "localStorage.setItem(KEY" not in code  # the key: sessionStorage only
