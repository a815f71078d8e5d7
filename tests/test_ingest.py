"""Posting round data: keys, validation, dry runs, replace, idempotency, concurrency, audit."""

from __future__ import annotations

import io
import threading

import openpyxl
import pytest
from sqlalchemy import text

from app.auth import create_key, revoke_key
from app.db import session_scope
from app.ingest import service
from app.ingest.pipeline import Submission
from app.ingest.specs import SPECS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

pytestmark = pytest.mark.usefixtures("scratch_rounds")


@pytest.fixture(scope="module")
def keys(db_url, first_load):
    with session_scope(db_url) as session:
        made = {
            name: create_key(session, f"test-{name}", scopes)
            for name, scopes in (
                ("ingest", ["ingest"]),
                ("admin", ["admin"]),
                ("read", ["read"]),
                ("revoked", ["ingest"]),
            )
        }
        revoke_key(session, "test-revoked")
    return made


def auth(keys, who="ingest", **extra):
    return {"X-API-Key": keys[who], **extra}


def make_round(client, keys, code, number=None):
    body = {
        "kind": "mobility_tracking",
        "number": number,
        "title": f"test {code}",
        "collection_start": "2025-01-01",
        "collection_end": "2025-01-31",
        "reporting_date": "2025-01-31",
        "source": "IOM DTM Libya",
    }
    response = client.put(f"/api/v1/rounds/{code}", json=body, headers=auth(keys))
    assert response.status_code in (200, 201), response.text
    return response


def post(client, keys, code, rows, who="ingest", params=None, headers=None, **body):
    payload = {"source": "IOM DTM Libya (test)", "rows": rows, **body}
    return client.post(
        f"/api/v1/rounds/{code}/observations",
        json=payload,
        params=params or {},
        headers={**auth(keys, who), **(headers or {})},
    )


def stored(engine, code):
    with engine.connect() as conn:
        return conn.execute(
            text("""
            SELECT o.pcode, o.population_type, o.individuals, o.households, o.quality
            FROM observations o JOIN rounds r ON r.id = o.round_id WHERE r.code = :c
            ORDER BY 1, 2"""),
            {"c": code},
        ).all()


ROWS = [
    {"pcode": "LY010102", "population_type": "idp", "individuals": 1200, "households": 240},
    {"pcode": "LY010304", "population_type": "idp", "individuals": 800},
    {"name": "بنغازي", "level": 2, "population_type": "returnee", "individuals": 50},
]


# --- keys and roles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "fragment"),
    [
        ({}, 401, "X-API-Key"),
        ({"X-API-Key": "nonsense"}, 401, "valid API key"),
        ({"X-API-Key": "dtmgeo_000000000000_forged"}, 401, "valid API key"),
    ],
)
def test_writes_need_a_valid_key(client, headers, status, fragment):
    response = client.put("/api/v1/rounds/T-NOKEY", json={}, headers=headers)
    assert response.status_code == status and fragment in response.json()["detail"]


def test_revoked_and_read_only_keys_are_refused(client, keys):
    assert post(client, keys, "R54", ROWS, who="revoked").status_code == 401
    response = post(client, keys, "R54", ROWS, who="read")
    assert response.status_code == 403 and "'ingest' scope" in response.json()["detail"]


def test_dtm_header_is_accepted_and_replace_or_delete_needs_admin(client, keys):
    make_round(client, keys, "T-ROLE")
    response = client.post(
        "/api/v1/rounds/T-ROLE/observations",
        json={"source": "s", "rows": ROWS},
        headers={"Ocp-Apim-Subscription-Key": keys["ingest"]},
    )
    assert response.status_code == 200, response.text
    assert post(client, keys, "T-ROLE", ROWS, params={"mode": "replace"}).status_code == 403
    assert client.delete("/api/v1/rounds/T-ROLE", headers=auth(keys)).status_code == 403


# --- posting -----------------------------------------------------------------------------


