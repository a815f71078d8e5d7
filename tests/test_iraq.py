"""Iraq, the second operation, through every read and write: the issue's done-when
figures, operation selection and its refusals, analytics on real polygons, the OGC and
DTM-compatible surfaces, and keys limited to one operation."""

from __future__ import annotations

import pyogrio
import pytest

from app.auth import create_key
from app.db import session_scope

pytestmark = pytest.mark.usefixtures("scratch_rounds")


def stats(client, **params):
    response = client.get("/api/v1/stats", params={"limit": 10_000, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_round_132_by_district(client):
    body = stats(client, operation="IRQ", level=2, round=132, population_type="idp")
    rows = body["data"]
    # 99 district records: the DTM API has none for Al-Chibayish (IQG17Q01) after round 126
    assert len(rows) == 99
    assert sum(r["individuals"] for r in rows) == 1_098_913
    assert {r["round_code"] for r in rows} == {"IRQ-R132"}
    assert body["meta"]["level_name"] == "district"
    national = stats(client, operation="IRQ", level=0, round=132, population_type="idp")
    assert [r["individuals"] for r in national["data"]] == [1_098_913]
    assert national["data"][0]["complete"] is True


def test_falluja_in_round_1_by_slug_and_pcode(client):
    rows = stats(client, operation="iraq", pcode="IQG01Q01", round="IRQ-R1")["data"]
    assert [(r["name_en"], r["name_ar"], r["individuals"]) for r in rows] == [
        ("Al-Falluja", "الفلوجة", 96_978)
    ]


def test_district_time_series_spans_ten_years(client):
    response = client.get(
        "/api/v1/stats/timeseries",
        params={"operation": "IRQ", "pcode": "IQG01Q01", "population_type": "idp"},
    )
    (series,) = response.json()["data"]
    points = series["points"]
    assert len(points) == 80 and len({p["round_number"] for p in points}) == 79
    assert (points[0]["reporting_date"], points[-1]["reporting_date"]) == (
        "2014-04-01",
        "2024-04-30",
    )
    assert points[0]["individuals"] == 96_978 and points[-1]["individuals"] == 17_124


def test_master_list_locations_roll_up_to_the_national_record(client):
    national = stats(client, operation="IRQ", level=0, round=123)["data"]
    assert [r["individuals"] for r in national] == [1_189_581]
    assert national[0]["stored_levels"] == [4]
    locations = stats(client, operation="IRQ", level=4, round=123)["data"]
    assert len(locations) == 2_842
    assert sum(r["households"] for r in locations) == 204_344


def test_change_and_top_movers_between_two_rounds(client):
    response = client.get(
        "/api/v1/stats/change",
        params={
            "operation": "IRQ",
            "level": 2,
            "from_round": 100,
            "to_round": 132,
            "population_type": "idp",
            "limit": 200,
        },
    )
    rows = {r["pcode"]: r for r in response.json()["data"]}
    assert rows["IQG01Q01"]["before"] == 51_348 and rows["IQG01Q01"]["after"] == 17_124


def test_hotspots_on_district_polygons_with_queen_contiguity(client):
    response = client.get(
        "/api/v1/hotspots",
        params={
            "operation": "IRQ",
            "level": 2,
            "weights": "queen",
            "round": 132,
            "population_type": "idp",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["weights"]["type"] == "queen" and body["meta"]["weights"]["n"] == 99
    assert set(body["meta"]["no_data"]) == {"IQG03Q03", "IQG17Q01"}
    assert {r["class"] for r in body["data"]} >= {"not significant"}


def test_no_per_capita_rate_without_a_denominator(client):
    rows = stats(client, operation="IRQ", level=2, round=132)["data"]
    assert {r["per_1000"] for r in rows} == {None}
    response = client.get(
        "/api/v1/hotspots",
        params={
            "operation": "IRQ",
            "level": 2,
            "metric": "rate",
            "population_type": "idp",
            "round": 132,
        },
    )
    assert response.status_code == 422
    assert "no population denominator for Iraq" in response.json()["detail"]
    body = stats(client, operation="IRQ", level=0, round=132)
    assert "No population denominator for Iraq is in DTM Geo's data" in body["meta"]["notes"]
    libya = stats(client, level=0, round="R54")["meta"]["notes"]
    assert libya.endswith("per_1000 is per 1,000 residents (see denominators).")


def test_unknown_operation_is_a_404_listing_the_operations(client):
    response = client.get("/api/v1/stats", params={"operation": "Atlantis"})
    assert response.status_code == 404
    assert "LBY (libya, Libya Crisis), IRQ (iraq, Iraq conflict)" in response.json()["detail"]


@pytest.mark.parametrize(
    ("operation", "pcode", "holder"),
    [
        ("IRQ", "LY010102", "Libya (LBY)"),
        ("LBY", "IQG01Q01", "Iraq (IRQ)"),
        (None, "IQG01", "Iraq"),
    ],
)
def test_a_pcode_of_another_operation_names_its_operation(client, operation, pcode, holder):
    params = {"pcode": pcode, **({"operation": operation} if operation else {})}
    response = client.get("/api/v1/stats", params=params)
    assert response.status_code == 404
    assert f"is an area of the operation {holder}" in response.json()["detail"]


def test_libya_stays_the_default(client):
    rounds = client.get("/api/v1/rounds", params={"limit": 500}).json()["data"]
    assert rounds and not any(r["code"].startswith("IRQ-") for r in rounds)
    rows = stats(client, level=1)["data"]
    assert rows and {r["pcode"][:2] for r in rows} == {"LY"}
    iraq = client.get("/api/v1/rounds", params={"operation": "IRQ", "limit": 500}).json()["data"]
    assert len(iraq) == 80 and {r["code"][:5] for r in iraq} == {"IRQ-R"}


def test_dtm_spellings_find_cod_areas(client):
    for name in ("Dahuk", "Duhok", "دهوك"):
        rows = stats(client, operation="IRQ", name=name, round=132)["data"]
        assert [r["pcode"] for r in rows] == ["IQG09"], name
    # DTM's spellings of districts (the Master List's) are names of the COD districts...
    sumel = stats(client, operation="IRQ", level=2, name="Sumel", round=123)["data"]
    assert [(r["pcode"], r["name_en"]) for r in sumel] == [("IQG09Q03", "Sumail")]
    # ...but a DTM district COD holds within a larger one is not that larger one's name
    tarmia = client.get("/api/v1/areas", params={"operation": "IRQ", "level": 2, "name": "Tarmia"})
    assert tarmia.status_code == 404


def test_ogc_collections_of_iraq(client, live_server):
    ids = [c["id"] for c in client.get("/ogc/collections?operation=IRQ").json()["collections"]]
    assert "irq-districts" in ids and not any(i.startswith("baladiya") for i in ids)
    # GDAL (and QGIS) pointed at the landing page of Iraq list Iraq's collections
    layers = [name for name, _ in pyogrio.list_layers(f"OAPIF:{live_server}/ogc?operation=iraq")]
    assert layers == ids
    landing = client.get("/ogc", params={"operation": "IRQ"}).json()
    assert landing["title"] == "DTM Geo: Iraq displacement data"
    frame = pyogrio.read_dataframe(
        f"OAPIF:{live_server}/ogc/collections/irq-districts", PAGE_SIZE="40"
    )
    assert len(frame) == 101
    assert set(frame.geometry.geom_type) == {"MultiPolygon"}
    falluja = frame[frame["pcode"] == "IQG01Q01"].iloc[0]
    assert falluja["name_ar"] == "الفلوجة"
    figures = pyogrio.read_dataframe(
        f"OAPIF:{live_server}/ogc/collections/irq-stats-admin2", PAGE_SIZE="100"
    )
    assert int(figures["idps"].sum()) == 1_098_913


def test_iraq_vector_tiles(client):
    tile = client.get("/ogc/tiles/irq-stats-admin2/6/40/25.pbf", params={"round": "IRQ-R132"})
    assert tile.status_code == 200 and b"irq-stats-admin2" in tile.content
    tilejson = client.get("/ogc/tiles/irq-districts/tilejson.json").json()
    assert tilejson["vector_layers"][0]["id"] == "irq-districts"


def test_dtm_compatible_records_use_the_api_pcodes(client):
    body = client.get(
        "/v2/IdpAdmin2Data",
        params={"Admin0Pcode": "IRQ", "Admin2Pcode": "IRQ-G01Q01", "ToRoundNumber": 1},
    ).json()
    assert [
        (r["admin1Pcode"], r["admin2Pcode"], r["operation"], r["numPresentIdpInd"])
        for r in body["result"]
    ] == [("IRQ-G01", "IRQ-G01Q01", "Iraq conflict", 96_978)]
    listed = client.get("/v3/displacement/operation-list").json()["result"]
    assert {(o["operation"], o["admin0Pcode"]) for o in listed} == {
        ("Libya Crisis", "LBY"),
        ("Iraq conflict", "IRQ"),
    }
    mixed = client.get(
        "/v3/displacement/admin0", params={"Operation": "Iraq conflict", "CountryName": "Libya"}
    ).json()
    assert mixed["isSuccess"] is True and mixed["result"] == []


@pytest.fixture(scope="module")
def iraq_key(db_url, first_load):
    with session_scope(db_url) as session:
        return create_key(session, "test-iraq-team", ["ingest"], operation="IRQ")


@pytest.fixture(scope="module")
def any_key(db_url, first_load):
    with session_scope(db_url) as session:
        return create_key(session, "test-any-operation", ["ingest"])


def _round(operation: str) -> dict:
    return {
        "operation": operation,
        "kind": "mobility_tracking",
        "title": "test",
        "reporting_date": "2025-01-31",
        "source": "IOM DTM (test)",
    }


def test_a_key_of_iraq_cannot_write_libya(client, iraq_key):
    headers = {"X-API-Key": iraq_key}
    refused = client.put("/api/v1/rounds/T-IRQ-LBY", json=_round("LBY"), headers=headers)
    assert refused.status_code == 403
    assert "IRQ" in refused.json()["detail"]
    made = client.put("/api/v1/rounds/T-IRQ-1", json=_round("IRQ"), headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["data"]["operation"] == "IRQ"


def test_rows_of_one_operation_posted_to_another_are_refused(client, engine, any_key):
    headers = {"X-API-Key": any_key}
    assert client.put(
        "/api/v1/rounds/T-LBY-X", json=_round("LBY"), headers=headers
    ).status_code in (
        200,
        201,
    )
    rows = [
        {"pcode": "LY010102", "population_type": "idp", "individuals": 10},
        {"pcode": "IQG01Q01", "population_type": "idp", "individuals": 20},
    ]
    response = client.post(
        "/api/v1/rounds/T-LBY-X/observations",
        json={"source": "test", "rows": rows},
        headers=headers,
    )
    assert response.status_code == 422
    (problem,) = [p for p in response.json()["errors"] if p.get("value") == "IQG01Q01"]
    assert problem["message"].startswith("is an area of Iraq (IRQ), not of Libya (LBY)")
    with engine.connect() as conn:
        from sqlalchemy import text as sql

        n = conn.execute(
            sql(
                "SELECT count(*) FROM observations o JOIN rounds r ON r.id = o.round_id "
                "WHERE r.code = 'T-LBY-X'"
            )
        ).scalar()
    assert n == 0


def test_static_map_of_iraq_districts(client):
    response = client.get(
        "/api/v1/maps/IRQ-R132.svg", params={"level": 2, "population_type": "idp"}
    )
    assert response.status_code == 200, response.text
    svg = response.text
    assert "IDPs, People, R132: by district" in svg
    assert svg.count('<path data-pcode="IQG') == 101  # 99 with figures, 2 as no data
    assert "Boundaries: OCHA COD-AB Iraq (CC BY-IGO)" in svg
    arabic = client.get(
        "/api/v1/maps/IRQ-R132.svg", params={"level": 2, "population_type": "idp", "lang": "ar"}
    ).text
    assert "حسب القضاء" in arabic
    locations = client.get("/api/v1/maps/IRQ-R123.svg", params={"level": 4}).text
    assert locations.count('<circle data-pcode="IQL') == 2_842
    refused = client.get("/api/v1/maps/R39.svg", params={"level": 4})
    assert refused.status_code == 422
    assert "Libya's levels: 1 (mantika), 2 (baladiya), 3 (muhalla)" in refused.text


def test_geopackage_of_iraq(client, tmp_path):
    response = client.get("/ogc/download.gpkg", params={"operation": "IRQ"})
    assert response.status_code == 200
    assert "dtm-geo-iraq" in response.headers["content-disposition"]
    path = tmp_path / "iraq.gpkg"
    path.write_bytes(response.content)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"irq-districts", "irq-subdistricts", "irq-stats-admin2"} <= layers
    assert not any(name.startswith("baladiya") for name in layers)
    assert len(pyogrio.read_dataframe(path, layer="irq-districts")) == 101
