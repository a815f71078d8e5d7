"""Round 39 (IDP and Returnee Baseline Assessment) per muhalla: admin level 3, loaded from
the published workbook, summed up the hierarchy, and Round 38's national totals."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import create_engine, text

from app import db
from app.errors import LoadError
from app.loaders import dtm_r39
from app.loaders.default_data import load_default_data
from app.models import Base
from app.names import match_key


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_663_muhallas_under_100_baladiyas(engine):
    assert (
        scalar(engine, "SELECT count(*) FROM admin_areas WHERE level = 3 AND ancestry[1] = 'LBY'")
        == 663
    )
    assert (
        scalar(
            engine,
            "SELECT count(DISTINCT parent_pcode) FROM admin_areas "
            "WHERE level = 3 AND ancestry[1] = 'LBY'",
        )
        == 100
    )
    # the parent is the baladiya named by the pcode's first 8 characters
    assert (
        scalar(
            engine,
            """SELECT count(*) FROM admin_areas m JOIN admin_areas b ON b.pcode = m.parent_pcode
               WHERE m.level = 3 AND m.ancestry[1] = 'LBY'
                 AND (b.level <> 2 OR left(m.pcode, 8) <> b.pcode OR length(m.pcode) <> 10)""",
        )
        == 0
    )
    # 19 have no coordinates in the workbook: no geometry, and they say so
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM admin_areas "
            "WHERE level = 3 AND ancestry[1] = 'LBY' AND geom IS NULL",
        )
        == 19
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM admin_areas "
            "WHERE level = 3 AND ancestry[1] = 'LBY' AND geom IS NULL "
            "AND geom_source LIKE 'none:%'",
        )
        == 19
    )
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM admin_areas "
            "WHERE level = 3 AND ancestry[1] = 'LBY' AND GeometryType(geom) = 'POINT'",
        )
        == 644
    )
    assert scalar(engine, "SELECT name_ar FROM admin_areas WHERE pcode = 'LY01060105'") == (
        "الفايدية"
    )


def test_r54_spellings_are_kept_as_provider_names(engine):
    providers = scalar(
        engine,
        """SELECT count(DISTINCT n.pcode) FROM admin_area_names n
           JOIN admin_areas a ON a.pcode = n.pcode
           WHERE a.level = 3 AND n.provider = 'IOM DTM Libya R54'""",
    )
    assert providers == 663
    # "al fajr al jadid" is how Round 54 writes LY01060207
    assert scalar(
        engine,
        "SELECT count(*) FROM admin_area_names WHERE pcode = 'LY01060207' AND match_key = :k",
        k=match_key("al fajr al jadid"),
    )


def test_load_report_says_which_muhallas_lack_coordinates_and_reconciles(first_load):
    notes = " ".join(first_load.notes)
    assert "19 without coordinates" in notes and "LY01020309" in notes
    assert "663 pcodes in both" in notes and "only in R39: none" in notes
    assert "note: R39: 663 muhallas" in first_load.summary()


def test_stats_level_3_lists_663_muhallas_adding_to_179047(client):
    body = client.get("/api/v1/stats?level=3&round=R39&population_type=idp&limit=1000").json()
    rows = body["data"]
    assert body["meta"]["level_name"] == "muhalla"
    assert len(rows) == 663 == body["meta"]["total"]
    assert sum(r["individuals"] for r in rows) == 179_047
    assert sum(r["households"] for r in rows) == 36_309
    assert {r["stored_levels"][0] for r in rows} == {3}
    assert all(r["quality"] == "published" for r in rows)


def test_national_r39_sums_up_from_the_muhallas(client):
    rows = client.get("/api/v1/stats?level=0&round=R39").json()["data"]
    by_type = {r["population_type"]: r for r in rows}
    assert by_type["idp"]["individuals"] == 179_047
    assert by_type["idp"]["households"] == 36_309
    assert by_type["returnee"]["individuals"] == 661_892
    assert by_type["returnee"]["households"] == 132_412
    assert by_type["idp"]["units"] == 663 and by_type["idp"]["complete"]


def test_benghazi_baladiya_in_round_39(client):
    rows = client.get("/api/v1/stats?level=2&round=R39&pcode=LY010304").json()["data"]
    benghazi = {r["population_type"]: r["individuals"] for r in rows if r["pcode"] == "LY010304"}
    assert benghazi == {"idp": 36_490, "returnee": 190_625}


def test_mantika_totals_equal_the_summary_sheet(client):
    rows = client.get("/api/v1/stats?level=1&round=R39&population_type=idp").json()["data"]
    derna = next(r for r in rows if r["pcode"] == "LY0101")
    assert (derna["individuals"], derna["households"]) == (3197, 678)


def test_change_r38_to_r39_national(client):
    body = client.get(
        "/api/v1/stats/change?level=0&from_round=R38&to_round=R39&population_type=idp"
    ).json()
    (row,) = body["data"]
    assert (row["before"], row["after"], row["change"]) == (199_949, 179_047, -20_902)
    assert row["change_percent"] == -10.45


def test_round_38_totals_are_published_figures_from_the_summary_sheet(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                """SELECT o.population_type, o.individuals, o.households, o.quality, o.source
                   FROM observations o JOIN rounds r ON r.id = o.round_id
                   WHERE r.code = 'R38' ORDER BY 1"""
            )
        ).all()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("idp", 199_949, None, "published"),
        ("returnee", 648_317, None, "published"),
    ]
    assert all("Summary sheet" in r[4] for r in rows)


def test_time_series_shows_r38_then_r39(client):
    body = client.get("/api/v1/stats/timeseries?level=0&population_type=idp").json()
    points = body["data"][0]["points"]
    codes = [p["round_code"] for p in points]
    assert codes.index("R38") + 1 == codes.index("R39")


def test_level_3_csv_has_hxl_admin3_columns(client):
    response = client.get("/api/v1/stats?level=3&round=R39&format=csv&limit=1000")
    reader = csv.reader(io.StringIO(response.text.lstrip("\ufeff")))
    header, tags, *rows = list(reader)
    assert header[header.index("admin3_pcode")] == "admin3_pcode"
    assert tags[header.index("admin3_pcode")] == "#adm3+code"
    assert tags[header.index("admin3_name_ar")] == "#adm3+name+i_ar"
    assert tags[header.index("admin1_pcode")] == "#adm1+code"
    assert len(rows) == 663
    assert sum(int(r[header.index("idps")]) for r in rows) == 179_047


def test_level_3_geojson_points_and_no_invented_locations(client):
    body = client.get("/api/v1/stats?level=3&round=R39&format=geojson&limit=1000").json()
    features = body["features"]
    assert len(features) == 663
    kinds = {f["properties"]["geometry_kind"] for f in features}
    assert kinds == {"official_point", "none"}
    missing = [f for f in features if f["geometry"] is None]
    assert len(missing) == 19
    assert all(f["properties"]["geometry_kind"] == "none" for f in missing)
    assert sum(f["properties"]["idps"] for f in features) == 179_047


# --- a corrupt or altered workbook loads nothing --------------------------------------


def test_an_altered_workbook_loads_nothing_and_says_why(scratch_url, tmp_path, data_dir):
    target = tmp_path / "data"
    shutil.copytree(data_dir, target)
    workbook = target / dtm_r39.FILE
    workbook.chmod(0o644)
    data = bytearray(workbook.read_bytes())
    data[-20] ^= 0xFF
    workbook.write_bytes(bytes(data))
    db.migrate(scratch_url)
    with pytest.raises(LoadError, match="differs from the manifest") as caught:
        load_default_data(scratch_url, target)
    assert str(caught.value).startswith(dtm_r39.FILE)
    engine = create_engine(scratch_url)
    for table in Base.metadata.tables:
        expected = 1 if table == "data_version" else 0
        assert scalar(engine, f"SELECT count(*) FROM {table}") == expected, table
    engine.dispose()


# --- bad input: sheet, row and column named ---------------------------------------------


@pytest.fixture(scope="module")
def sheet_rows(data_dir) -> list[list]:
    book = openpyxl.load_workbook(data_dir / dtm_r39.FILE, read_only=True, data_only=True)
    rows = [list(r) for r in book[dtm_r39.SHEET].iter_rows(values_only=True)]
    book.close()
    return [r for r in rows if any(c is not None for c in r)]


@pytest.fixture(scope="module")
def baladiyas(engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT n.pcode, n.match_key FROM admin_area_names n "
                "JOIN admin_areas a ON a.pcode = n.pcode "
                "WHERE a.level = 2 AND a.ancestry[1] = 'LBY'"
            )
        ).all()
    out: dict[str, set[str]] = {}
    for pcode, key in rows:
        out.setdefault(pcode, set()).add(key)
    return out


def _read(rows: list[list], tmp_path: Path, baladiyas):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = dtm_r39.SHEET
    for row in rows:
        sheet.append(row)
    path = tmp_path / "r39.xlsx"
    book.save(path)
    opened = dtm_r39.open_workbook(path, "r39.xlsx")
    try:
        return dtm_r39.read_workbook(opened, "r39.xlsx", baladiyas)
    finally:
        opened.close()


def _col(rows, name):
    return rows[0].index(name)


def test_the_published_sheet_reads_cleanly(sheet_rows, tmp_path, baladiyas):
    read = _read(sheet_rows, tmp_path, baladiyas)
    assert read.round_number == 39 and len(read.muhallas) == 663
    assert sum(m.counts["returnee"][1] for m in read.muhallas) == 661_892


def _renamed(rows):
    rows[0][_col(rows, "IDP Indiv")] = "IDP Individuals"
    return 1, "IDP Indiv"


def _missing(rows):
    at = _col(rows, "Returnee HH")
    for r in rows:
        del r[at]
    return 1, "Returnee HH"


def _wrong_baladiya(rows):
    # the first muhalla (LY01060105, in Shahhat) said to be in Benghazi
    assert str(rows[2][_col(rows, "Muhalla_pcode")]).startswith("LY010601")
    rows[2][_col(rows, "ADM3_Baladiya_EN")] = "Benghazi"
    return 3, "Muhalla_pcode"


def _negative(rows):
    rows[5][_col(rows, "Returnee Indiv")] = -5
    return 6, "Returnee Indiv"


def _fraction(rows):
    rows[6][_col(rows, "Returnee HH")] = 2.5
    return 7, "Returnee HH"


def _households_above_individuals(rows):
    row = next(i for i, r in enumerate(rows[2:], start=2) if r[_col(rows, "IDP Indiv")])
    rows[row][_col(rows, "IDP HH")] = rows[row][_col(rows, "IDP Indiv")] + 1
    return row + 1, "IDP HH"


def _duplicate(rows):
    rows[9][_col(rows, "Muhalla_pcode")] = rows[8][_col(rows, "Muhalla_pcode")]
    rows[9][_col(rows, "ADM3_Baladiya_EN")] = rows[8][_col(rows, "ADM3_Baladiya_EN")]
    return 10, "Muhalla_pcode"


@pytest.mark.parametrize(
    "spoil",
    [
        _renamed,
        _missing,
        _wrong_baladiya,
        _negative,
        _fraction,
        _households_above_individuals,
        _duplicate,
    ],
)
def test_bad_input_names_sheet_row_and_column(sheet_rows, tmp_path, baladiyas, spoil):
    rows = [list(r) for r in sheet_rows]
    row, column = spoil(rows)
    with pytest.raises(LoadError) as caught:
        _read(rows, tmp_path, baladiyas)
    message = str(caught.value)
    assert message.startswith(f"r39.xlsx [{dtm_r39.SHEET}], row {row}, field '{column}'"), message


# --- level 3 in the analyses ------------------------------------------------------------


def test_hotspots_on_muhalla_points_with_knn_and_distance(client):
    knn = client.get(
        "/api/v1/hotspots?round=R39&population_type=idp&level=3&weights=knn&k=6"
        "&permutations=99&seed=1"
    )
    assert knn.status_code == 200, knn.text
    body = knn.json()
    assert body["meta"]["level_name"] == "muhalla"
    assert len(body["data"]) == 644  # the muhallas with coordinates
    assert len(body["meta"]["no_data"]) == 19  # no location: not analysed, and said so
    distance = client.get(
        "/api/v1/hotspots?round=R39&population_type=returnee&level=3&weights=distance"
        "&distance_km=30&permutations=99&seed=1&format=geojson"
    )
    assert distance.status_code == 200, distance.text
    assert all(f["geometry"]["type"] == "Point" for f in distance.json()["features"])


def test_hotspots_at_level_3_refuse_polygon_weights(client):
    for weights in ("queen", "queen-approximate"):
        response = client.get(
            f"/api/v1/hotspots?round=R39&population_type=idp&level=3&weights={weights}"
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["parameter"] == "weights"


def test_areas_at_level_3(client):
    body = client.get("/api/v1/areas?level=3&parent=LY010101").json()
    assert body["data"] and all(a["level"] == 3 for a in body["data"])
    one = client.get("/api/v1/areas/LY01010101").json()["data"]
    assert one["level"] == 3 and one["ocha_pcode"] is None


def test_flows_take_level_3(client):
    balances = client.get("/api/v1/flows/areas?round=storm-daniel-2023-10-31&level=3")
    assert balances.status_code == 200
    flows = client.get("/api/v1/flows?round=storm-daniel-2023-10-31&origin_level=3")
    assert flows.status_code == 200
    # baladiya flows stay at their stored level when a finer one is asked for
    assert {f["origin_level"] for f in flows.json()["data"]} <= {1, 2}
    assert client.get("/api/v1/flows/areas?level=4").status_code == 422


def test_dtm_compatible_admin3_is_an_addition(client):
    body = client.get(
        "/v3/displacement/admin3",
        params={"CountryName": "Libya", "Admin2Pcode": "LY010304", "FromRoundNumber": "39"},
    ).json()
    records = body["result"]
    assert records and {r["admin2Pcode"] for r in records} == {"LY010304"}
    assert {r["admin1Pcode"] for r in records} == {"LY0103"}
    assert sum(r["numPresentIdpInd"] for r in records if r["roundNumber"] == 39) == 36_490
    assert all(len(r["admin3Pcode"]) == 10 for r in records)
    by_mantika = client.get(
        "/v2/IdpAdmin3Data", params={"CountryName": "Libya", "Admin1Pcode": "LY0101"}
    ).json()["result"]
    assert sum(r["numPresentIdpInd"] for r in by_mantika) == 3197  # Derna mantika, R39
    # admin 2 records are unchanged in shape: no admin3 keys
    admin2 = client.get("/v3/displacement/admin2", params={"CountryName": "Libya"}).json()
    assert all("admin3Pcode" not in r for r in admin2["result"])


def test_ogc_muhalla_points_with_their_latest_figures(client):
    page = client.get("/ogc/collections/stats-admin3/items", params={"limit": 1000}).json()
    assert page["numberMatched"] == 663
    features = page["features"]
    assert {f["properties"]["round"] for f in features} == {"R39"}
    assert sum(f["properties"]["idps"] for f in features) == 179_047
    assert sum(1 for f in features if f["geometry"] is None) == 19


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    import math

    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


def test_muhalla_tiles_only_close_up(client):
    import mapbox_vector_tile

    tilejson = client.get("/ogc/tiles/stats-admin3/tilejson.json").json()
    assert tilejson["minzoom"] == 8
    z, x, y = _tile_of(22.64, 32.76, 6)
    assert client.get(f"/ogc/tiles/stats-admin3/{z}/{x}/{y}.pbf").status_code == 204
    found = 0
    for lon, lat in ((20.07, 32.1), (22.64, 32.76), (13.19, 32.88)):
        z, x, y = _tile_of(lon, lat, 10)
        response = client.get(f"/ogc/tiles/stats-admin3/{z}/{x}/{y}.pbf")
        if response.status_code == 200:
            tile = mapbox_vector_tile.decode(response.content)
            found += len(tile["stats-admin3"]["features"])
    assert found > 0


# --- indicators -------------------------------------------------------------------------


def test_indicators_are_stored_with_round_area_source_and_unit(engine):
    with engine.connect() as conn:
        units = dict(
            conn.execute(
                text(
                    "SELECT indicator, unit FROM indicators WHERE indicator IN "
                    "('in_informal_camp_setting_hh', 'deterioration_of_security_situation', "
                    "'of_public_schools_operational', 'priority_need_1')"
                )
            ).all()
        )
        levels = conn.execute(
            text(
                "SELECT DISTINCT i.population_type, a.level FROM indicators i "
                "JOIN admin_areas a USING (pcode) ORDER BY 1, 2"
            )
        ).all()
    assert units == {
        "in_informal_camp_setting_hh": "households",
        "deterioration_of_security_situation": "flag",
        "of_public_schools_operational": "percent",
        "priority_need_1": "text",
    }
    # details per muhalla; access to services per baladiya
    assert [tuple(r) for r in levels] == [("idp", 3), ("returnee", 3), (None, 2)]


def test_partner_example_baladiyas_with_idps_in_camps_or_abandoned_buildings(client):
    body = client.get(
        "/api/v1/indicators",
        params={
            "round": "R39",
            "level": 2,
            "population_type": "idp",
            "indicator": "in_informal_camp_setting_hh,abondoned_buildings_hh",
            "min_share": 0.2,
        },
    ).json()
    rows = body["data"]
    assert rows
    shares: dict[str, float] = {}
    for r in rows:
        assert r["unit"] == "households" and r["aggregation"] == "sum"
        shares[r["pcode"]] = shares.get(r["pcode"], 0) + r["value"] / r["base"]
        assert r["name_ar"] and r["name_en"]
    for pcode, share in shares.items():
        assert share > 0.2
        assert abs(share - next(r for r in rows if r["pcode"] == pcode)["combined_share"]) < 1e-3
    # Albrayga: 25 of its 96 IDP households live in an informal camp
    assert "LY010506" in shares
    # the same question by Arabic name, as CSV with HXL
    csv_text = client.get(
        "/api/v1/indicators",
        params={
            "round": "R39",
            "level": 2,
            "indicator": "in_informal_camp_setting_hh",
            "name": "بنغازي",
            "population_type": "idp",
            "format": "csv",
        },
    ).text
    header, tags, row = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert tags[header.index("share")] == "#indicator+share+pct"
    assert row[header.index("pcode")] == "LY010304" and row[header.index("name_ar")] == "بنغازي"


def test_indicator_roll_up_sums_households_and_shares_flags(client):
    rows = client.get(
        "/api/v1/indicators?round=R39&level=0&population_type=idp"
        "&indicator=in_informal_camp_setting_hh,deterioration_of_security_situation"
    ).json()["data"]
    by = {r["indicator"]: r for r in rows}
    camp = by["in_informal_camp_setting_hh"]
    assert camp["base"] == 36_309 and camp["share"] == round(camp["value"] / 36_309, 4)
    flag = by["deterioration_of_security_situation"]
    assert flag["aggregation"] == "share_of_areas" and flag["reported_areas"] == 663
    assert flag["value"] == round(flag["yes_areas"] / 663, 4)
    unknown = client.get("/api/v1/indicators?round=R39&indicator=nope")
    assert unknown.status_code == 404 and "nope" in unknown.text
    listed = client.get("/api/v1/indicators?round=R39").json()["data"]
    assert any(i["indicator"] == "water_network_available" for i in listed)


def test_time_series_at_level_3(client):
    body = client.get(
        "/api/v1/stats/timeseries?level=3&pcode=LY01010201&population_type=returnee"
    ).json()
    (series,) = body["data"]
    assert series["pcode"] == "LY01010201" and series["level"] == 3
    assert [(p["round_code"], p["individuals"]) for p in series["points"]] == [("R39", 15_000)]
