"""Flows and the Storm Daniel event: the modelled flows meet every published figure."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth import create_key
from app.db import session_scope
from app.loaders import event_flows

pytestmark = pytest.mark.usefixtures("scratch_rounds")

OCT31 = "storm-daniel-2023-10-31"
OCTOBER = "storm-daniel-2023-10"
DERNA = "LY010102"


def get(client, path, **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response


def stored_flows(engine, code):
    with engine.connect() as conn:
        return (
            conn.execute(
                text("""
            SELECT f.origin_pcode, f.destination_pcode, f.individuals, f.households,
                   f.quality, f.source, d.region_pcode AS destination_region
            FROM flows f JOIN rounds r ON r.id = f.round_id
            JOIN admin_areas d ON d.pcode = f.destination_pcode
            WHERE r.code = :c AND f.population_type = 'idp'"""),
                {"c": code},
            )
            .mappings()
            .all()
        )


def test_31_october_flows_reproduce_the_dtm_figures(engine):
    flows = stored_flows(engine, OCT31)
    assert flows and {f["quality"] for f in flows} == {"modelled"}
    assert all("model" in f["source"] for f in flows)
    assert sum(f["individuals"] for f in flows) == 44_862
    assert sum(f["households"] for f in flows) == 8_907
    assert all(0 < f["households"] <= f["individuals"] or f["households"] == 0 for f in flows)
    hosted = Counter()
    regions = Counter()
    for f in flows:
        hosted[f["destination_pcode"]] += f["individuals"]
        regions[f["destination_region"]] += f["individuals"]
    assert hosted[DERNA] == 23_500 and hosted.most_common(1)[0][0] == DERNA
    assert regions == {"LY01": 41_720, "LY02": 3_142}
    north_east_hosts = {p for p, n in hosted.items() if p.startswith("LY01") and n}
    assert len(north_east_hosts) == 18  # "18 north-eastern municipalities"


def test_october_snapshot_reproduces_its_total_and_rounded_shares(engine):
    flows = stored_flows(engine, OCTOBER)
    total = sum(f["individuals"] for f in flows)
    assert total == 43_421
    hosted = Counter()
    for f in flows:
        hosted[f["destination_pcode"]] += f["individuals"]
    published = {DERNA: 38, "LY010304": 10, "LY010602": 10, "LY010601": 9, "LY010403": 8}
    for pcode, share in published.items():
        assert round(100 * hosted[pcode] / total) == share, pcode
    others = [n for p, n in hosted.items() if p not in published]
    assert max(others) / total < 0.075  # no unnamed host would be published beside them
    east = sum(f["individuals"] for f in flows if f["destination_region"] == "LY01")
    assert round(100 * east / total) == 94
    from_derna = [f for f in flows if f["origin_pcode"] == DERNA]
    west = sum(f["individuals"] for f in from_derna if f["destination_region"] == "LY02")
    assert round(100 * west / sum(f["individuals"] for f in from_derna)) == 6


def test_flows_json_has_shares_and_labels_modelled(client):
    body = get(client, "/api/v1/flows", round=OCT31).json()
    rows, meta = body["data"], body["meta"]
    assert meta["total_individuals"] == 44_862 and meta["qualities"] == ["modelled"]
    assert "model" in meta["notes"] and meta["source_urls"]
    assert [r["individuals"] for r in rows] == sorted(
        (r["individuals"] for r in rows), reverse=True
    )
    by_origin = Counter()
    for r in rows:
        by_origin[r["origin_pcode"]] += r["share_of_origin"]
    assert all(math.isclose(v, 1, abs_tol=1e-3) for v in by_origin.values())
    derna_inflow = [r for r in rows if r["destination_pcode"] == DERNA]
    assert sum(r["individuals"] for r in derna_inflow) == 23_500
    assert math.isclose(sum(r["share_of_destination"] for r in derna_inflow), 1, abs_tol=1e-3)


def test_aggregating_up_the_hierarchy_never_double_counts(client):
    baladiya = get(client, "/api/v1/flows", round=OCT31).json()["data"]
    mantika = get(client, "/api/v1/flows", round=OCT31, origin_level=1, destination_level=1).json()[
        "data"
    ]
    assert {r["origin_level"] for r in mantika} == {1} == {r["destination_level"] for r in mantika}
    assert sum(r["individuals"] for r in mantika) == 44_862
    expected = Counter()
    for r in baladiya:
        expected[(r["origin_pcode"][:6], r["destination_pcode"][:6])] += r["individuals"]
    assert {(r["origin_pcode"], r["destination_pcode"]): r["individuals"] for r in mantika} == (
        expected
    )
    country = get(client, "/api/v1/flows", round=OCT31, origin_level=0, destination_level=0)
    [whole] = country.json()["data"]
    assert (whole["origin_pcode"], whole["individuals"], whole["internal"]) == ("LBY", 44_862, True)


def test_filters_by_names_in_either_language_min_count_and_top(client):
    derna = get(client, "/api/v1/flows", round=OCT31, origin="Darnah").json()["data"]
    assert derna and {r["origin_pcode"] for r in derna} == {DERNA}
    to_tripoli = get(client, "/api/v1/flows", round=OCT31, destination="طرابلس").json()["data"]
    assert to_tripoli and all(r["destination_pcode"].startswith("LY0211") for r in to_tripoli)
    big = get(client, "/api/v1/flows", round=OCT31, min_count=1000).json()["data"]
    assert big and min(r["individuals"] for r in big) >= 1000
    top = get(client, "/api/v1/flows", round=OCT31, top=3, include_internal=False).json()
    assert len(top["data"]) == 3 and not any(r["internal"] for r in top["data"])


def test_area_balances(client):
    rows = get(client, "/api/v1/flows/areas", round=OCT31, level=2).json()["data"]
    assert sum(r["hosted"] for r in rows) == 44_862
    assert sum(r["displaced_from"] for r in rows) == 44_862
    assert sum(r["inflow"] for r in rows) == sum(r["outflow"] for r in rows)
    for r in rows:
        assert r["net"] == r["inflow"] - r["outflow"]
    derna = next(r for r in rows if r["pcode"] == DERNA)
    assert derna["hosted"] == 23_500 and derna["net"] < 0


def test_geojson_lines_start_and_end_at_the_official_points(client):
    lines = get(client, "/api/v1/flows", round=OCT31, format="geojson").json()
    points = {
        f["properties"]["pcode"]: f["geometry"]["coordinates"]
        for f in get(client, "/api/v1/areas", level=2, format="geojson").json()["features"]
    }
    assert (
        len(lines["features"])
        == get(client, "/api/v1/flows", round=OCT31).json()["meta"]["returned"]
    )
    for feature in lines["features"]:
        coords, props = feature["geometry"]["coordinates"], feature["properties"]
        assert feature["geometry"]["type"] == "LineString"
        assert coords[0] == pytest.approx(points[props["origin_pcode"]], abs=1e-6)
        assert coords[-1] == pytest.approx(points[props["destination_pcode"]], abs=1e-6)
    arcs = get(client, "/api/v1/flows", round=OCT31, format="geojson", arc="true").json()
    moving = [f for f in arcs["features"] if not f["properties"]["internal"]]
    assert all(len(f["geometry"]["coordinates"]) == 17 for f in moving)


def test_csv_with_hxl_and_flowmap_sheets(client):
    text_csv = get(client, "/api/v1/flows", round=OCT31, format="csv").text
    rows = list(csv.reader(io.StringIO(text_csv)))
    assert rows[1][:3] == ["#round+code", "#population+type", "#adm+code+origin"]
    assert "درنة" in text_csv
    assert sum(int(r[rows[0].index("individuals")]) for r in rows[2:]) == 44_862

    both = get(client, "/api/v1/flows", round=OCT31, format="flowmap").json()
    ids = {loc["id"] for loc in both["locations"]}
    assert all(f["origin"] in ids and f["dest"] in ids for f in both["flows"])
    sheet = get(client, "/api/v1/flows", round=OCT31, format="flowmap-flows").text
    assert sheet.splitlines()[0] == "origin,dest,count"
    locations = get(client, "/api/v1/flows", round=OCT31, format="flowmap-locations").text
    assert locations.splitlines()[0] == "id,name,lat,lon"


def test_storm_daniel_event_tells_the_story_with_sources(client):
    body = get(client, "/api/v1/events/storm-daniel-2023").json()
    timeline = body["timeline"]
    assert all(f["source"] for f in timeline)
    # Every transcribed figure has its URL, the annual report's too (data/published/).
    assert all(f["source_url"] for f in timeline)
    assert len([f for f in timeline if "Annual Report" not in f["source"]]) == 32
    periods = [f["period"][:10] for f in timeline]
    assert periods.index("2023-09-10") < periods.index("2023-09-13") < periods.index("2023-10-31")
    assert periods.index("2023-10 (a") < periods.index("2023-10-31")  # month: mid-October
    assert periods[0] == "2023-09-10"  # the annual report's totals are a summary, not day one
    assert {f["value"] for f in body["summary_figures"]} >= {44_862}
    figures = {(f["period"], f["metric"], f["pcode"]): f["value"] for f in timeline}
    assert figures[("2023-10-31", "displaced_individuals", "LBY")] == 44_862
    assert figures[("2023-10-31", "idps_hosted", DERNA)] == 23_500
    assert figures[("2023-10-31", "displaced_migrants", "LBY")] == 1_715
    snapshot = next(s for s in body["snapshots"] if s["round"] == OCT31)
    assert (snapshot["idps"], snapshot["idp_households"], snapshot["migrants"]) == (
        44_862,
        8_907,
        1_715,
    )
    assert snapshot["hosting_total"] == 44_862
    derna = snapshot["hosting"][0]
    assert (derna["pcode"], derna["individuals"], derna["quality"]) == (DERNA, 23_500, "published")
    assert {h["quality"] for h in snapshot["hosting"][1:]} == {"modelled"}
    assert snapshot["links"]["flows_geojson"].endswith("format=geojson")
    october = next(s for s in body["snapshots"] if s["round"] == OCTOBER)
    shares = {h["pcode"]: h["published_share_percent"] for h in october["hosting"][:5]}
    assert shares == {DERNA: 38, "LY010304": 10, "LY010602": 10, "LY010601": 9, "LY010403": 8}
    snapshots = {s["round"]: s for s in body["snapshots"]}
    first = snapshots["storm-daniel-2023-09-11"]["headline"]
    assert (first["individuals"], first["pcode"]) == (2_050, "LY01")
    assert snapshots["storm-daniel-2023-09-21"]["headline"]["individuals"] == 43_059
    sep13 = snapshots["storm-daniel-2023-09-13"]
    assert sep13["hosting"] == []  # where people were displaced from, not where they stayed
    assert {a["pcode"]: a["individuals"] for a in sep13["displaced_by_area"]} == {
        DERNA: 30_000,
        "LY010602": 3_000,
        "LY010304": 2_085,
    }
    listed = get(client, "/api/v1/events").json()["data"]
    assert [e["slug"] for e in listed] == ["storm-daniel-2023"]


@pytest.mark.parametrize(
    ("params", "status", "names"),
    [
        ({"round": "R999"}, 404, "R999"),
        ({"origin": "Atlantis"}, 404, "Atlantis"),
        ({"origin_level": 4}, 422, "origin_level"),
        ({"quality": "guessed"}, 422, "quality"),
        ({"population_type": "tourist"}, 422, "population_type"),
        ({"top": 0}, 422, "top"),
        ({"min_count": -1}, 422, "min_count"),
        ({"format": "kml"}, 422, "format"),
    ],
)
def test_bad_flow_parameters_are_named(client, params, status, names):
    response = client.get("/api/v1/flows", params={"round": OCT31, **params})
    assert response.status_code == status, response.text
    assert names in response.text and "Traceback" not in response.text


def test_unknown_event_is_404_and_malformed_slug_422(client):
    assert client.get("/api/v1/events/storm-zeus-1999").status_code == 404
    response = client.get("/api/v1/events/Storm Daniel")
    assert response.status_code == 422 and "slug" in response.text


def test_real_flows_posted_through_ingest_replace_modelled_ones(client, db_url, engine):
    with session_scope(db_url) as session:
        key = create_key(session, "flows-test-ingest", ["ingest"])
    headers = {"X-API-Key": key}
    code = "T-flow-event"
    round_body = {
        "kind": "flash_update",
        "event_slug": "test-event",
        "title": "test flows",
        "source": "IOM DTM Libya (test)",
    }
    assert client.put(f"/api/v1/rounds/{code}", json=round_body, headers=headers).status_code in (
        200,
        201,
    )
    modelled = [
        {"population_type": "idp", "origin_pcode": DERNA, "destination_pcode": d, "individuals": n}
        for d, n in (("LY010304", 500), ("LY010602", 300))
    ]
    answer = client.post(
        f"/api/v1/rounds/{code}/flows",
        json={"source": "a model", "quality": "modelled", "rows": modelled},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    real = [
        {
            "population_type": "idp",
            "origin_pcode": DERNA,
            "destination_pcode": "LY010304",
            "individuals": 650,
        },
    ]
    dry = client.post(
        f"/api/v1/rounds/{code}/flows",
        params={"dry_run": "true"},
        json={"source": "DTM OD survey (test)", "quality": "published", "rows": real},
        headers=headers,
    ).json()
    assert (dry["updated"], dry["removed"]) == (1, 1)
    posted = client.post(
        f"/api/v1/rounds/{code}/flows",
        json={"source": "DTM OD survey (test)", "quality": "published", "rows": real},
        headers=headers,
    )
    assert posted.status_code == 200, posted.text
    assert (posted.json()["updated"], posted.json()["removed"]) == (1, 1)
    rows = get(client, "/api/v1/flows", round=code).json()["data"]
    assert [(r["destination_pcode"], r["individuals"], r["quality"]) for r in rows] == [
        ("LY010304", 650, "published")
    ]


def test_a_reload_never_puts_modelled_flows_over_real_ones(engine):
    """The loader skips a round and population type that holds real flows."""
    rows = [{**f, "round_code": OCT31} for f in _modelled_rows(engine)]
    session = Session(engine)
    try:
        round_id = session.execute(
            text("SELECT id FROM rounds WHERE code = :c"), {"c": OCT31}
        ).scalar_one()
        session.execute(text("DELETE FROM flows WHERE round_id = :r"), {"r": round_id})
        session.execute(
            text(
                "INSERT INTO flows (round_id, population_type, origin_pcode, destination_pcode,"
                " individuals, source, quality) VALUES (:r, 'idp', :o, :d, 10, 'real', "
                "'published')"
            ),
            {"r": round_id, "o": DERNA, "d": "LY010304"},
        )
        counts = event_flows.write(session, rows)
        assert counts.inserted == counts.updated == counts.deleted == 0
        left = session.execute(
            text("SELECT quality, individuals FROM flows WHERE round_id = :r"), {"r": round_id}
        ).all()
        assert left == [("published", 10)]
        # Without the real flow, the same rows are written back.
        session.execute(text("DELETE FROM flows WHERE round_id = :r"), {"r": round_id})
        assert event_flows.write(session, rows).inserted == len(rows)
    finally:
        session.rollback()
        session.close()


def _modelled_rows(engine):
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text("""SELECT f.population_type, f.origin_pcode, f.destination_pcode,
                        f.individuals, f.households, f.source, f.source_url, f.quality
                        FROM flows f JOIN rounds r ON r.id = f.round_id WHERE r.code = :c"""),
                {"c": OCT31},
            ).mappings()
        ]


def test_area_filters_apply_to_the_stored_areas_before_aggregating(client, engine):
    from_benghazi = sum(
        f["individuals"] for f in stored_flows(engine, OCT31) if f["origin_pcode"] == "LY010304"
    )
    rows = get(client, "/api/v1/flows", round=OCT31, origin="LY010304", origin_level=1).json()[
        "data"
    ]
    assert {r["origin_pcode"] for r in rows} == {"LY0103"}
    assert sum(r["individuals"] for r in rows) == from_benghazi > 0
    into_derna = get(
        client, "/api/v1/flows", round=OCT31, destination=DERNA, destination_level=0
    ).json()["data"]
    assert sum(r["individuals"] for r in into_derna) == 23_500


def test_area_balances_filter_by_area_and_refuse_a_finer_area(client):
    rows = get(client, "/api/v1/flows/areas", round=OCT31, level=2, pcode="LY0101").json()["data"]
    assert rows and all(r["pcode"].startswith("LY0101") for r in rows)
    mantikas = get(client, "/api/v1/flows/areas", round=OCT31, level=1).json()["data"]
    assert sum(r["hosted"] for r in mantikas) == 44_862
    refused = client.get("/api/v1/flows/areas", params={"round": OCT31, "level": 1, "pcode": DERNA})
    assert refused.status_code == 422 and "pcode" in refused.text


def test_an_area_name_means_the_area_at_the_requested_level(client):
    by_name = get(
        client, "/api/v1/flows", round=OCT31, destination="Benghazi", destination_level=2
    ).json()["data"]
    by_pcode = get(
        client, "/api/v1/flows", round=OCT31, destination="LY010304", destination_level=2
    ).json()["data"]
    assert {r["destination_pcode"] for r in by_name} == {"LY010304"}
    assert sum(r["individuals"] for r in by_name) == sum(r["individuals"] for r in by_pcode) > 0
    baladiya = get(client, "/api/v1/flows/areas", round=OCT31, pcode="بنغازي").json()["data"]
    assert [r["pcode"] for r in baladiya] == ["LY010304"]
    mantika = get(client, "/api/v1/flows/areas", round=OCT31, pcode="Benghazi", level=1)
    assert [r["pcode"] for r in mantika.json()["data"]] == ["LY0103"]


def test_several_rounds_are_never_added_up(client):
    both = get(client, "/api/v1/flows", round=f"{OCTOBER},{OCT31}").json()["meta"]
    assert both["total_individuals"] is None
    assert both["totals_by_round"] == {OCTOBER: 43_421, OCT31: 44_862}
    for fmt in ("flowmap", "flowmap-flows"):
        refused = client.get("/api/v1/flows", params={"round": f"{OCTOBER},{OCT31}", "format": fmt})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["parameter"] == "round"
    one = get(client, "/api/v1/flows", round=OCT31, format="flowmap").json()
    assert sum(f["count"] for f in one["flows"]) < 44_862  # internal moves are not lines
