"""The HTTP surface against the loaded test database."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape

from app.main import create_app
from app.settings import Settings


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_each_check(client):
    body = client.get("/readyz").json()
    assert body["ready"] is True
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"]
    # Libya 1 + 22 + 100 + 663 muhallas; Iraq 1 + 18 + 101 + 294 + 2,842 locations
    assert body["checks"]["data"]["admin_areas"] == 786 + 3256


def test_readyz_is_503_on_an_empty_schema(scratch_url):
    from app import db

    db.migrate(scratch_url)
    with TestClient(create_app(Settings(database_url=scratch_url))) as empty:
        response = empty.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["data"]["ok"] is False


@pytest.mark.parametrize(("level", "count"), [(0, 1), (1, 22), (2, 100)])
def test_areas_json_by_level(client, level, count):
    body = client.get("/api/v1/areas", params={"level": level}).json()
    assert body["meta"]["count"] == len(body["data"]) == count
    pcodes = [a["pcode"] for a in body["data"]]
    assert pcodes == sorted(pcodes)
    assert "OCHA COD-AB" in body["meta"]["attribution"][0]


def test_baladiya_row_carries_both_names_and_hierarchy(client):
    derna = client.get("/api/v1/areas/LY010102").json()["data"]
    assert (derna["name_en"], derna["name_ar"]) == ("Derna", "درنة")
    assert (derna["parent_pcode"], derna["region_pcode"], derna["ocha_level"]) == (
        "LY0101",
        "LY01",
        3,
    )
    assert {"Darnah", "درنة"} <= {n["name"] for n in derna["names"]}
    assert derna["population"]["population"] == 149_498
    assert derna["population"]["year"] == 2021


def test_geojson_official_points(client):
    response = client.get("/api/v1/areas", params={"level": 2, "format": "geojson"})
    assert response.headers["content-type"].startswith("application/geo+json")
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 100
    kinds = {f["properties"]["geometry_kind"] for f in collection["features"]}
    assert kinds == {"official_point"}
    assert {f["geometry"]["type"] for f in collection["features"]} == {"Point"}
    assert collection["note"] is None


def test_geojson_approximate_polygons_are_flagged_and_rfc7946(client):
    collection = client.get(
        "/api/v1/areas", params={"level": 2, "format": "geojson", "geometry": "approximate"}
    ).json()
    assert "not an official boundary" in collection["note"]
    props = [f["properties"] for f in collection["features"]]
    assert {p["geometry_kind"] for p in props} == {"approximate_polygon"}
    assert {p["geometry_quality"] for p in props} == {"approximate"}
    for feature in collection["features"]:
        geom = shape(feature["geometry"])
        assert geom.is_valid
        for polygon in getattr(geom, "geoms", [geom]):
            assert polygon.exterior.is_ccw  # RFC 7946: exterior rings counter-clockwise


def test_mantika_geojson_are_official_polygons(client):
    collection = client.get("/api/v1/areas", params={"level": 1, "format": "geojson"}).json()
    assert len(collection["features"]) == 22
    assert {f["properties"]["geometry_kind"] for f in collection["features"]} == {
        "official_polygon"
    }


@pytest.mark.parametrize("name", ["Derna", "DERNA", "Darnah", "درنة", "درنه", "دَرْنَة"])
def test_names_in_english_or_arabic_find_derna(client, name):
    body = client.get("/api/v1/areas", params={"level": 2, "name": name}).json()
    assert [a["pcode"] for a in body["data"]] == ["LY010102"]


def test_parent_filter(client):
    body = client.get("/api/v1/areas", params={"level": 2, "parent": "LY0101"}).json()
    assert [a["pcode"] for a in body["data"]] == [f"LY01010{i}" for i in range(1, 6)]


def test_unknown_name_is_404_with_suggestions_and_how_to_list(client):
    response = client.get("/api/v1/areas", params={"level": 2, "name": "Tripolis"})
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "Tripoli (LY021104)" in detail and "GET /api/v1/areas?level=2" in detail


def test_unknown_pcode_is_404_saying_how_to_list(client):
    response = client.get("/api/v1/areas/LY019999")
    assert response.status_code == 404
    assert "GET /api/v1/areas" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"level": 7}, "level"),
        ({"level": "two"}, "level"),
        ({"format": "kml"}, "format"),
        ({"geometry": "exact"}, "geometry"),
        ({"parent": "Derna"}, "parent"),
    ],
)
def test_malformed_parameters_are_422_naming_the_parameter(client, params, parameter):
    response = client.get("/api/v1/areas", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["parameter"] == parameter
    assert parameter in body["detail"]


def test_malformed_pcode_in_path_is_422(client):
    response = client.get("/api/v1/areas/not-a-pcode")
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "pcode"


def test_rounds_list_and_filters(client):
    rounds = client.get("/api/v1/rounds").json()["data"]
    codes = [r["code"] for r in rounds]
    assert {"R3", "R50", "R54", "storm-daniel-2023-10-31"} <= set(codes)
    r54 = next(r for r in rounds if r["code"] == "R54")
    assert r54["observations"] == 101 and r54["population_types"] == ["migrant"]
    storm = client.get("/api/v1/rounds", params={"event": "storm-daniel-2023"}).json()["data"]
    assert storm and {r["kind"] for r in storm} == {"flash_update"}
    assert client.get("/api/v1/rounds/R999").status_code == 404
    assert client.get("/api/v1/rounds", params={"kind": "census"}).status_code == 422


def test_openapi_documents_every_parameter(client):
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for op in methods.values():
            for param in op.get("parameters", []):
                assert param.get("description"), f"{path} {param['name']}"
                examples = (
                    param.get("example")
                    or param.get("examples")
                    or param.get("schema", {}).get("examples")
                )
                assert examples, f"{path} {param['name']} has no example"
    assert client.get("/docs").status_code == 200


def test_a_500_never_shows_internals(db_url):
    app = create_app(Settings(database_url=db_url))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret connection string postgresql://user:pw@host")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "internal server error" and "incident" in body
    assert "secret" not in json.dumps(body)


def test_database_down_is_503_not_500():
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:9/none"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/api/v1/areas")
    assert response.status_code == 503
    assert "127.0.0.1" not in response.text


def test_cors_is_configurable_and_covers_cached_answers(db_url):
    settings = Settings(database_url=db_url, cors_origins=["https://maps.example.org"])
    with TestClient(create_app(settings)) as test_client:
        headers = {"Origin": "https://maps.example.org"}
        for _ in range(2):  # the second answer comes from the response cache
            response = test_client.get("/api/v1/rounds", headers=headers)
            assert response.headers["access-control-allow-origin"] == "https://maps.example.org"
        other = test_client.get("/api/v1/rounds", headers={"Origin": "https://elsewhere.org"})
        assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(Settings(database_url=db_url))) as closed:
        response = closed.get("/api/v1/rounds", headers={"Origin": "https://maps.example.org"})
        assert "access-control-allow-origin" not in response.headers
