"""Each domain rule, pinned once: what lies within an area, the latest round, one total per
area and type; and what follows from them (partial rounds, round=latest, name look-ups)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.auth import create_key
from app.db import session_scope

pytestmark = pytest.mark.usefixtures("scratch_rounds")

DERNA_MANTIKA, DERNA = "LY0101", "LY010102"
PARTIAL = "T-FLASH3"  # three baladiyas of the east, reported after every other round
PARTIAL_ROWS = [
    {"pcode": "LY010102", "population_type": "idp", "individuals": 1200, "households": 240},
    {"pcode": "LY010101", "population_type": "idp", "individuals": 300},
    {"pcode": "LY010304", "population_type": "idp", "individuals": 50},
]


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


@pytest.fixture(scope="module")
def key(db_url, first_load):
    with session_scope(db_url) as session:
        return create_key(session, "test-domain-rules", ["ingest"])


@pytest.fixture(scope="module")
def partial_round(client, key):
    """A round holding figures for three baladiyas only, dated after every other round."""
    body = {
        "kind": "mobility_tracking",
        "number": 99,
        "title": "test: three baladiyas",
        "collection_start": "2030-01-01",
        "collection_end": "2030-01-31",
        "reporting_date": "2030-01-31",
        "source": "IOM DTM Libya (test)",
    }
    headers = {"X-API-Key": key}
    assert client.put(f"/api/v1/rounds/{PARTIAL}", json=body, headers=headers).status_code in (
        200,
        201,
    )
    posted = client.post(
        f"/api/v1/rounds/{PARTIAL}/observations",
        json={"source": "IOM DTM Libya (test)", "rows": PARTIAL_ROWS},
        headers=headers,
    )
    assert posted.status_code in (200, 201), posted.text
    return PARTIAL


# --- what lies within an area ------------------------------------------------------------


def test_ancestry_runs_from_the_country_down_to_the_area(engine):
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT pcode, ancestry FROM admin_areas")).all())
    assert rows["LBY"] == ["LBY"]
    assert rows[DERNA] == ["LBY", DERNA_MANTIKA, DERNA]
    muhalla = next(p for p, a in rows.items() if len(a) == 4 and a[2] == DERNA)
    assert rows[muhalla] == ["LBY", DERNA_MANTIKA, DERNA, muhalla]
    assert all(a[-1] == p for p, a in rows.items())


def test_ancestry_is_kept_by_the_database_for_every_writer(engine):
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_areas (pcode, level, parent_pcode, region_pcode, ocha_pcode, "
                "ocha_level, name_en, name_ar, geom, geom_source) VALUES ('LYT0000001', 3, "
                ":derna, 'LY01', NULL, NULL, 't', 't', NULL, 'test')"
            ),
            {"derna": DERNA},
        )
        found = conn.execute(
            text("SELECT ancestry FROM admin_areas WHERE pcode = 'LYT0000001'")
        ).scalar()
        conn.rollback()
    assert found == ["LBY", DERNA_MANTIKA, DERNA, "LYT0000001"]
    with engine.connect() as conn, pytest.raises(IntegrityError) as caught:
        conn.execute(text("UPDATE admin_areas SET ancestry = ARRAY['LBY'] WHERE pcode = :d"),
                     {"d": DERNA})  # fmt: skip
    assert "ancestry" in str(caught.value)


def _muhallas_of(engine, mantika: str) -> set[str]:
    """Muhallas whose baladiya's mantika is `mantika`, found by parents, not ancestry."""
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT m.pcode FROM admin_areas m JOIN admin_areas b ON b.pcode = m.parent_pcode "
                "WHERE m.level = 3 AND b.parent_pcode = :m"
            ),
            {"m": mantika},
        )
        return set(found.scalars())


def test_a_mantika_holds_the_muhallas_of_its_baladiyas_everywhere(client, engine):
    expected = _muhallas_of(engine, DERNA_MANTIKA)
    assert len(expected) > 10
    ogc = client.get(
        "/ogc/collections/muhallas/items", params={"area": DERNA_MANTIKA, "limit": 1000}
    ).json()
    assert {f["properties"]["pcode"] for f in ogc["features"]} == expected
    assert ogc["numberMatched"] == len(expected)
    stats = client.get(
        "/api/v1/stats",
        params={"level": 3, "pcode": DERNA_MANTIKA, "round": "R39", "limit": 10000},
    ).json()
    assert {r["pcode"] for r in stats["data"]} == expected
    mapped = client.get(
        "/api/v1/stats",
        params={"level": 3, "pcode": DERNA_MANTIKA, "round": "R39", "format": "geojson"},
    ).json()
    assert {f["properties"]["pcode"] for f in mapped["features"]} == expected
    indicators = client.get(
        "/api/v1/indicators",
        params={"level": 3, "pcode": DERNA_MANTIKA, "indicator": "in_informal_camp_setting_hh"},
    ).json()
    assert {r["pcode"] for r in indicators["data"]} <= expected
    assert len({r["pcode"] for r in indicators["data"]}) > 10


