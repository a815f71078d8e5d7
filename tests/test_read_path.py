"""The one read path: services fetch, the web layer writes, errors are problems."""

from __future__ import annotations

import ast
import csv
import io
import re
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.api.ingest import XLSX
from app.errors import NotFound
from app.geo import encoded
from app.memo import Memo
from app.services import rounds

APP = Path(__file__).resolve().parent.parent / "app"
PROBLEM = "application/problem+json"


# --- one error model ----------------------------------------------------------------------


def test_a_bad_parameter_is_a_problem_naming_it(client):
    response = client.get("/api/v1/stats", params={"level": 9})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "about:blank" and body["status"] == 422
    assert body["title"] == "Unprocessable Entity"
    assert [e["parameter"] for e in body["errors"]] == ["level"]


def test_not_found_is_a_problem(client):
    response = client.get("/ogc/collections/nowhere")
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert "GET /ogc/collections" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/ogc/tiles/mantikas/99/0/0.pbf", "z"),  # was 422 (path validation)
        ("/ogc/tiles/mantikas/5/99/0.pbf", "x"),
        ("/ogc/tiles/mantikas/5/0/99.pbf", "y"),
        ("/ogc/collections/mantikas/items?limit=many", "limit"),
        ("/ogc/collections/mantikas/items?bbox=1,2,3", "bbox"),
        ("/ogc/collections/mantikas/items?crs=EPSG:1", "crs"),
        ("/ogc/collections/stats-admin1/items?population_type=cats", "population_type"),
    ],
)
def test_ogc_answers_every_bad_parameter_with_400(client, path, parameter):
    response = client.get(path)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["detail"].startswith(parameter)
    assert body["errors"][0]["parameter"] == parameter


# --- one writer per format ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stats?level=2&round=R54&format=csv",
        "/ogc/collections/baladiyas/items?f=csv",
        "/api/v1/flows?round=storm-daniel-2023-10-31&format=csv",
    ],
)
def test_every_csv_download_has_one_dialect(client, path):
    raw = client.get(path).content
    assert raw.startswith("\ufeff".encode())  # the byte-order mark
    text_ = raw.decode("utf-8-sig")
    assert "\r\n" in text_ and "\n" not in text_.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text_)))
    assert len({len(r) for r in rows}) == 1  # every row as wide as the header


def test_encoded_geometries_are_what_postgis_writes(engine):
    with Session(engine) as session:
        shapes = encoded.geometries(session)
        mercator = encoded.geometries(session, srid=3857)
        expected = session.execute(
            text(
                "SELECT ST_AsGeoJSON(ST_ForcePolygonCCW(geom), 6), "
                # no per-geometry crs member: the Content-Crs header names the CRS
                "ST_AsGeoJSON(ST_ForcePolygonCCW(ST_Transform(geom, 3857)), 2, 0) "
                "FROM admin_areas WHERE pcode = 'LY0101'"
            )
        ).one()
    assert orjson.loads(shapes["LY0101"]) == orjson.loads(expected[0])
    assert orjson.loads(mercator["LY0101"]) == orjson.loads(expected[1])
    # muhallas without coordinates have none; Iraq: 1 + 18 + 101 + 294 + 2,842 locations
    assert len(shapes) == 1 + 22 + 100 + 644 + 3256


def test_stats_map_geometry_is_the_encoded_one(client, engine):
    body = client.get(
        "/api/v1/stats", params={"level": 1, "round": "R54", "format": "geojson"}
    ).json()
    with Session(engine) as session:
        shapes = encoded.geometries(session)
    derna = next(f for f in body["features"] if f["id"] == "LY0101")
    assert derna["geometry"] == orjson.loads(shapes["LY0101"])
    assert body["total"] == 22 and body["round"] == "R54"


def test_a_page_of_the_whole_layer_equals_the_same_page_by_query(client):
    """Pages of a whole layer are cut from memory; a selection goes through SQL. A filter
    that keeps every feature must give the same page."""
    page = {"limit": 7, "offset": 11}
    whole = client.get("/ogc/collections/baladiyas/items", params=page).json()
    queried = client.get(
        "/ogc/collections/baladiyas/items", params={**page, "filter": "pcode IS NOT NULL"}
    ).json()
    assert whole["features"] == queried["features"]
    assert whole["numberMatched"] == queried["numberMatched"] == 100
    assert [f["id"] for f in whole["features"]] == sorted(f["id"] for f in whole["features"])


# --- one round service --------------------------------------------------------------------


