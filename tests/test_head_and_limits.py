"""HEAD wherever GET, the OpenAPI's key headers, and rate limits per key and address."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.auth import create_key
from app.db import session_scope
from app.main import create_app
from app.settings import Settings

PATH_VALUES = {
    "code": "R54",
    "pcode": "LY010102",
    "collection_id": "mantikas",
    "feature_id": "101",
    "layer": "mantikas",
    "z": "5",
    "x": "17",
    "y": "12",
    "submission_id": "1",
    "slug": "storm-daniel-2023",
    "event": "storm-daniel-2023",
}


def _example(parameter: dict) -> str | None:
    schema = parameter.get("schema", {})
    for source in (parameter, schema):
        if "example" in source:
            return str(source["example"])
        if source.get("examples"):
            examples = source["examples"]
            first = examples[0] if isinstance(examples, list) else next(iter(examples.values()))
            return str(first.get("value", first) if isinstance(first, dict) else first)
    if "enum" in schema:
        return str(schema["enum"][0])
    return None


def get_operations(client) -> list[str]:
    """Every GET of the OpenAPI description, with its path and required parameters filled."""
    spec = client.get("/openapi.json").json()
    urls = []
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        query = []
        url = path
        for parameter in operations["get"].get("parameters", []):
            name = parameter["name"]
            if parameter["in"] == "path":
                value = PATH_VALUES.get(name) or _example(parameter)
                assert value is not None, f"no value for {name} in {path}"
                url = url.replace("{" + name + "}", value)
            elif parameter["in"] == "query" and parameter.get("required"):
                query.append(f"{name}={_example(parameter)}")
        urls.append(url + ("?" + "&".join(query) if query else ""))
    return urls


def test_head_is_answered_wherever_get_is(client):
    urls = [*get_operations(client), "/", "/docs", "/redoc", "/static/js/main.js"]
    assert len(urls) > 30
    for url in urls:
        got = client.get(url)
        head = client.head(url)
        assert head.status_code == got.status_code != 405, (url, head.status_code)
        assert head.content == b"", url
        for name in ("content-type", "etag", "cache-control"):
            assert head.headers.get(name) == got.headers.get(name), (url, name)


def test_the_openapi_declares_both_key_headers(client):
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    names = {s["name"] for s in schemes.values() if s["in"] == "header"}
    assert names == {"X-API-Key", "Ocp-Apim-Subscription-Key"}
    put = spec["paths"]["/api/v1/rounds/{code}"]["put"]
    assert {next(iter(s)) for s in put["security"]} == set(schemes)


@pytest.fixture(scope="module")
def keys(db_url, first_load):
    with session_scope(db_url) as session:
        return {
            "reader": create_key(session, "limit-reader", ["read"]),
            "busy": create_key(session, "limit-busy", ["ingest"]),
            "trusted": create_key(session, "limit-trusted", ["ingest"]),
        }


def _assert_429(response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 429 and "rate" in response.json()["detail"]
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    return wait


def test_reads_are_limited_per_address_and_per_key(db_url, keys):
    # 60 a minute, 3 s of it at once: three answers, then 429 for about a second
    settings = Settings(database_url=db_url, rate_limit_read=60, rate_limit_burst=3)
    with TestClient(create_app(settings)) as limited:
        statuses = [limited.get("/api/v1/rounds").status_code for _ in range(3)]
        assert statuses == [200, 200, 200]  # cached answers count too
        _assert_429(limited.get("/api/v1/rounds"))
        assert limited.get("/healthz").status_code == 200  # probes are never limited
        # a verified key has its own bucket; an unknown key counts as its address
        reader = {"X-API-Key": keys["reader"]}
        assert [limited.get("/api/v1/areas", headers=reader).status_code for _ in range(3)] == [
            200
        ] * 3
        _assert_429(limited.get("/api/v1/areas", headers=reader))
        _assert_429(limited.get("/api/v1/areas", headers={"X-API-Key": "dtmgeo_x_y"}))
        sub = {"Ocp-Apim-Subscription-Key": keys["reader"]}  # the same key, DTM's header
        _assert_429(limited.get("/api/v1/areas", headers=sub))


def test_writes_are_limited_per_key_and_scope_with_named_overrides(db_url, keys):
    settings = Settings(
        database_url=db_url,
        rate_limit_ingest=6,  # one every 10 s
        rate_limit_burst=10,  # one at once
        rate_limit_keys={"limit-trusted": {"ingest": 600}},
    )
    body = {"kind": "mobility_tracking", "title": "limits", "source": "test"}
    with TestClient(create_app(settings)) as limited:
        busy = {"X-API-Key": keys["busy"]}
        assert limited.put("/api/v1/rounds/T-RATE", json=body, headers=busy).status_code in (
            200,
            201,
        )
        wait = _assert_429(limited.put("/api/v1/rounds/T-RATE", json=body, headers=busy))
        assert wait >= 9
        trusted = {"X-API-Key": keys["trusted"]}
        for _ in range(5):
            assert (
                limited.put("/api/v1/rounds/T-RATE", json=body, headers=trusted).status_code == 200
            )
        # reads are not limited when only writes are
        assert all(limited.get("/api/v1/rounds").status_code == 200 for _ in range(20))
    with session_scope(db_url) as session:
        from sqlalchemy import text

        session.execute(text("DELETE FROM submissions WHERE round_code = 'T-RATE'"))
        session.execute(text("DELETE FROM rounds WHERE code = 'T-RATE'"))


def test_limits_are_off_by_default():
    settings = Settings()
    assert not (settings.rate_limit_read or settings.rate_limit_ingest or settings.rate_limit_admin)
    assert re.fullmatch(r"\d+", str(int(settings.rate_limit_burst)))
