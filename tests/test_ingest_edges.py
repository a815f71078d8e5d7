"""Ingest edge cases: hostile bodies are 4xx naming what is wrong, one submission is one
revision, and concurrent round creation cannot collide into a 500."""

from __future__ import annotations

import io
import threading

import openpyxl
import pytest
from sqlalchemy import text

from app.auth import create_key
from app.db import session_scope
from app.loaders import dtm_r54

pytestmark = pytest.mark.usefixtures("scratch_rounds")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def headers(db_url, first_load):
    with session_scope(db_url) as session:
        key = create_key(session, "edges-admin", ["ingest", "admin"])
    return {"X-API-Key": key}


def make_round(client, headers, code, number=None, **extra):
    body = {"kind": "mobility_tracking", "number": number, "title": code, "source": "test"}
    response = client.put(f"/api/v1/rounds/{code}", json={**body, **extra}, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response


def post_json(client, headers, code, content: bytes):
    return client.post(
        f"/api/v1/rounds/{code}/observations",
        content=content,
        headers={**headers, "Content-Type": "application/json"},
    )


def migrant_workbook(round_number: int) -> bytes:
    book = openpyxl.Workbook()
    main = book.active
    main.title = dtm_r54.BALADIYA_SHEET
    main.append(["DTM Libya migrant baseline (test)"])
    main.append(["Baladiya PCode", "Migrants (IND)", "AssessmentRound"])
    main.append(["LY010102", 120, round_number])
    main.append(["LY010304", 80, round_number])
    nationalities = book.create_sheet(dtm_r54.NATIONALITY_SHEET)
    nationalities.append(["Muhalla P Code", "Migrant Nationality", "Migrant Individuals"])
    nationalities.append(["LY01010201", "Egypt", 70])
    nationalities.append(["LY01030401", "Sudan", 80])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_two_part_workbook_with_a_current_if_match_is_one_revision(client, headers):
    etag = make_round(client, headers, "T-EDGE-WB", number=9054).headers["etag"]
    answer = client.post(
        "/api/v1/rounds/T-EDGE-WB/files",
        content=migrant_workbook(9054),
        params={"source": "test workbook"},
        headers={**headers, "Content-Type": XLSX, "If-Match": etag},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [p["inserted"] for p in body["parts"]] == [2, 2]
    assert body["round_revision"] == 2  # r1 -> r2, not r3
    assert client.get("/api/v1/rounds/T-EDGE-WB").headers["etag"] == '"round-T-EDGE-WB-r2"'


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"source": "x\\u0000", "rows": []}', "source"),
        (b'{"source": "x", "source_url": 5, "rows": []}', "source_url"),
        (b'{"source": "x", "source_url": {}, "rows": []}', "source_url"),
        (b'{"source": "\xff", "rows": []}', "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b'{"source": "x", "rows": [{"pcode": "LY010102", "individuals": NaN}]}', "JSON"),
        (b'{"source": "' + b"x" * 600 + b'", "rows": []}', "source"),
    ],
)
def test_hostile_json_bodies_are_422(client, headers, content, fragment):
    make_round(client, headers, "T-EDGE-JSON")
    response = post_json(client, headers, "T-EDGE-JSON", content)
    assert response.status_code == 422, response.text
    assert fragment in response.text and "Traceback" not in response.text


def test_nul_characters_in_rows_are_reported_by_row_and_column(client, headers):
    make_round(client, headers, "T-EDGE-NUL")
    content = (
        b'{"source": "x", "rows": [{"pcode": "LY010102", "population_type": "idp", '
        b'"individuals": 5}, {"pcode": "LY01\\u00000102", "population_type": "idp", '
        b'"individuals": 5}]}'
    )
    response = post_json(client, headers, "T-EDGE-NUL", content)
    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["errors"] if "NUL" in e["message"]]
    assert (error["row"], error["column"]) == (2, "pcode")
    title = client.put(
        "/api/v1/rounds/T-EDGE-NUL",
        json={"kind": "mobility_tracking", "title": "a\x00b", "source": "x"},
        headers=headers,
    )
    assert title.status_code == 422 and "title" in title.text