def test_round_catalogue_answers_every_look_up(engine):
    with Session(engine) as session:
        known = rounds.catalogue(session, "LBY")
        r54 = session.execute(text("SELECT id FROM rounds WHERE code = 'R54'")).scalar_one()
        latest_flows = session.execute(
            text(
                "SELECT r.code FROM rounds r WHERE EXISTS (SELECT 1 FROM flows f WHERE "
                "f.round_id = r.id) ORDER BY COALESCE(r.reporting_date, r.collection_end, "
                "r.published_on) DESC, r.code DESC LIMIT 1"
            )
        ).scalar_one()
    assert [r.id for r in known.resolve("54")] == [r54]
    assert [r.id for r in known.resolve("r54")] == [r54]
    with pytest.raises(NotFound):
        known.resolve("R999")
    assert known.latest("migrant", 2).code == "R54"
    assert known.latest_with_flows().code == latest_flows
    assert known.latest("idp", 2).whole("idp", 2)


def test_memo_follows_the_data_version(engine):
    memo, calls = Memo(4), []

    def compute():
        calls.append(1)
        return len(calls)

    with Session(engine) as session:
        assert memo.get(session, "k", compute) == 1
        assert memo.get(session, "k", compute) == 1  # remembered
    with Session(engine) as session:
        session.execute(text("UPDATE data_version SET version = version + 1"))
        assert memo.get(session, "k", compute) == 2  # a new version misses
        session.rollback()


# --- the shape: who imports whom ----------------------------------------------------------


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("package", ["services", "geo", "loaders", "ingest", "models"])
def test_no_module_below_the_web_layer_imports_the_web_framework(package):
    for path in (APP / package).glob("*.py"):
        bad = {
            m
            for m in _imports(path)
            if m.split(".")[0] in ("fastapi", "starlette") or m.startswith("app.api")
        }
        assert not bad, f"{path.name} imports {bad}"


def test_no_router_runs_sql():
    for path in (APP / "api").glob("*.py"):
        source = path.read_text()
        assert "text(" not in source.replace("_text(", ""), path.name
        assert "session.execute" not in source, path.name


# --- the response cache -------------------------------------------------------------------


def test_response_cache_counts_gzipped_copies_and_stays_within_its_bound():
    import os

    from app.api.caching import Entry, ResponseCache
    from app.api.rendered import Rendered

    limit = 1_000_000
    cache = ResponseCache(limit)
    for i in range(200):
        body = os.urandom(20_000)  # incompressible: the gzipped copy is as large again
        cache.put((1, f"/x?limit={i}"), Entry(Rendered(body, "application/json"), "e", "d"))
        assert cache.bytes <= limit
    kept = [cache.get((1, f"/x?limit={i}")) for i in range(200)]
    held = sum(len(e.rendered.body) + len(e.rendered.gzipped()) for e in kept if e)
    assert 0 < held <= limit
    assert kept[-1] is not None and kept[0] is None  # least recently used went first


# --- response models ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/api/v1/stats?level=2&round=R54", "Stats"),
        ("/api/v1/stats/timeseries?level=0", "Timeseries"),
        ("/api/v1/stats/change?level=1&from_round=R50&to_round=R54", "Change"),
        ("/api/v1/nationalities?level=1&round=R54", "Nationalities"),
        ("/api/v1/rounds", "Rounds"),
        ("/api/v1/rounds/R54", "OneRound"),
        ("/api/v1/areas?level=2", "Areas"),
        ("/api/v1/areas/LY010102", "OneArea"),
        ("/api/v1/flows?round=storm-daniel-2023-10-31", "Flows"),
        ("/api/v1/flows/areas?round=storm-daniel-2023-10-31&level=1", "FlowBalances"),
        ("/api/v1/hotspots?round=R54&population_type=migrant&metric=rate", "Hotspots"),
        ("/api/v1/events/storm-daniel-2023", "Event"),
        ("/api/v1/stats?level=1&round=R54&format=geojson", "FeatureCollection"),
    ],
)
def test_answers_fit_their_documented_models(client, path, model):
    from app.api import schemas

    response = client.get(path)
    assert response.status_code == 200, response.text
    getattr(schemas, model).model_validate(response.json())


def test_openapi_documents_answers_and_problems(client):
    spec = client.get("/openapi.json").json()
    stats = spec["paths"]["/api/v1/stats"]["get"]["responses"]
    assert stats["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Stats")
    assert {"text/csv", "application/geo+json"} <= set(stats["200"]["content"])
    assert "application/problem+json" in stats["422"]["content"]
    assert "HTTPValidationError" not in spec.get("components", {}).get("schemas", {})
    items = spec["paths"]["/ogc/collections/{collection_id}/items"]["get"]
    documented = {p["name"] for p in items["parameters"]}
    assert {"bbox", "bbox-crs", "filter", "filter-lang", "limit", "datetime"} <= documented
    assert "400" in items["responses"] and "422" not in items["responses"]


