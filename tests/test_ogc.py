"""OGC API - Features and vector tiles, read the way QGIS reads them: with GDAL."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pyogrio
import pytest

COUNTS = {
    "mantikas": 22,
    "baladiyas": 100,
    "baladiyas-approximate": 100,
    "stats-admin1": 22,
    "stats-admin2": 100,
    "muhallas": 663,  # Round 39's communities: 644 points, 19 without coordinates
    "stats-admin3": 663,
    "hotspots": 100,
    "flows": 84,  # the latest round with flows: Storm Daniel's 31 October snapshot
}
ONE_ITEM = {
    "mantikas": 101,
    "baladiyas": 10102,
    "baladiyas-approximate": 10102,
    "stats-admin1": 101,
    "stats-admin2": 10102,
    "muhallas": 1010201,
    "stats-admin3": 1010201,
    "hotspots": 10102,
}


def test_landing_page_links_and_conformance(client):
    landing = client.get("/ogc").json()
    rels = {link["rel"]: link for link in landing["links"]}
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["data"]["href"].endswith("/ogc/collections")
    assert client.get(rels["service-desc"]["href"]).json()["openapi"].startswith("3.0")
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    assert any(c.endswith("features-1/1.0/conf/core") for c in classes)
    assert any(c.endswith("features-2/1.0/conf/crs") for c in classes)


def test_gdal_lists_every_collection(live_server):
    layers = {name for name, _ in pyogrio.list_layers(f"OAPIF:{live_server}/ogc")}
    assert layers == set(COUNTS)


@pytest.mark.parametrize(("collection", "count"), [(c, n) for c, n in COUNTS.items() if n])
def test_gdal_reads_every_feature_following_pages(live_server, collection, count):
    frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer=collection, PAGE_SIZE="7")
    assert len(frame) == count
    assert frame.crs.to_string() == "OGC:CRS84"


def test_stats_layer_carries_round_54_migrants(live_server):
    frame = pyogrio.read_dataframe(
        f"OAPIF:{live_server}/ogc/collections/stats-admin2", PAGE_SIZE="100"
    )
    assert int(frame["migrants"].sum()) == 787_326 and set(frame["round"]) == {"R54"}


def test_approximate_collection_says_so(client):
    description = client.get("/ogc/collections/baladiyas-approximate").json()["description"]
    assert "not an official boundary" in description


def test_paging_numbers_and_links(client):
    page = client.get("/ogc/collections/baladiyas/items", params={"limit": 40}).json()
    assert (page["numberMatched"], page["numberReturned"]) == (100, 40)
    next_link = next(link for link in page["links"] if link["rel"] == "next")
    second = client.get(next_link["href"]).json()
    assert second["features"][0]["id"] > page["features"][-1]["id"]
    assert any(link["rel"] == "prev" for link in second["links"])


def test_crs_is_honoured(client):
    derna = "/ogc/collections/baladiyas/items/10102"
    crs84 = client.get(derna).json()["geometry"]["coordinates"]
    lat_lon = client.get(derna, params={"crs": "EPSG:4326"})
    assert lat_lon.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    assert lat_lon.json()["geometry"]["coordinates"] == [crs84[1], crs84[0]]
    mercator = client.get(derna, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"})
    x, y = mercator.json()["geometry"]["coordinates"]
    assert x == pytest.approx(2_520_000, rel=0.01) and y == pytest.approx(3_862_000, rel=0.01)


def test_bbox_in_either_axis_order(client):
    plain = client.get(
        "/ogc/collections/baladiyas/items", params={"bbox": "22.5,32.7,22.8,32.8"}
    ).json()
    flipped = client.get(
        "/ogc/collections/baladiyas/items",
        params={"bbox": "32.7,22.5,32.8,22.8", "bbox-crs": "EPSG:4326"},
    ).json()
    assert [f["id"] for f in plain["features"]] == [f["id"] for f in flipped["features"]] == [10102]


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "5,5,1,1"},
        {"limit": "0"},
        {"datetime": "2024-09-30/2020-01-01"},
        {"crs": "EPSG:9999"},
        {"datetime": "yesterday"},
        {"datetime": "9999-12-31T23:00:00-05:00"},  # was 500: past year 9999 in UTC
        {"zz": "7"},
        {"round": "R54"},  # mantikas have no rounds
        {"population_type": "idp"},
    ],
)
def test_malformed_parameters_are_400_with_the_reason(client, params):
    response = client.get("/ogc/collections/mantikas/items", params=params)
    assert response.status_code == 400 and next(iter(params)) in response.json()["detail"]


def test_unknown_ids_are_404(client):
    assert client.get("/ogc/collections/nowhere/items").status_code == 404
    assert client.get("/ogc/collections/baladiyas/items/424242").status_code == 404
    assert client.get("/ogc/collections/baladiyas/items/abc").status_code == 404
    unknown_round = client.get("/ogc/collections/stats-admin1/items", params={"round": "R999"})
    assert unknown_round.status_code == 404 and "GET /api/v1/rounds" in unknown_round.text
    assert client.get("/ogc/download.gpkg", params={"round": "R999"}).status_code == 404


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The WebMercatorQuad tile holding a point."""
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


