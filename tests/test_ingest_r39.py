"""The ingest endpoints take the IDP and returnee baseline workbook as DTM Libya publishes
it (Round 39's layout): a later round in the same format just works; bad input is a 422
naming sheet, row and column, and nothing is written."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import text

from app.auth import create_key
from app.db import session_scope
from app.loaders import dtm_r39
from tests.test_ingest import XLSX, auth, make_round

pytestmark = pytest.mark.usefixtures("scratch_rounds")


@pytest.fixture(scope="module")
def keys(db_url, first_load):
    with session_scope(db_url) as session:
        return {"ingest": create_key(session, "test-r39-ingest", ["ingest"])}


@pytest.fixture(scope="module")
def published(data_dir) -> list[list]:
    book = openpyxl.load_workbook(data_dir / dtm_r39.FILE, read_only=True, data_only=True)
    rows = [list(r) for r in book[dtm_r39.SHEET].iter_rows(values_only=True)]
    book.close()
    return [r for r in rows if any(c is not None for c in r)]


def _workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = dtm_r39.SHEET
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _as_round(rows: list[list], number: int) -> list[list]:
    at = rows[0].index("AssessmentRound")
    return [rows[0], rows[1], *([*r[:at], number, *r[at + 1 :]] for r in rows[2:])]


def _post(client, keys, code, raw, **params):
    return client.post(
        f"/api/v1/rounds/{code}/files",
        content=raw,
        params={"source": "IOM DTM Libya (test)", **params},
        headers=auth(keys, **{"Content-Type": XLSX}),
    )


def _stored(engine, code) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM observations o JOIN rounds r ON r.id = o.round_id "
                "WHERE r.code = :c"
            ),
            {"c": code},
        ).scalar()


def test_the_published_workbook_dry_runs_against_round_39(client, keys, data_dir):
    raw = (data_dir / dtm_r39.FILE).read_bytes()
    response = _post(
        client,
        keys,
        "R39",
        raw,
        dry_run="true",
        source=dtm_r39.SOURCE,
        source_url=dtm_r39.SOURCE_URL,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"], report
    assert report["rows"] == 1326, report
    assert report["unchanged"] == 1326, report  # the same figures as the default data


def test_a_later_round_in_the_same_layout_just_works(client, keys, engine, published):
    make_round(client, keys, "T-R9040", number=9040)
    raw = _workbook(_as_round(published, 9040))
    response = _post(client, keys, "T-R9040", raw)
    assert response.status_code == 200, response.text
    assert _stored(engine, "T-R9040") == 1326
    totals = client.get("/api/v1/stats?level=0&round=T-R9040").json()["data"]
    assert {r["population_type"]: r["individuals"] for r in totals} == {
        "idp": 179_047,
        "returnee": 661_892,
    }
    muhallas = client.get(
        "/api/v1/stats?level=3&round=T-R9040&population_type=idp&limit=1000"
    ).json()
    assert muhallas["meta"]["total"] == 663


def _negative(rows):
    rows[5][rows[0].index("Returnee Indiv")] = -5
    return 6, "Returnee Indiv"


def _fraction(rows):
    rows[6][rows[0].index("Returnee HH")] = 2.5
    return 7, "Returnee HH"


def _renamed(rows):
    rows[0][rows[0].index("IDP HH")] = "IDP Households"
    return 1, "IDP HH"


def _missing(rows):
    at = rows[0].index("Returnee Indiv")
    for r in rows:
        del r[at]
    return 1, "Returnee Indiv"


def _households_above_individuals(rows):
    hh, ind = rows[0].index("IDP HH"), rows[0].index("IDP Indiv")
    row = next(i for i, r in enumerate(rows[2:], start=2) if r[ind])
    rows[row][hh] = rows[row][ind] + 1
    return row + 1, "IDP HH"


def _duplicate(rows):
    at = rows[0].index("Muhalla_pcode")
    rows[9][at] = rows[8][at]
    return 10, "Muhalla_pcode"


def _wrong_baladiya(rows):
    # a Shahhat muhalla's pcode under Benghazi's name
    at, name = rows[0].index("Muhalla_pcode"), rows[0].index("ADM3_Baladiya_EN")
    assert str(rows[2][at]).startswith("LY010601")
    rows[2][name] = "Benghazi"
    return 3, "Muhalla_pcode"


@pytest.mark.parametrize(
    "spoil",
    [
        _negative,
        _fraction,
        _renamed,
        _missing,
        _households_above_individuals,
        _duplicate,
        _wrong_baladiya,
    ],
)
def test_bad_workbooks_are_422_naming_sheet_row_and_column(
    client,
    keys,
    engine,
    published,
    spoil,
):
    make_round(client, keys, "T-R9041", number=9041)
    rows = [list(r) for r in _as_round(published, 9041)]
    row, column = spoil(rows)
    response = _post(client, keys, "T-R9041", _workbook(rows))
    assert response.status_code == 422, response.text
    detail = response.text
    assert f"sheet '{dtm_r39.SHEET}', row {row}, column '{column}'" in detail, detail
    assert _stored(engine, "T-R9041") == 0


def test_the_command_line_says_what_is_wrong_in_one_line(tmp_path, published, db_url):
    from tests.test_cli import assert_one_line_error, run_cli

    rows = [list(r) for r in published]
    rows[4][rows[0].index("IDP Indiv")] = "many"
    path = tmp_path / "r39.xlsx"
    path.write_bytes(_workbook(rows))
    result = run_cli("import", str(path), "--round", "R39", "--dry-run", DATABASE_URL=db_url)
    assert_one_line_error(result, f"sheet '{dtm_r39.SHEET}', row 5, column 'IDP Indiv'")


def test_iraqs_master_list_dry_runs_against_round_123(client, keys, data_dir):
    """The same upload takes DTM Iraq's Master List: its locations' figures unchanged."""
    from app.loaders import iraq_master_list

    raw = (data_dir / iraq_master_list.FILE).read_bytes()
    response = _post(
        client,
        keys,
        iraq_master_list.ROUND_CODE,
        raw,
        dry_run="true",
        source=f"{iraq_master_list.SOURCE}, sheet '{iraq_master_list.SHEET}'",
        source_url=iraq_master_list.SOURCE_URL,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["unchanged"]) == (2842, 2842), report


def test_a_master_list_row_of_an_unknown_location_is_a_422_naming_the_cell(client, keys):
    from app.loaders import iraq_master_list

    header = [k for k in iraq_master_list.COLUMNS]
    row = {"Place id": 99999999, "Governorate": "Anbar", "District": "Falluja"}
    row |= {"Households": 3, "Individuals": 12, "Latitude": 33.3, "Longitude": 43.8}
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = iraq_master_list.SHEET
    sheet.append(header)
    sheet.append([row.get(h, "x") for h in header])
    buffer = io.BytesIO()
    book.save(buffer)
    response = _post(client, keys, iraq_master_list.ROUND_CODE, buffer.getvalue(), dry_run="true")
    assert response.status_code == 422, response.text
    [problem] = response.json()["errors"]
    assert problem["cell"] == "sheet 'DTM Dataset', column 'Place id'", problem
    assert problem["value"] == "IQL99999999" and "unknown pcode" in problem["message"]