def test_post_then_retry_is_unchanged(client, keys, engine):
    make_round(client, keys, "T-POST")
    first = post(client, keys, "T-POST", ROWS).json()
    assert (first["inserted"], first["updated"], first["unchanged"]) == (3, 0, 0)
    assert stored(engine, "T-POST") == [
        ("LY010102", "idp", 1200, 240, "published"),
        ("LY010304", "idp", 800, None, "published"),
        ("LY010304", "returnee", 50, None, "published"),
    ]
    again = post(client, keys, "T-POST", ROWS).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert again["round_revision"] == first["round_revision"]
    figures = client.get("/api/v1/stats", params={"level": 0, "round": "T-POST"}).json()
    assert {(r["population_type"], r["individuals"]) for r in figures["data"]} == {
        ("idp", 2000),
        ("returnee", 50),
    }


def test_every_problem_is_reported_at_once_and_nothing_is_written(client, keys, engine):
    make_round(client, keys, "T-BAD")
    rows = [
        {"pcode": "LY010102", "population_type": "idp", "individuals": 10},
        {"pcode": "LY019999", "population_type": "idp", "individuals": 5},
        {"pcode": "LY0101", "level": 2, "population_type": "idp", "individuals": 5},
        {"pcode": "LY010103", "population_type": "refugee", "individuals": -1},
        {"pcode": "LY010104", "population_type": "idp", "individuals": 2.5},
        {"pcode": "LY010105", "population_type": "idp", "individuals": "many"},
        {"pcode": "LY010201", "population_type": "idp", "individuals": 10, "households": 11},
        {
            "pcode": "LY010202",
            "population_type": "idp",
            "individuals": 10,
            "males": 6,
            "females": 6,
        },
        {"pcode": "LY010102", "population_type": "idp", "individuals": 3},
        {"pcode": "LY010203", "population_type": "idp", "individuals": 1, "round": "R54"},
        {"pcode": "LY010301", "population_type": "idp", "individuals": 1, "reason": "boredom"},
        {"name": "Benghazy Town", "population_type": "idp", "individuals": 1},
    ]
    response = post(client, keys, "T-BAD", rows)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Unprocessable Entity"
    found = {(e["row"], e["column"]): e["message"] for e in response.json()["errors"]}
    assert "unknown pcode" in found[(2, "pcode")]
    assert "expected level 2" in found[(3, "pcode")]
    assert "expected one of idp" in found[(4, "population_type")]
    assert found[(4, "individuals")] == "must not be negative"
    assert found[(5, "individuals")] == "must be a whole number"
    assert found[(6, "individuals")] == "is not a number"
    assert "more than individuals" in found[(7, "households")]
    assert "males plus females" in found[(8, "males")]
    assert found[(9, "row")] == "duplicates the key of row 1"
    assert "differs from the target round" in found[(10, "round")]
    assert "expected one of conflict" in found[(11, "reason")]
    assert "no area is named" in found[(12, "name")]
    assert response.json()["total_errors"] == len(found)
    assert stored(engine, "T-BAD") == []


def test_unknown_pcode_suggests_close_areas(client, keys):
    make_round(client, keys, "T-SUGGEST")
    response = post(
        client,
        keys,
        "T-SUGGEST",
        [{"pcode": "LY010120", "population_type": "idp", "individuals": 1}],
    )
    assert "did you mean" in response.json()["errors"][0]["message"]


def test_dry_run_reports_and_writes_nothing(client, keys, engine):
    make_round(client, keys, "T-DRY")
    post(client, keys, "T-DRY", ROWS[:1])
    changed = [{**ROWS[0], "individuals": 1300}, ROWS[1]]
    report = post(client, keys, "T-DRY", changed, params={"dry_run": "true"}).json()
    assert report["dry_run"] is True and (report["inserted"], report["updated"]) == (1, 1)
    [example] = report["examples"]["updated"]
    assert example["individuals"] == 1300 and example["before"]["individuals"] == 1200
    assert stored(engine, "T-DRY") == [("LY010102", "idp", 1200, 240, "published")]