def test_tiles_decode_with_the_expected_layers(client):
    tilejson = client.get("/ogc/tiles/mantikas/tilejson.json").json()
    assert tilejson["tiles"][0].endswith("/ogc/tiles/mantikas/{z}/{x}/{y}.pbf")
    response = client.get("/ogc/tiles/mantikas/5/18/13.pbf")
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(response.content)
    names = {f["properties"]["name_en"] for f in decoded["mantikas"]["features"]}
    assert "Derna" in names
    z, x, y = _tile_of(22.638319, 32.759379, 6)  # Derna's official point
    points = mapbox_vector_tile.decode(client.get(f"/ogc/tiles/baladiyas/{z}/{x}/{y}.pbf").content)
    assert any(f["properties"]["pcode"] == "LY010102" for f in points["baladiyas"]["features"])


def test_hotspot_and_flow_tiles_are_the_layers_items(client):
    z, x, y = _tile_of(22.638319, 32.759379, 6)
    for layer, key in (("hotspots", "class"), ("flows", "individuals")):
        tilejson = client.get(f"/ogc/tiles/{layer}/tilejson.json")
        assert tilejson.status_code == 200 and key in tilejson.json()["vector_layers"][0]["fields"]
        tile = mapbox_vector_tile.decode(client.get(f"/ogc/tiles/{layer}/{z}/{x}/{y}.pbf").content)
        items = client.get(f"/ogc/collections/{layer}/items", params={"limit": 1000}).json()
        by_id = {f["id"]: f["properties"] for f in items["features"]}
        assert tile[layer]["features"]
        for feature in tile[layer]["features"]:
            assert feature["properties"][key] == by_id[feature["id"]][key]
    # flows show one round: Derna's outflow on 31 October, not every snapshot added up
    derna = [f for f in tile["flows"]["features"] if f["properties"]["origin_pcode"] == "LY010102"]
    assert {f["properties"]["round"] for f in derna} == {"storm-daniel-2023-10-31"}


def test_tiles_outside_the_data_are_empty_and_bad_tiles_refused(client):
    for _ in range(2):  # the second answer comes from the cache
        assert client.get("/ogc/tiles/mantikas/5/0/0.pbf").status_code == 204
    assert client.get("/ogc/tiles/mantikas/3/9/0.pbf").status_code == 400
    assert client.get("/ogc/tiles/nothing/3/1/1.pbf").status_code == 404


def test_geopackage_holds_every_layer_with_attribution(client, tmp_path):
    response = client.get("/ogc/download.gpkg", params={"round": "R54"})
    assert response.status_code == 200
    path = tmp_path / "dtm.gpkg"
    path.write_bytes(response.content)
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == set(COUNTS)  # named as the OGC collections
    info = pyogrio.read_info(path, layer="baladiyas-approximate")
    assert info["features"] == 100
    assert "not an official boundary" in info["layer_metadata"]["DESCRIPTION"]
    assert (
        "OCHA COD-AB"
        in pyogrio.read_info(path, layer="mantikas")["dataset_metadata"]["attribution"]
    )
    stats = pyogrio.read_dataframe(path, layer="stats-admin2")
    assert int(stats["migrants"].sum()) == 787_326
    hotspots = pyogrio.read_dataframe(path, layer="hotspots")
    assert len(hotspots) == 100 and set(hotspots["round"]) == {"R54"}
    flows = pyogrio.read_dataframe(path, layer="flows")
    assert set(flows["round"]) == {"storm-daniel-2023-10-31"}  # R54 has none: the latest
    assert int(flows["individuals"].sum()) == 44_862 and set(flows["quality"]) == {"modelled"}
    october = tmp_path / "october.gpkg"
    october.write_bytes(
        client.get("/ogc/download.gpkg", params={"round": "storm-daniel-2023-10"}).content
    )
    assert int(pyogrio.read_dataframe(october, layer="flows")["individuals"].sum()) == 43_421


def test_csv_download_of_a_collection(client):
    response = client.get("/ogc/collections/baladiyas/items", params={"f": "csv", "limit": 200})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:3] == ["id", "pcode", "name_en"] and len(lines) == 101
    assert any("درنة" in line and "POINT(22.638319 32.759379)" in line for line in lines)