def test_flows_match_an_area_and_everything_in_it(client):
    whole = client.get("/api/v1/flows", params={"round": "storm-daniel-2023-10-31"}).json()
    in_east = client.get(
        "/api/v1/flows", params={"round": "storm-daniel-2023-10-31", "destination": "LY01"}
    )
    assert in_east.status_code == 404  # a region is not an area of DTM's hierarchy
    into_derna_mantika = client.get(
        "/api/v1/flows",
        params={"round": "storm-daniel-2023-10-31", "destination": DERNA_MANTIKA},
    ).json()["data"]
    expected = [f for f in whole["data"] if f["destination_pcode"].startswith(DERNA_MANTIKA)]
    assert len(into_derna_mantika) == len(expected) > 0
    ogc = client.get(
        "/ogc/collections/flows/items",
        params={"round": "storm-daniel-2023-10-31", "area": DERNA_MANTIKA, "limit": 1000},
    ).json()
    ends = {
        (f["properties"]["origin_pcode"], f["properties"]["destination_pcode"])
        for f in ogc["features"]
    }
    assert ends and all(DERNA_MANTIKA in (o[:6], d[:6]) for o, d in ends)


# --- the latest round --------------------------------------------------------------------


def test_a_partial_round_is_never_the_latest_nor_the_default(client, partial_round):
    rounds = client.get("/api/v1/rounds").json()
    latest = rounds["meta"]["latest"]
    assert latest["idp"]["2"] == "R39" and latest["migrant"]["2"] == "R54"
    assert latest["idp"]["3"] == "R39"
    mine = next(r for r in rounds["data"] if r["code"] == PARTIAL)
    at_baladiyas = next(
        c for c in mine["coverage"] if c["population_type"] == "idp" and c["level"] == 2
    )
    assert at_baladiyas == {
        "population_type": "idp",
        "level": 2,
        "areas": 3,
        "of": 100,
        "complete": False,
    }
    # every default follows the one rule
    geo = client.get(
        "/api/v1/stats", params={"level": 2, "population_type": "idp", "format": "geojson"}
    ).json()
    assert geo["round"] == "R39"
    ogc = client.get(
        "/ogc/collections/stats-admin2/items", params={"population_type": "idp", "limit": 1}
    ).json()
    assert ogc["features"][0]["properties"]["round"] == "R39"
    for_latest = client.get(
        "/api/v1/stats", params={"level": 2, "population_type": "idp", "round": "latest"}
    ).json()
    assert for_latest["meta"]["rounds"] == ["R39"]
    assert (
        client.get("/api/v1/hotspots", params={"round": "latest", "population_type": "idp"}).json()[
            "meta"
        ]["round"]
        == "R39"
    )


def test_a_partial_sum_is_labelled_and_the_national_figure_is_unchanged(client, partial_round):
    national = client.get(
        "/api/v1/stats", params={"level": 0, "population_type": "idp", "round": PARTIAL}
    ).json()["data"]
    assert [(r["individuals"], r["complete"], r["units"]) for r in national] == [(1550, False, 3)]
    latest = client.get(
        "/api/v1/stats", params={"level": 0, "population_type": "idp", "round": "latest"}
    ).json()
    assert latest["meta"]["rounds"] != [PARTIAL]
    assert all(r["complete"] for r in latest["data"])


def test_the_dtm_surface_never_gives_a_partial_sum_as_a_record(client, partial_round):
    records = client.get(
        "/v3/displacement/admin0", params={"Admin0Pcode": "LBY", "FromRoundNumber": 99}
    ).json()["result"]
    assert records == []
    baladiyas = client.get(
        "/v3/displacement/admin2", params={"Admin0Pcode": "LBY", "FromRoundNumber": 99}
    ).json()["result"]
    assert sorted(r["numPresentIdpInd"] for r in baladiyas) == [50, 300, 1200]


def test_the_partial_round_is_shown_when_asked_for(client, partial_round):
    geo = client.get(
        "/api/v1/stats", params={"level": 2, "round": PARTIAL, "format": "geojson"}
    ).json()
    with_figures = [f for f in geo["features"] if f["properties"]["idps"] is not None]
    assert geo["round"] == PARTIAL and len(with_figures) == 3


