"""nginx in front (deploy/nginx/dtm-geo.conf, as committed): a repeated answer comes from
nginx, a write is visible through it within the 2 s the service promises, and a read
with a key is never stored for another client."""

from __future__ import annotations

import time
from contextlib import contextmanager

import httpx
import pytest

from app.auth import create_key
from app.db import session_scope
from tests.conftest import serve
from tests.nginx import free_port, nginx, site

pytestmark = pytest.mark.usefixtures("scratch_rounds")


@pytest.fixture(scope="module")
def keys(db_url, first_load):
    with session_scope(db_url) as session:
        return {
            "ingest": create_key(session, "proxy-ingest", ["ingest"]),
            "read": create_key(session, "proxy-read", ["read"]),
        }


@pytest.fixture(scope="module")
def proxied(db_url, first_load, tmp_path_factory):
    """Two services (public reads; READ_KEY_REQUIRED) behind one nginx, a server each."""
    with (
        contextmanager(serve)(db_url, DATA_VERSION_TTL="0") as public,
        contextmanager(serve)(db_url, DATA_VERSION_TTL="0", READ_KEY_REQUIRED="true") as keyed,
    ):
        ports = free_port(), free_port()
        configs = []
        for n, (backend, port) in enumerate(zip((public, keyed), ports, strict=True)):
            text = site(backend.removeprefix("http://"), port, tmp_path_factory.mktemp(f"c{n}"))
            if n:  # the second server block: its own names for the zone, map and upstream
                text = text.replace("dtm_geo", "dtm_geo_keyed_service").replace(
                    "$dtm_geo_keyed_service_keyed", "$dtm_geo_keyed2"
                )
            configs.append(text)
        with nginx("\n".join(configs)):
            yield {
                "public": f"http://127.0.0.1:{ports[0]}",
                "keyed": f"http://127.0.0.1:{ports[1]}",
            }


def test_a_repeated_answer_comes_from_nginx(proxied):
    url = proxied["public"] + "/api/v1/stats?level=1&round=R54&limit=3"
    with httpx.Client(timeout=30) as client:
        first = client.get(url, headers={"Accept-Encoding": "gzip"})
        second = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert first.status_code == second.status_code == 200
        assert first.headers["X-Cache-Status"] in ("MISS", "EXPIRED")
        assert second.headers["X-Cache-Status"] == "HIT"
        assert second.content == first.content and second.headers["ETag"] == first.headers["ETag"]
        assert second.headers["Cache-Control"].startswith("public, max-age=1")
        # the variant without gzip is stored apart (Vary: Accept-Encoding)
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in plain.headers and plain.json() == first.json()
        # expired: revalidated with If-None-Match, the service answers 304, nginx its copy
        time.sleep(2.1)  # nginx counts whole seconds: max-age=1 lasts 1 to 2 s
        again = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert again.headers["X-Cache-Status"] in ("REVALIDATED", "EXPIRED")
        assert again.content == first.content
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def title(response, code: str) -> str:
    return next(r["title"] for r in response.json()["data"] if r["code"] == code)


def test_a_write_is_visible_through_nginx_within_2_seconds(proxied, keys):
    base = proxied["public"]
    body = {"kind": "mobility_tracking", "title": "before", "source": "test"}
    with httpx.Client(base_url=base, timeout=30) as client:
        ingest = {"X-API-Key": keys["ingest"]}
        assert client.put("/api/v1/rounds/T-PROXY", json=body, headers=ingest).status_code in (
            200,
            201,
        )
        time.sleep(2.1)
        for _ in range(2):  # the list of rounds, cached by nginx
            seen = client.get("/api/v1/rounds")
        assert title(seen, "T-PROXY") == "before"
        assert seen.headers["X-Cache-Status"] == "HIT"
        changed = client.put(
            "/api/v1/rounds/T-PROXY", json={**body, "title": "after"}, headers=ingest
        )
        assert changed.status_code == 200  # writes pass through, never cached
        time.sleep(2.0)  # the service's promise: at most 2 s, through the proxy too
        after = client.get("/api/v1/rounds")
        assert title(after, "T-PROXY") == "after", after.headers.get("X-Cache-Status")


def test_a_keyed_read_is_never_cached_for_another_client(proxied, keys):
    path = "/api/v1/rounds/R54"
    with httpx.Client(timeout=30) as client:
        # a service that needs keys to read: a keyed answer is never handed to anyone else
        for _ in range(3):
            keyed = client.get(proxied["keyed"] + path, headers={"X-API-Key": keys["read"]})
            assert keyed.status_code == 200 and keyed.headers["X-Cache-Status"] == "BYPASS"
        anonymous = client.get(proxied["keyed"] + path)
        assert anonymous.status_code == 401
        other = client.get(
            proxied["keyed"] + path, headers={"Ocp-Apim-Subscription-Key": "dtmgeo_x_y"}
        )
        assert other.status_code == 401
        # a public service: a keyed read is not stored either (the next one misses)
        url = proxied["public"] + path + "?keyed=1"
        assert (
            client.get(url, headers={"Authorization": "Bearer x"}).headers["X-Cache-Status"]
            == "BYPASS"
        )
        assert client.get(url).headers["X-Cache-Status"] == "MISS"