def test_stats_collections_select_round_and_population_type(client):
    migrants = client.get(
        "/ogc/collections/stats-admin2/items", params={"round": "R54", "population_type": "migrant"}
    ).json()
    assert migrants["numberMatched"] == 100
    idps = client.get(
        "/ogc/collections/stats-admin2/items", params={"round": "R54", "population_type": "idp"}
    ).json()
    assert idps["numberMatched"] == 0
    storm = client.get(
        "/ogc/collections/stats-admin2/items", params={"round": "storm-daniel-2023-10-31"}
    ).json()
    assert [(f["properties"]["pcode"], f["properties"]["idps"]) for f in storm["features"]] == [
        ("LY010102", 23_500)
    ]


def test_hotspots_layer_is_the_analytics_answer(live_server, client):
    frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc/collections/hotspots", PAGE_SIZE="100")
    api = client.get(
        "/api/v1/hotspots", params={"round": "R54", "population_type": "migrant", "metric": "rate"}
    ).json()["data"]
    z = {u["pcode"]: u["z"] for u in api}
    classes = {u["pcode"]: u["class"] for u in api}
    assert len(frame) == len(api) == 100
    for row in frame.itertuples():
        assert math.isclose(row.z, z[row.pcode], abs_tol=1e-9)
    assert dict(zip(frame["pcode"], frame["class"], strict=True)) == classes
    assert frame.geometry.geom_type.unique().tolist() == ["Point"]


def test_hotspots_layer_refuses_a_round_it_cannot_analyse(client):
    response = client.get("/ogc/collections/hotspots/items", params={"round": "R50"})
    assert response.status_code == 400
    assert "at least 8 baladiyas" in response.json()["detail"]


@pytest.mark.parametrize(("collection", "fid"), ONE_ITEM.items())
def test_one_item_of_every_collection(client, collection, fid):
    response = client.get(f"/ogc/collections/{collection}/items/{fid}")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == fid
    first_flow = client.get("/ogc/collections/flows/items", params={"limit": 1}).json()
    flow_id = first_flow["features"][0]["id"]
    assert client.get(f"/ogc/collections/flows/items/{flow_id}").json()["id"] == flow_id
    refused = client.get("/ogc/collections/hotspots/items/10102", params={"round": "R50"})
    assert refused.status_code == 400


def test_bbox_selects_by_geometry_not_by_envelope(client):
    sea = {"bbox": "19.0,31.0,19.3,31.3"}  # the Gulf of Sirte
    for collection in ("mantikas", "flows"):
        page = client.get(f"/ogc/collections/{collection}/items", params=sea).json()
        assert page["numberMatched"] == 0, collection


def test_flows_layer_shows_one_round_and_filters(client):
    default = client.get("/ogc/collections/flows/items", params={"limit": 200}).json()
    assert {f["properties"]["round"] for f in default["features"]} == {"storm-daniel-2023-10-31"}
    assert sum(f["properties"]["individuals"] for f in default["features"]) == 44_862
    october = client.get(
        "/ogc/collections/flows/items", params={"round": "storm-daniel-2023-10", "limit": 200}
    ).json()
    assert sum(f["properties"]["individuals"] for f in october["features"]) == 43_421
    derna = client.get(
        "/ogc/collections/flows/items", params={"pcode": "LY010102", "limit": 200}
    ).json()["features"]
    assert derna and all(
        "LY010102" in (f["properties"]["origin_pcode"], f["properties"]["destination_pcode"])
        for f in derna
    )
    assert len(derna) < len(default["features"])
    before = client.get("/ogc/collections/flows/items", params={"datetime": "2000-01-01"}).json()
    assert before["numberMatched"] == 0


def test_limit_above_the_maximum_serves_the_maximum(client):
    page = client.get("/ogc/collections/baladiyas/items", params={"limit": 20000}).json()
    assert page["numberReturned"] == 100


def test_stats_default_round_has_the_population_type(client):
    idps = client.get(
        "/ogc/collections/stats-admin1/items", params={"population_type": "idp"}
    ).json()
    assert idps["numberMatched"] > 0
    assert all(f["properties"]["idps"] is not None for f in idps["features"])


def test_repeated_parameters_are_not_mixed_up_by_the_cache(client):
    url = "/ogc/collections/mantikas/items"
    first = client.get(url + "?limit=3&limit=1&f=json").json()
    second = client.get(url + "?limit=1&limit=3&f=json").json()
    assert (first["numberReturned"], second["numberReturned"]) == (1, 3)
    encoded = client.get(url + "?l%69mit=2&limit=1&f=json").json()  # l%69mit is limit
    assert encoded["numberReturned"] == 1


def test_cached_answers_keep_the_host_they_were_asked_of(client):
    for host in ("dtm-geo.example.org", "127.0.0.1:8000", "dtm-geo.example.org"):
        links = client.get("/ogc/collections", headers={"Host": host}).json()["links"]
        assert links[0]["href"].startswith(f"http://{host}/ogc"), (host, links[0])