def test_latest_at_the_muhalla_level_is_the_round_that_has_muhallas(client):
    rows = client.get("/api/v1/stats", params={"level": 3, "round": "latest", "limit": 1})
    assert rows.json()["meta"]["rounds"] == ["R39"]


def test_meta_rounds_are_in_time_order(client):
    meta = client.get("/api/v1/stats", params={"level": 0, "limit": 10000}).json()["meta"]
    listed = [r["code"] for r in client.get("/api/v1/rounds").json()["data"]]
    assert meta["rounds"] == [c for c in listed if c in meta["rounds"]]
    assert meta["rounds"] != sorted(meta["rounds"])  # R12 before R3 would be code order


def test_round_latest_is_taken_wherever_a_round_is(client):
    for path, params in (
        ("/api/v1/stats", {"level": 1, "round": "latest"}),
        ("/api/v1/stats/change", {"level": 0, "from_round": "R38", "to_round": "latest"}),
        ("/api/v1/indicators", {"round": "latest"}),
        ("/api/v1/flows", {"round": "latest"}),
        ("/api/v1/hotspots", {"round": "latest", "population_type": "migrant"}),
        ("/ogc/collections/stats-admin1/items", {"round": "latest"}),
        ("/ogc/tiles/stats-admin1/tilejson.json", {"round": "latest"}),
        ("/ogc/tiles/stats-admin1/5/18/12.pbf", {"round": "latest"}),
    ):
        response = client.get(path, params=params)
        assert response.status_code == 200, (path, response.text)


# --- one total per area and type ---------------------------------------------------------


def test_the_ogc_statistics_and_the_map_give_the_same_totals(client):
    for level, round_code in ((1, "R39"), (2, "R54"), (2, "storm-daniel-2023-10-31")):
        mapped = client.get(
            "/api/v1/stats",
            params={"level": level, "round": round_code, "format": "geojson", "limit": 10000},
        ).json()
        ogc = client.get(
            f"/ogc/collections/stats-admin{level}/items",
            params={"round": round_code, "limit": 10000},
        ).json()
        by_map = {
            f["properties"]["pcode"]: tuple(f["properties"][k] for k in ("idps", "migrants"))
            for f in mapped["features"]
            if f["properties"]["round_code"]
        }
        by_ogc = {
            f["properties"]["pcode"]: tuple(f["properties"][k] for k in ("idps", "migrants"))
            for f in ogc["features"]
        }
        assert by_map == by_ogc and by_map


def test_ogc_statistics_default_to_a_round_with_the_filtered_type(client):
    found = client.get(
        "/ogc/collections/stats-admin2/items", params={"filter": "idps > 10000"}
    ).json()
    assert found["numberMatched"] > 0
    assert {f["properties"]["round"] for f in found["features"]} == {"R39"}


def test_ogc_datetime_selects_the_round(client):
    found = client.get(
        "/ogc/collections/stats-admin2/items", params={"datetime": "2021-01-01/2021-12-31"}
    ).json()
    assert found["numberMatched"] == 100
    assert {f["properties"]["round"] for f in found["features"]} == {"R39"}


# --- areas named and asked for -----------------------------------------------------------


def test_a_pcode_without_a_level_answers_at_its_own_level(client):
    rows = client.get("/api/v1/stats", params={"pcode": DERNA, "round": "R39"}).json()
    assert rows["meta"]["level"] == 2
    assert {r["pcode"] for r in rows["data"]} == {DERNA}


def test_a_name_is_never_matched_loosely_as_if_exact(client):
    missing = client.get("/api/v1/areas", params={"level": 3, "name": "Derna"})
    assert missing.status_code == 404
    assert "Did you mean" in missing.json()["detail"]
    muhallas = client.get(
        "/api/v1/stats", params={"level": 3, "name": "Derna", "round": "R39", "limit": 1000}
    ).json()["data"]
    assert muhallas and all(r["parent_pcode"] == DERNA for r in muhallas)
    assert (
        client.get("/api/v1/areas", params={"level": 2, "name": "Darnah"}).json()["data"][0][
            "pcode"
        ]
        == DERNA
    )


def test_too_few_areas_for_hotspots_says_how_many_are_needed(client, partial_round):
    refused = client.get("/api/v1/hotspots", params={"round": PARTIAL, "population_type": "idp"})
    assert refused.status_code == 422
    body = refused.json()
    assert body["areas"] == 3 and body["min_areas"] == 8
