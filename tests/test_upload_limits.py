"""No upload can take a worker down: workbooks are bounded before they are parsed, a
refused submission lists a bounded number of problems, and a CSV row is never cut."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.auth import create_key
from app.db import session_scope
from app.ingest.limits import WorkbookLimits, WorkbookTooLarge, check_workbook
from app.main import create_app
from app.settings import Settings
from tests.zipbomb import bomb, workbook

pytestmark = pytest.mark.usefixtures("scratch_rounds")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT = WorkbookLimits.from_settings(Settings())


@pytest.fixture(scope="module")
def key(db_url, first_load):
    with session_scope(db_url) as session:
        return create_key(session, "limits-ingest", ["ingest"])


@pytest.fixture(scope="module")
def target(client, key):
    response = client.put(
        "/api/v1/rounds/T-LIM",
        json={"kind": "mobility_tracking", "title": "limits", "source": "test"},
        headers={"X-API-Key": key},
    )
    assert response.status_code in (200, 201), response.text
    return "T-LIM"


def upload(client, key, code, body: bytes, kind: str = XLSX):
    return client.post(
        f"/api/v1/rounds/{code}/files",
        params={"source": "test"},
        content=body,
        headers={"X-API-Key": key, "Content-Type": kind},
    )


def stored(engine, code) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM observations o JOIN rounds r ON r.id = o.round_id "
                "WHERE r.code = :c"
            ),
            {"c": code},
        ).scalar_one()


def test_a_zip_bomb_is_refused_unread(client, key, target, engine):
    payload = bomb(2_300_000)
    assert 2_000_000 < len(payload) < 2_600_000
    started = time.perf_counter()
    response = upload(client, key, target, payload)
    seconds = time.perf_counter() - started
    assert response.status_code == 413, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert "xl/worksheets/sheet1.xml" in detail and "XLSX_MAX_MEMBER_BYTES" in detail
    assert seconds < 30  # it was not inflated (the number is not a benchmark: a sanity bound)
    assert stored(engine, target) == 0


def test_each_limit_names_its_setting():
    small = workbook(5)
    check_workbook(small, DEFAULT)  # a normal workbook passes
    cases = [
        ({"member_bytes": 2000}, small, "XLSX_MAX_MEMBER_BYTES"),
        ({"total_bytes": 4000}, small, "XLSX_MAX_TOTAL_BYTES"),
        ({"ratio": 5}, workbook(30_000), "XLSX_MAX_RATIO"),
        ({"rows": 50}, workbook(100), "XLSX_MAX_ROWS"),
        ({"columns": 20}, workbook(3, columns=40), "XLSX_MAX_COLUMNS"),
        ({}, workbook(3, dimension="A1:C2000000"), "XLSX_MAX_ROWS"),  # declared extent
        ({}, workbook(3, dimension="A1:XFE3"), "XLSX_MAX_COLUMNS"),
    ]
    for changes, data, setting in cases:
        limits = WorkbookLimits(**{**DEFAULT.__dict__, **changes})
        with pytest.raises(WorkbookTooLarge, match=setting):
            check_workbook(data, limits)


def test_rows_and_columns_are_counted_while_streaming_even_under_a_false_dimension():
    # the sheet claims one row, holds 100: the streamed count decides
    lying = workbook(100, dimension="A1:C1")
    limits = WorkbookLimits(**{**DEFAULT.__dict__, "rows": 50})
    with pytest.raises(WorkbookTooLarge, match="XLSX_MAX_ROWS"):
        check_workbook(lying, limits)
    check_workbook(workbook(40), limits)


def test_the_api_applies_the_configured_limits(db_url, key, target, engine):
    settings = Settings(database_url=db_url, data_version_ttl=0, xlsx_max_rows=50)
    with TestClient(create_app(settings)) as limited:
        response = upload(limited, key, target, workbook(100))
        assert response.status_code == 413 and "XLSX_MAX_ROWS" in response.json()["detail"]
        fine = upload(limited, key, target, workbook(1))
        assert fine.status_code == 200, fine.text
    assert stored(engine, target) == 1


def test_a_refused_csv_lists_the_first_1000_problems_and_counts_them_all(
    client, key, target, engine
):
    lines = ["pcode,population_type,individuals"]
    lines += [f"LY9{n:05d},idp,1" for n in range(1500)]  # found by the staging checks
    lines += [f"LY010102,id\x00p,{n}" for n in range(1500)]  # found while reading, too
    response = upload(client, key, target, ("\r\n".join(lines) + "\r\n").encode(), "text/csv")
    assert response.status_code == 422, response.text[:300]
    body = response.json()
    # 1500 unknown pcodes; 1500 NUL characters, each cell then empty (not a population
    # type), and 1499 of those rows duplicating the first one's key
    assert body["total_errors"] == 1500 + 1500 + 1500 + 1499
    assert body["listed_errors"] == len(body["errors"]) == 1000
    assert [e["row"] for e in body["errors"]] == sorted(e["row"] for e in body["errors"])
    counts = {(c["column"], c["message"]): c["count"] for c in body["error_counts"]}
    assert counts[("pcode", "unknown pcode")] == 1500
    assert counts[("population_type", "must not contain a NUL character")] == 1500
    assert counts[("row", "duplicates the key of row N")] == 1499
    assert sum(counts.values()) == body["total_errors"]
    assert len(response.content) < 400_000
    assert stored(engine, target) == 1


def test_refused_json_rows_are_bounded_too(client, key, target):
    rows = [{"pcode": "LY999999", "population_type": "idp", "individuals": 1}] * 2500
    response = client.post(
        f"/api/v1/rounds/{target}/observations",
        json={"source": "test", "rows": rows},
        headers={"X-API-Key": key},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["total_errors"] == 2500 + 2499  # unknown pcode, and duplicates of row 1
    assert len(body["errors"]) == 1000
    counts = {(c["column"], c["message"]): c["count"] for c in body["error_counts"]}
    assert counts[("pcode", "unknown pcode")] == 2500
    assert counts[("row", "duplicates the key of row N")] == 2499


def test_a_csv_row_with_more_cells_than_its_header_is_refused(client, key, target, engine):
    body = b"pcode,population_type,individuals\r\nLY010102,idp,5\r\nLY010101,idp,1,200\r\n"
    response = upload(client, key, target, body, "text/csv")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "line 3" in detail and "4 cells" in detail and "3 columns" in detail
    # empty cells past the header (a spreadsheet's trailing commas) lose nothing: taken
    trailing = b"pcode,population_type,individuals\r\nLY010102,idp,6,,\r\n"
    assert upload(client, key, target, trailing, "text/csv").status_code == 200