@pytest.mark.parametrize(
    ("csv_text", "fragment"),
    [
        ("pcode,pcode,population_type,individuals\nLY010102,LY010102,idp,5\n", "more than once"),
        ("pcode,population_type,individuals\nLY010102,idp," + "9" * 200_000 + "\n", "CSV line"),
        ("p" * 140_000 + ",population_type,individuals\nLY010102,idp,5\n", "CSV header"),
    ],
)
def test_malformed_csv_is_422(client, headers, csv_text, fragment):
    make_round(client, headers, "T-EDGE-CSV")
    response = client.post(
        "/api/v1/rounds/T-EDGE-CSV/files",
        content=csv_text.encode(),
        params={"source": "x"},
        headers={**headers, "Content-Type": "Text/CSV"},
    )
    assert response.status_code == 422, response.text
    assert fragment in response.text


def test_round_dates_and_if_match_star(client, headers):
    late = client.put(
        "/api/v1/rounds/T-EDGE-DATES",
        json={
            "kind": "mobility_tracking",
            "title": "t",
            "source": "x",
            "collection_start": "2025-03-01",
            "reporting_date": "2025-01-31",
        },
        headers=headers,
    )
    assert late.status_code == 422 and late.json()["errors"][0]["parameter"] == "reporting_date"
    absent = client.put(
        "/api/v1/rounds/T-EDGE-STAR",
        json={"kind": "mobility_tracking", "title": "t", "source": "x"},
        headers={**headers, "If-Match": "*"},
    )
    assert absent.status_code == 412


def test_concurrent_new_rounds_claiming_one_number_never_500(client, headers):
    answers = []

    def create(i):
        answers.append(
            client.put(
                f"/api/v1/rounds/T-EDGE-NUM{i}",
                json={"kind": "mobility_tracking", "number": 9876, "title": "t", "source": "x"},
                headers=headers,
            ).status_code
        )

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201, 422, 422, 422]


def test_dtm_compat_refuses_superscript_digits(client):
    answer = client.get(
        "/v3/displacement/admin2", params={"Admin0Pcode": "LBY", "FromRoundNumber": "²"}
    )
    assert answer.status_code < 500 and answer.json()["isSuccess"] is False


# Derna's IDPs stored by reason only: 30 + 20 = 50 in all
DERNA_BY_REASON = [
    {"pcode": "LY010102", "population_type": "idp", "reason": reason, "individuals": n}
    for reason, n in (("conflict", 30), ("natural_hazard", 20))
]


def post_with_derna_by_reason(client, headers, code, others: list[dict]) -> None:
    make_round(client, headers, code)
    posted = client.post(
        f"/api/v1/rounds/{code}/observations",
        json={"source": "test", "rows": others + DERNA_BY_REASON},
        headers=headers,
    )
    assert posted.status_code == 200, posted.text


def test_maps_total_areas_whose_figures_come_by_reason(client, headers):
    others = [{"pcode": "LY010101", "population_type": "idp", "individuals": 51}]
    post_with_derna_by_reason(client, headers, "T-EDGE-WHY", others)
    mantikas = client.get(
        "/api/v1/stats",
        params={"level": 1, "round": "T-EDGE-WHY", "format": "geojson", "pcode": "LY0101"},
    ).json()
    [derna] = [f for f in mantikas["features"] if f["properties"]["pcode"] == "LY0101"]
    assert derna["properties"]["idps"] == 101
    layer = client.get("/ogc/collections/stats-admin1/items", params={"round": "T-EDGE-WHY"}).json()
    [feature] = [f for f in layer["features"] if f["properties"]["pcode"] == "LY0101"]
    assert feature["properties"]["idps"] == 101
    by_reason = client.get(
        "/api/v1/stats", params={"level": 1, "round": "T-EDGE-WHY", "reason": "Conflict"}
    ).json()["data"]
    assert [r["individuals"] for r in by_reason] == [30]
    bad = client.get("/api/v1/stats", params={"reason": "war"})
    assert bad.status_code == 422 and "reason" in bad.text


