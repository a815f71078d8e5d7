"""Partner statistics: roll-up, rates, formats, paging, caching, errors."""

from __future__ import annotations

import csv
import gzip
import io

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import rollup

R54_TOTAL = 787_326


def get(client, path, **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response


def test_national_totals_per_round_include_round_50_with_source(client):
    rows = get(client, "/api/v1/stats", level=0, round="R50").json()["data"]
    assert {(r["population_type"], r["individuals"], r["households"]) for r in rows} == {
        ("idp", 125_802, 25_160),
        ("returnee", 705_426, 141_085),
        ("migrant", 706_509, None),
    }
    assert all(r["sources"] == ["IOM Libya Annual Report 2023 (Arabic edition)"] for r in rows)
    assert {r["stored_levels"][0] for r in rows} == {0}


def test_admin1_sums_baladiyas_and_admin0_uses_the_published_total(client):
    mantikas = get(client, "/api/v1/stats", level=1, round="R54").json()["data"]
    assert len(mantikas) == 22 and all(m["complete"] for m in mantikas)
    assert sum(m["individuals"] for m in mantikas) == R54_TOTAL
    derna = next(m for m in mantikas if m["pcode"] == "LY0101")
    assert derna["units"] == 5 and derna["stored_levels"] == [2]
    national = get(client, "/api/v1/stats", level=0, round="R54").json()["data"]
    assert [(n["individuals"], n["units"]) for n in national] == [(R54_TOTAL, 1)]


def test_a_total_never_double_counts_when_levels_overlap(client, engine):
    """Storm Daniel 31 Oct: a national total and Derna's figure are both stored; the national
    value stays the published 44,862 rather than adding Derna's 23,500 to it."""
    rows = get(
        client, "/api/v1/stats", level=0, round="storm-daniel-2023-10-31", population_type="idp"
    ).json()["data"]
    assert [(r["individuals"], r["households"]) for r in rows] == [(44_862, 8_907)]


def test_partial_sums_are_flagged_incomplete(client):
    rows = get(client, "/api/v1/stats", level=0, round="storm-daniel-2023-09-13").json()["data"]
    assert [(r["individuals"], r["units"], r["complete"]) for r in rows] == [(35_085, 3, False)]


def test_rates_per_1000_with_denominator_metadata(client):
    body = get(client, "/api/v1/stats", level=2, round="R54", name="Derna").json()
    [derna] = body["data"]
    assert derna["population"] == 149_498 and derna["population_year"] == 2021
    assert derna["per_1000"] == pytest.approx(derna["individuals"] * 1000 / 149_498, abs=1e-3)
    [denominator] = body["meta"]["denominators"]
    assert denominator["year"] == 2021 and "HNO 2021" in denominator["source"]


@pytest.mark.parametrize("name", ["Darnah", "DERNA", "درنة"])
def test_filter_by_name_in_any_spelling(client, name):
    rows = get(client, "/api/v1/stats", level=2, round="R54", name=name).json()["data"]
    assert [r["pcode"] for r in rows] == ["LY010102"]


def test_filter_by_parent_pcode_round_range_and_dates(client):
    rows = get(client, "/api/v1/stats", level=2, pcode="LY0101", round="54").json()["data"]
    assert sorted(r["pcode"] for r in rows) == [f"LY01010{i}" for i in range(1, 6)]
    ranged = get(client, "/api/v1/stats", level=0, round_from=50, round_to=54).json()["data"]
    assert {r["round_code"] for r in ranged} == {"R50", "R54"}
    dated = get(
        client,
        "/api/v1/stats",
        level=0,
        date_from="2023-09-01",
        date_to="2023-12-31",
        population_type="idp",
    ).json()["data"]
    assert [r["round_code"] for r in dated] == [
        "storm-daniel-2023-09-13",
        "storm-daniel-2023-10-05",
        "storm-daniel-2023-10-31",
        "R50",
    ]


def test_quality_defaults_to_published_and_labels_others(client, engine):
    with Session(engine) as session, session.begin():
        r54 = session.execute(
            text("""
            INSERT INTO observations (round_id, pcode, population_type, individuals, source,
                                      quality)
            SELECT id, 'LY010304', 'returnee', 1000, 'test model', 'modelled'
            FROM rounds WHERE code = 'R54' RETURNING round_id""")
        ).scalar_one()
        rollup.data_changed(session, [r54])
    try:
        published = get(
            client, "/api/v1/stats", level=2, round="R54", population_type="returnee"
        ).json()["data"]
        assert published == []
        both = get(
            client,
            "/api/v1/stats",
            level=2,
            round="R54",
            population_type="returnee",
            quality="published,modelled",
        ).json()["data"]
        assert [(r["pcode"], r["quality"]) for r in both] == [("LY010304", "modelled")]
    finally:
        with Session(engine) as session, session.begin():
            session.execute(text("DELETE FROM observations WHERE source = 'test model'"))
            rollup.data_changed(session, [r54])


def test_paging_is_deterministic_with_total_and_next_link(client):
    first = get(client, "/api/v1/stats", level=2, round="R54", limit=40).json()
    assert first["meta"]["total"] == 100 and first["meta"]["returned"] == 40
    seen = [r["pcode"] for r in first["data"]]
    url = first["meta"]["next"]
    while url:
        page = client.get(url).json()
        seen += [r["pcode"] for r in page["data"]]
        url = page["meta"]["next"]
    assert seen == sorted(seen) and len(set(seen)) == 100


def test_limit_is_bounded(client):
    response = client.get("/api/v1/stats", params={"limit": 10_001})
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "limit"


def test_csv_has_hxl_row_and_intact_arabic(client):
    response = get(client, "/api/v1/stats", level=2, round="R54", format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text_body = response.content.decode("utf-8-sig")
    reader = list(csv.reader(io.StringIO(text_body)))
    header, tags, rows = reader[0], reader[1], reader[2:]
    assert tags[header.index("admin2_pcode")] == "#adm2+code"
    assert tags[header.index("migrants")] == "#affected+migrants"
    assert tags[header.index("round_code")] == "#round+code"
    assert tags[header.index("reporting_date")] == "#date+reported"
    assert len(rows) == 100
    derna = next(r for r in rows if r[header.index("admin2_pcode")] == "LY010102")
    assert derna[header.index("admin2_name_ar")] == "درنة"
    assert sum(int(r[header.index("migrants")]) for r in rows) == R54_TOTAL


def test_geojson_one_feature_per_area_with_counts_and_rates(client):
    collection = get(
        client, "/api/v1/stats", level=2, round="R54", format="geojson", limit=10_000
    ).json()
    assert collection["type"] == "FeatureCollection" and collection["round"] == "R54"
    features = collection["features"]
    assert len(features) == 100 and len({f["id"] for f in features}) == 100
    assert sum(f["properties"]["migrants"] for f in features) == R54_TOTAL
    derna = next(f for f in features if f["id"] == "LY010102")
    assert derna["geometry"]["type"] == "Point"
    assert derna["properties"]["geometry_kind"] == "official_point"
    assert derna["properties"]["migrants_per_1000"] > 0


def test_geojson_approximate_polygons_on_request(client):
    collection = get(
        client,
        "/api/v1/stats",
        level=2,
        round="R54",
        format="geojson",
        geometry="approximate",
        limit=5,
    ).json()
    assert {f["properties"]["geometry_quality"] for f in collection["features"]} == {"approximate"}
    assert "not an official boundary" in collection["note"]


def test_geojson_refuses_several_rounds(client):
    response = client.get("/api/v1/stats", params={"format": "geojson", "round": "R50,R54"})
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "round"


def test_timeseries_and_change(client):
    series = get(client, "/api/v1/stats/timeseries", level=0, population_type="returnee").json()
    [returnees] = series["data"]
    rounds = [p["round_code"] for p in returnees["points"]]
    assert rounds[:3] == ["R3", "R5", "R8"] and "R50" in rounds
    change = get(client, "/api/v1/stats/change", level=0, from_round="R50", to_round="R54").json()
    [mover] = change["top_movers"]
    assert (mover["before"], mover["after"], mover["change"]) == (706_509, R54_TOTAL, 80_817)
    assert mover["change_percent"] == pytest.approx(11.44, abs=0.01)


def test_change_needs_exactly_one_round_each(client):
    response = client.get(
        "/api/v1/stats/change", params={"from_round": "R50,R54", "to_round": "R54"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "from_round"


def test_nationalities_by_mantika(client):
    body = get(client, "/api/v1/nationalities", level=1, round="R54", pcode="LY0101").json()
    assert body["data"][0]["nationality"] == "Egypt"
    assert sum(r["share_percent"] for r in body["data"]) == pytest.approx(100, abs=0.1)
    national = get(client, "/api/v1/nationalities", level=0, round="R54").json()["data"]
    assert sum(r["individuals"] for r in national) == R54_TOTAL
    # every nationality Round 54 reports has its Arabic name
    assert {r["nationality"]: r["nationality_ar"] for r in national}["Sudan"] == "السودان"
    assert [r["nationality"] for r in national if not r["nationality_ar"]] == []


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"round": "R99"}, 404, "GET /api/v1/rounds"),
        ({"pcode": "LY019999"}, 404, "GET /api/v1/areas"),
        ({"name": "Atlantis"}, 404, "GET /api/v1/areas"),
        ({"population_type": "refugee"}, 422, "population_type"),
        ({"quality": "rumoured"}, 422, "quality"),
        ({"date_from": "2024-13-01"}, 422, "date_from"),
        ({"date_from": "2024-02-01", "date_to": "2024-01-01"}, 422, "date_from"),
        ({"round_from": 54, "round_to": 50}, 422, "round_from"),
        ({"level": 4}, 422, "level"),
    ],
)
def test_bad_input_is_a_clear_4xx(client, params, status, fragment):
    response = client.get("/api/v1/stats", params=params)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]


