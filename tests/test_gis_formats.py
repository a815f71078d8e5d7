"""The formats GIS tools read as they expect: vector tiles with integer counts, TileJSON
with field types, a GeoPackage that Debian 12's GDAL opens cleanly with layers named as
the OGC collections, and GeoJSON in another CRS without per-geometry `crs` members."""

from __future__ import annotations

import sqlite3
import subprocess

import mapbox_vector_tile
import pytest

from app.services import ogc
from tests.gdal import ensure_ogrinfo

COUNTS = ("idps", "returnees", "migrants", "individuals", "households")


def _decode(client, layer: str, z: int, x: int, y: int, **params) -> list[dict]:
    response = client.get(f"/ogc/tiles/{layer}/{z}/{x}/{y}.pbf", params=params)
    assert response.status_code == 200, response.text
    return mapbox_vector_tile.decode(response.content)[layer]["features"]


@pytest.mark.parametrize(
    ("layer", "params"),
    [
        ("stats-admin1", {"round": "R39"}),
        ("stats-admin2", {"round": "R54"}),
        ("flows", {}),
    ],
)
def test_vector_tiles_carry_counts_as_integers(client, layer, params):
    features = _decode(client, layer, 4, 8, 6, **params) + _decode(client, layer, 4, 9, 6, **params)
    seen = 0
    for feature in features:
        for name in COUNTS:
            value = feature["properties"].get(name)
            if value is not None:
                assert isinstance(value, int) and not isinstance(value, bool), (name, value)
                seen += 1
        if "complete" in feature["properties"]:
            assert isinstance(feature["properties"]["complete"], bool)
    assert seen > 10


def test_derna_mantika_tile_values_are_the_statistics(client):
    features = _decode(client, "stats-admin1", 5, 18, 13, round="R39")
    derna = next(f for f in features if f["properties"]["pcode"] == "LY0101")
    stats = client.get("/api/v1/stats", params={"level": 1, "round": "R39", "pcode": "LY0101"})
    expected = {
        r["population_type"]: r["individuals"]
        for r in stats.json()["data"]
        if r["pcode"] == "LY0101" and r["displacement_reason"] is None
    }
    assert derna["properties"]["idps"] == expected["idp"]
    assert derna["properties"]["returnees"] == expected["returnee"]


@pytest.mark.parametrize("layer", ogc.TILE_LAYERS)
def test_tilejson_fields_give_each_field_type(client, layer):
    body = client.get(f"/ogc/tiles/{layer}/tilejson.json").json()
    fields = body["vector_layers"][0]["fields"]
    assert set(fields) == set(ogc.COLLECTIONS[layer].properties)
    assert set(fields.values()) <= {"Number", "String", "Boolean"}
    for name, kind in fields.items():
        if name in COUNTS or name in ("value", "z", "p_analytic", "p_permutation"):
            assert kind == "Number", name
        elif name == "complete":
            assert kind == "Boolean"
        else:
            assert kind == "String", name


@pytest.fixture(scope="module")
def geopackage(client, tmp_path_factory):
    path = tmp_path_factory.mktemp("gpkg") / "dtm.gpkg"
    response = client.get("/ogc/download.gpkg", params={"round": "R39"})
    assert response.status_code == 200
    path.write_bytes(response.content)
    return path


def test_geopackage_layers_are_named_as_the_ogc_collections(client, geopackage):
    with sqlite3.connect(geopackage) as conn:
        tables = {r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents")}
    collections = {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    assert tables == collections


def test_geopackage_counts_are_integer_columns(geopackage):
    with sqlite3.connect(geopackage) as conn:
        for layer, columns in (
            ("stats-admin1", ("idps", "returnees", "migrants", "feature_id")),
            ("stats-admin2", ("idps", "returnees", "migrants")),
            ("stats-admin3", ("idps", "returnees", "migrants")),
            ("flows", ("individuals", "households")),
        ):
            types = {r[1]: r[2] for r in conn.execute(f"PRAGMA table_info('{layer}')")}
            for column in columns:
                assert types[column] == "INTEGER", (layer, column, types[column])
            assert types.get("complete", "BOOLEAN") == "BOOLEAN"
        total = conn.execute('SELECT sum(idps), typeof(sum(idps)) FROM "stats-admin1"').fetchone()
        assert total == (179_047, "integer")


def test_debian_gdal_opens_the_geopackage_without_a_warning(geopackage):
    ogrinfo = ensure_ogrinfo()
    result = subprocess.run(
        [ogrinfo, "-al", "-so", str(geopackage)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    assert "Layer name: stats-admin1" in result.stdout
    assert "idps: Integer" in result.stdout


@pytest.mark.parametrize("collection", ["mantikas", "baladiyas", "flows", "stats-admin1"])
@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:4326"])
def test_geojson_in_another_crs_has_no_per_geometry_crs(client, collection, crs):
    response = client.get(f"/ogc/collections/{collection}/items", params={"crs": crs, "limit": 5})
    assert response.status_code == 200
    assert response.headers["content-crs"].startswith("<http://www.opengis.net/def/crs/EPSG/")
    features = response.json()["features"]
    assert features
    for feature in features:
        assert feature["geometry"] is None or "crs" not in feature["geometry"], feature
    one = client.get(
        f"/ogc/collections/{collection}/items/{features[0]['id']}", params={"crs": crs}
    )
    assert one.status_code == 200 and "crs" not in (one.json()["geometry"] or {})