def test_hotspots_and_baladiya_maps_total_figures_by_reason(client, headers, engine):
    with engine.connect() as conn:
        others = conn.execute(
            text(
                "SELECT pcode FROM admin_areas WHERE level = 2 AND pcode <> 'LY010102' "
                "AND ancestry[1] = 'LBY' "
                "ORDER BY pcode LIMIT 11"
            )
        ).scalars()
        rows = [
            {"pcode": p, "population_type": "idp", "individuals": 10 + i}
            for i, p in enumerate(others)
        ]
    post_with_derna_by_reason(client, headers, "T-EDGE-WHY2", rows)
    body = client.get(
        "/api/v1/hotspots",
        params={"round": "T-EDGE-WHY2", "population_type": "idp", "level": 2, "k": 3},
    ).json()
    values = {u["pcode"]: u["value"] for u in body["data"]}
    assert len(values) == 12 and values["LY010102"] == 50
    baladiyas = client.get(
        "/api/v1/stats",
        params={"level": 2, "round": "T-EDGE-WHY2", "format": "geojson", "pcode": "LY010102"},
    ).json()
    [derna] = baladiyas["features"]
    assert derna["properties"]["idps"] == 50


def test_workbook_errors_name_the_sheet_and_column(client, headers):
    make_round(client, headers, "T-EDGE-CELL")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Baladiyas"
    sheet.append(["DTM Libya IDP and returnee baseline"])
    sheet.append(["Baladiya PCode", "IDPs (IND)", "IDPs (HH)", "Returnees (IND)"])
    sheet.append(["LY010102", "many", 10, -5])
    sheet.append(["LY999999", 10, 2, 30])
    sheet.append(["LY010304", 40, 8, None])  # no returnee figure on this row: not an error
    buffer = io.BytesIO()
    book.save(buffer)
    response = client.post(
        "/api/v1/rounds/T-EDGE-CELL/files",
        content=buffer.getvalue(),
        params={"source": "test"},
        headers={**headers, "Content-Type": XLSX},
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    cells = {(e["row"], e.get("cell"), e["message"].split(";")[0]) for e in errors}
    assert cells == {
        (3, "sheet 'Baladiyas', column 'IDPs (IND)'", "is not a number"),
        (3, "sheet 'Baladiyas', column 'Returnees (IND)'", "must not be negative"),
        (4, "sheet 'Baladiyas', column 'Baladiya PCode'", "unknown pcode"),
    }
    assert response.json()["total_errors"] == 3


def test_a_bad_nationality_count_is_one_error_at_its_cell(client, headers):
    make_round(client, headers, "T-EDGE-NAT", number=9055)
    book = openpyxl.load_workbook(io.BytesIO(migrant_workbook(9055)))
    nationalities = book[dtm_r54.NATIONALITY_SHEET]
    nationalities.append(["LY01010202", "Egypt", "²"])  # same baladiya and nationality
    buffer = io.BytesIO()
    book.save(buffer)
    response = client.post(
        "/api/v1/rounds/T-EDGE-NAT/files",
        content=buffer.getvalue(),
        params={"source": "test"},
        headers={**headers, "Content-Type": XLSX},
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["row"] == 4 and error["message"] == "is not a number"
    assert error["cell"] == "sheet 'Nationalities', column 'Migrant Individuals'"


def test_round_dates_are_dates_not_numbers(client, headers):
    """A number is not a date (pydantic would read 0 as 1970-01-01): 422 naming the field,
    before any precondition is looked at."""
    response = client.put(
        "/api/v1/rounds/T-DATES",
        json={"kind": "mobility_tracking", "title": "t", "source": "s", "collection_start": 0},
        headers={**headers, "If-Match": '"round-T-DATES-r9"'},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "collection_start"