def test_replace_removes_absent_rows_of_the_same_population_type(client, keys, engine):
    make_round(client, keys, "T-REPLACE")
    post(client, keys, "T-REPLACE", ROWS)
    report = post(
        client, keys, "T-REPLACE", [ROWS[0]], who="admin", params={"mode": "replace"}
    ).json()
    assert (report["unchanged"], report["removed"]) == (1, 1)
    assert report["examples"]["removed"][0]["pcode"] == "LY010304"
    # the returnee row is another population type: untouched by an IDP resubmission
    assert [r[:2] for r in stored(engine, "T-REPLACE")] == [
        ("LY010102", "idp"),
        ("LY010304", "returnee"),
    ]


def test_modelled_figures_stay_labelled(client, keys, engine):
    make_round(client, keys, "T-MODEL")
    post(client, keys, "T-MODEL", ROWS[:1], quality="modelled")
    assert stored(engine, "T-MODEL")[0][-1] == "modelled"
    assert client.get("/api/v1/stats", params={"round": "T-MODEL"}).json()["data"] == []


def test_idempotency_key_returns_the_first_answer(client, keys, engine):
    make_round(client, keys, "T-IDEM")
    headers = {"Idempotency-Key": "upload-42"}
    first = post(client, keys, "T-IDEM", ROWS, headers=headers)
    retry = post(client, keys, "T-IDEM", ROWS, headers=headers)
    assert retry.json() == first.json() and retry.json()["inserted"] == 3
    # The same key for a different request is refused, not answered with the first result.
    changed = [{**ROWS[0], "individuals": 1}]
    reused = post(client, keys, "T-IDEM", changed, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["parameter"] == "Idempotency-Key"
    assert reused.json()["errors"][0]["in"] == "header"
    assert stored(engine, "T-IDEM")[0][2] == 1200  # nothing was written


def test_idempotency_key_covers_a_files_parameters(client, keys, engine):
    make_round(client, keys, "T-IDEM-FILE")
    body = b"pcode,population_type,individuals\nLY010102,idp,100\n"

    def upload(quality, dry_run=False):
        return client.post(
            "/api/v1/rounds/T-IDEM-FILE/files",
            content=body,
            params={"source": "test csv", "quality": quality, "dry_run": dry_run},
            headers=auth(keys, **{"Content-Type": "text/csv", "Idempotency-Key": "file-7"}),
        )

    assert upload("synthetic").status_code == 200
    assert upload("synthetic").json()["unchanged"] == 0  # the first answer, replayed
    for quality, dry_run in (("published", False), ("synthetic", True)):
        reused = upload(quality, dry_run)
        assert reused.status_code == 422, reused.text
        assert reused.json()["errors"][0]["parameter"] == "Idempotency-Key"
    assert stored(engine, "T-IDEM-FILE")[0][-1] == "synthetic"


def test_if_match_refuses_a_stale_round(client, keys):
    etag = make_round(client, keys, "T-MATCH").headers["etag"]
    assert client.get("/api/v1/rounds/T-MATCH").headers["etag"] == etag
    assert post(client, keys, "T-MATCH", ROWS, headers={"If-Match": etag}).status_code == 200
    stale = post(client, keys, "T-MATCH", [ROWS[0]], headers={"If-Match": etag})
    assert stale.status_code == 412 and "revision" in stale.json()["detail"]


def test_concurrent_submissions_to_one_round_lose_nothing(client, keys, db_url, engine):
    make_round(client, keys, "T-RACE")
    from app.db import get_sessionmaker

    def submit(pcode: str):
        sub = Submission(
            spec=SPECS["observations"],
            round_code="T-RACE",
            source="race",
            payload_sha256=pcode,
            rows=[{"line": 1, "pcode": pcode, "population_type": "idp", "individuals": "7"}],
        )
        results.append(service.submit(get_sessionmaker(db_url), [sub]))

    results: list = []
    pcodes = ["LY010101", "LY010102", "LY010103", "LY010104", "LY010105", "LY010201"]
    threads = [threading.Thread(target=submit, args=(p,)) for p in pcodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in results] == [200] * 6
    assert [r[0] for r in stored(engine, "T-RACE")] == pcodes
    revisions = sorted(body["round_revision"] for _, body in results)
    assert revisions == list(range(revisions[0], revisions[0] + 6))  # one after the other


# --- bodies and files --------------------------------------------------------------------


def test_wrong_content_type_and_too_large_bodies(client, keys, db_url):
    make_round(client, keys, "T-BODY")
    response = client.post(
        "/api/v1/rounds/T-BODY/observations",
        content=b"x",
        headers=auth(keys, **{"Content-Type": "text/plain"}),
    )
    assert response.status_code == 415
    big = b"[" + b" " * (51 * 1024 * 1024) + b"]"
    response = client.post(
        "/api/v1/rounds/T-BODY/observations",
        content=big,
        headers=auth(keys, **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 413
    bad = client.post(
        "/api/v1/rounds/T-BODY/observations",
        content=b"{not json",
        headers=auth(keys, **{"Content-Type": "application/json"}),
    )
    assert bad.status_code == 422 and "not valid JSON" in bad.json()["detail"]


def test_long_csv_with_hxl_row(client, keys, engine):
    make_round(client, keys, "T-CSV", number=9001)
    body = (
        b"round,pcode,population_type,individuals,households\n"
        b"#round+code,#adm2+code,#population+type,#affected+ind,#affected+hh\n"
        b"9001,LY010102,idp,100,20\nT-CSV,LY021104,returnee,300,\n"
    )
    response = client.post(
        "/api/v1/rounds/T-CSV/files",
        content=body,
        params={"source": "test csv"},
        headers=auth(keys, **{"Content-Type": "text/csv"}),
    )
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 2
    assert stored(engine, "T-CSV")[1] == ("LY021104", "returnee", 300, None, "published")


def test_the_round_54_workbook_uploads_migrants_and_nationalities(client, keys, data_dir, engine):
    make_round(client, keys, "T-R54", number=None)
    raw = (
        data_dir / "dtm_libya_r54_migrants/DTM_Libya_R54_Migrant_Dataset_PUBLIC.xlsx"
    ).read_bytes()
    # the workbook says round 54: posting it to another round is refused, row by row
    refused = client.post(
        "/api/v1/rounds/T-R54/files",
        content=raw,
        params={"source": "x"},
        headers=auth(keys, **{"Content-Type": XLSX}),
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["column"] == "round"
    report = client.post(
        "/api/v1/rounds/R54/files",
        content=raw,
        params={
            "source": "IOM DTM Libya, Migrants Baseline Assessment Round 54 (public dataset)",
            "dry_run": "true",
        },
        headers=auth(keys, **{"Content-Type": XLSX}),
    ).json()
    assert report["dry_run"] and [p["rows"] for p in report["parts"]] == [100, 955]


def test_idp_returnee_workbook_layout(client, keys, engine):
    make_round(client, keys, "T-XLSX")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DTM Libya IDP and returnee baseline"])
    sheet.append(
        [
            "ADM 3 Baladiya (EN)",
            "Baladiya PCode",
            "IDPs (IND)",
            "IDPs (HH)",
            "Returnees (IND)",
            "Returnees (HH)",
        ]
    )
    sheet.append(["Derna", "LY010102", 500, 100, 2000, 400])
    sheet.append(["Benghazi", "LY010304", 700, 140, 9000, 1800])
    buffer = io.BytesIO()
    book.save(buffer)
    response = client.post(
        "/api/v1/rounds/T-XLSX/files",
        content=buffer.getvalue(),
        params={"source": "test"},
        headers=auth(keys, **{"Content-Type": XLSX}),
    )
    assert response.status_code == 200, response.text
    assert len(stored(engine, "T-XLSX")) == 4


def test_unreadable_or_misshapen_files_are_422_saying_what_was_expected(client, keys):
    make_round(client, keys, "T-FILES")
    garbage = client.post(
        "/api/v1/rounds/T-FILES/files",
        content=b"PK\x03\x04garbage",
        params={"source": "x"},
        headers=auth(keys, **{"Content-Type": XLSX}),
    )
    assert garbage.status_code == 422 and "XLSX" in garbage.json()["detail"]
    book = openpyxl.Workbook()
    book.active.append(["Something", "Else"])
    buffer = io.BytesIO()
    book.save(buffer)
    wrong = client.post(
        "/api/v1/rounds/T-FILES/files",
        content=buffer.getvalue(),
        params={"source": "x"},
        headers=auth(keys, **{"Content-Type": XLSX}),
    )
    assert wrong.status_code == 422 and "Baladiya PCode" in wrong.json()["detail"]
    no_column = client.post(
        "/api/v1/rounds/T-FILES/files",
        content=b"pcode,individuals\n",
        params={"source": "x"},
        headers=auth(keys, **{"Content-Type": "text/csv"}),
    )
    assert no_column.status_code == 422 and "population_type" in no_column.json()["detail"]


# --- rounds and audit --------------------------------------------------------------------


def test_round_metadata_validation(client, keys):
    bad = {
        "kind": "mobility_tracking",
        "title": "t",
        "source": "s",
        "collection_start": "2025-02-01",
        "collection_end": "2025-01-01",
    }
    response = client.put("/api/v1/rounds/T-META", json=bad, headers=auth(keys))
    assert response.status_code == 422 and "collection_end" in response.json()["detail"]
    clash = {"kind": "mobility_tracking", "title": "t", "source": "s", "number": 54}
    response = client.put("/api/v1/rounds/T-META", json=clash, headers=auth(keys))
    assert response.status_code == 422 and "R54" in response.json()["detail"]
    assert (
        client.put("/api/v1/rounds/T-META", json={"kind": "census"}, headers=auth(keys)).status_code
        == 422
    )


def test_history_keeps_previous_values_and_delete_needs_admin(client, keys):
    make_round(client, keys, "T-HIST")
    post(client, keys, "T-HIST", ROWS[:1])
    post(client, keys, "T-HIST", [{**ROWS[0], "individuals": 1500}])
    history = client.get("/api/v1/rounds/T-HIST/history").json()["data"]
    assert [h["dataset"] for h in history] == ["round", "observations", "observations"]
    assert all(len(h["payload_sha256"]) == 64 and h["key_name"] == "test-ingest" for h in history)
    detail = client.get(f"/api/v1/submissions/{history[-1]['submission_id']}").json()["data"]
    [previous] = detail["previous_values"]
    assert previous["change"] == "update" and previous["old_values"]["individuals"] == 1200
    deleted = client.delete("/api/v1/rounds/T-HIST", headers=auth(keys, "admin"))
    assert deleted.status_code == 200 and deleted.json()["removed"]["observations"] == 1
    assert client.get("/api/v1/rounds/T-HIST").status_code == 404
    assert len(client.get("/api/v1/rounds/T-HIST/history").json()["data"]) == 4


def test_posting_to_an_unknown_round_is_404(client, keys):
    response = post(client, keys, "T-NOWHERE", ROWS)
    assert (
        response.status_code == 404 and "PUT /api/v1/rounds/T-NOWHERE" in response.json()["detail"]
    )


def test_reads_can_require_a_key(db_url, keys):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url=db_url, read_key_required=True, data_version_ttl=0))
    with TestClient(app) as guarded:
        assert guarded.get("/healthz").status_code == 200
        for _ in range(2):  # the second read would come from the response cache
            assert guarded.get("/api/v1/rounds").status_code == 401
            assert guarded.get("/api/v1/rounds", headers=auth(keys, "read")).status_code == 200
        assert guarded.get("/api/v1/rounds", headers=auth(keys, "revoked")).status_code == 401