def test_etag_304_and_gzip(client):
    first = get(client, "/api/v1/stats", level=2, round="R54", format="geojson")
    etag = first.headers["etag"]
    assert first.headers["last-modified"] and "max-age" in first.headers["cache-control"]
    again = client.get(
        "/api/v1/stats",
        params={"level": 2, "round": "R54", "format": "geojson"},
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304 and again.content == b""
    raw = client.get(
        "/api/v1/stats",
        params={"level": 2, "round": "R54", "format": "geojson"},
        headers={"Accept-Encoding": "gzip"},
        extensions={},
    )
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.json() == first.json()  # httpx decodes gzip transparently
    assert len(gzip.compress(first.content)) < len(first.content)


def test_etag_changes_with_the_data_version(client, engine):
    etag = get(client, "/api/v1/stats", level=0).headers["etag"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE data_version SET version = version + 1"))
    assert get(client, "/api/v1/stats", level=0).headers["etag"] != etag
    stale = client.get("/api/v1/stats", params={"level": 0}, headers={"If-None-Match": etag})
    assert stale.status_code == 200


@pytest.mark.parametrize("types", ["idp", "idp,migrant", "migrant,returnee"])
def test_nationalities_refuse_any_other_population_type(client, types):
    response = client.get("/api/v1/nationalities", params={"population_type": types})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["parameter"] == "population_type"
    ok = client.get("/api/v1/nationalities", params={"population_type": "migrant", "level": 0})
    assert ok.status_code == 200


def test_list_parameters_are_capped_and_dates_are_calendar_dates(client):
    many = ",".join(f"Place{i}" for i in range(201))
    capped = client.get("/api/v1/stats", params={"name": many})
    assert capped.status_code == 422 and capped.json()["errors"][0]["parameter"] == "name"
    repeated = client.get("/api/v1/stats", params={"name": ",".join(["Darnah"] * 1800)})
    assert repeated.status_code == 200  # the same name once
    for value in ("0", "-1", "2023-13-01", "1694304000"):
        answer = client.get("/api/v1/stats", params={"date_from": value})
        assert answer.status_code == 422, value
        assert "YYYY-MM-DD" in answer.json()["errors"][0]["message"]
    assert client.get("/api/v1/stats", params={"date_from": "2023-09-10"}).status_code == 200