def test_openapi_states_what_parameters_and_bodies_take(client):
    """What one parameter or body can state is in the schema (schemathesis generates from
    it, and a schema-valid request must be accepted)."""
    spec = client.get("/openapi.json").json()

    def schema(path, name):
        found = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name]
        return found[0]["schema"] if found else None

    types = schema("/api/v1/stats", "population_type")["items"]["pattern"]
    assert re.fullmatch(types, "idp,migrant") and not re.fullmatch(types, "idps")
    reason = schema("/api/v1/stats", "reason")["pattern"]
    assert re.fullmatch(reason, "conflict") and not re.fullmatch(reason, "boredom")
    assert schema("/api/v1/stats", "date_from")["format"] == "date"
    assert schema("/api/v1/nationalities", "reason") is None  # refused there: not offered
    assert client.get("/api/v1/nationalities?reason=conflict").status_code == 422
    name = schema("/api/v1/areas", "name")["anyOf"][0]["pattern"]
    assert re.fullmatch(name, "Darnah") and not re.fullmatch(name, "Dar\x00nah")
    crs = schema("/ogc/collections/{collection_id}/items", "crs")["pattern"]
    assert re.fullmatch(crs, "EPSG:3857") and not re.fullmatch(crs, "EPSG:9999")
    rows = spec["paths"]["/api/v1/rounds/{code}/{dataset}"]["post"]["requestBody"]
    files = spec["paths"]["/api/v1/rounds/{code}/files"]["post"]["requestBody"]
    assert rows["required"] and "rows" in rows["content"]["application/json"]["schema"]["required"]
    assert files["required"] and {"text/csv", XLSX} <= set(files["content"])


def _outage(app) -> None:
    """Point the app at a port where no database listens (a real refused connection)."""
    import socket

    from sqlalchemy.engine import make_url

    from app.db import get_sessionmaker

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = make_url(app.state.settings.effective_database_url).set(port=port)
    dead = get_sessionmaker(url.render_as_string(hide_password=False))
    app.state.sessionmaker = dead
    app.state.version_clock._sessions = dead


@pytest.mark.parametrize("stale_for", [300, 0])
def test_cached_answers_are_served_stale_during_an_outage(db_url, first_load, stale_for):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url=db_url, data_version_ttl=0, stale_if_error=stale_for))
    with TestClient(app) as client:
        path = "/api/v1/stats?level=1&round=R54"
        fresh = client.get(path)
        assert fresh.status_code == 200 and "warning" not in fresh.headers
        _outage(app)
        again = client.get(path)
        if stale_for:
            assert again.status_code == 200 and again.content == fresh.content
            assert again.headers["warning"] == '110 - "Response is Stale"'
            assert int(again.headers["age"]) >= 0
        else:
            assert again.status_code == 503
        uncached = client.get("/api/v1/stats?level=2&round=R54")
        assert uncached.status_code == 503
        assert uncached.headers["content-type"] == PROBLEM


def test_browsers_get_html_at_its_own_url_and_json_clients_keep_json(client):
    asked = client.get("/ogc/collections", headers={"Accept": "text/html"}, follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"] == "/ogc/collections?f=html"
    page = client.get("/ogc/collections?f=html")
    assert page.headers["content-type"].startswith("text/html") and "mantikas" in page.text
    plain = client.get("/ogc/collections")  # after the HTML was cached: still JSON
    assert plain.headers["content-type"] == "application/json"
    assert {c["id"] for c in plain.json()["collections"]} >= {"mantikas", "baladiyas"}


def test_no_answer_is_parsed_back():
    readers_of_input = {"ingest.py", "cql2.py"}  # they parse request bodies and filters
    for package in ("api", "services", "geo", "web"):
        for path in (APP / package).glob("*.py"):
            if path.name in readers_of_input:
                continue
            source = path.read_text()
            assert "json.loads(" not in source and "to_json(" not in source, path.name


def test_a_wrong_method_is_405_listing_every_allowed_one(client):
    response = client.request("OPTIONS", "/api/v1/rounds/R54")
    assert response.status_code == 405
    assert {"GET", "PUT", "DELETE"} <= set(response.headers["allow"].split(", "))
    history = client.post("/api/v1/rounds/R54/history")  # not a dataset: no key asked
    assert history.status_code == 405 and "GET" in history.headers["allow"]


def test_openapi_has_no_inline_definitions(client):
    """Every reference points into the components (ReDoc cannot follow `#/$defs/...`)."""
    text_ = client.get("/openapi.json").text
    assert '"$defs"' not in text_ and "#/$defs/" not in text_
