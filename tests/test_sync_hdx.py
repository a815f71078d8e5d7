"""`dtm-geo sync hdx` against a CKAN on loopback (tests/upstreams.py) whose package records
are HDX's own (`hdx_package_*.json` in the data directory), trimmed to the resources the
tests serve: Libya's Round 39 workbook and Iraq's Master List Round 123 as published, a
Round 41 workbook in the IDP and returnee layout built from R39's figures, and a
workbook no reader knows. The copies in the data directory are not the byte size HDX's
records give, so the served records give the served files' sizes."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app import db
from app.main import create_app
from app.settings import Settings
from app.sync import run
from tests.conftest import _sibling, loaded_copy
from tests.upstreams import Fault, Upstream

LIBYA = "libya-baseline-assessment-data-iom-dtm"
IRAQ = "iraq-idps-data-iom-dtm"
R39_FILE = "dtm_libya_r39_idps_returnees/hdx_dtm-libya-r39-public-idps-returnees-dataset.xlsx"
R123_FILE = "iom_dtm_iraq_master_list/iom_dtm_dtm_iraq_idps_master_list_round_123.xlsx"


def _workbook(sheets: dict[str, list[list]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _r41(r39: list[dict], extra: int) -> bytes:
    """Round 41 per baladiya in the IDP and returnee layout: R39's IDPs plus `extra`."""
    rows = [["Baladiya PCode", "IDPs (IND)", "AssessmentRound"]]
    rows += [[r["pcode"], r["individuals"] + extra, 41] for r in r39]
    return _workbook({"Baladiya": rows})


def _package(data_dir, name: str, file: str) -> dict:
    return json.loads((data_dir / file.split("/")[0] / f"hdx_package_{name}.json").read_bytes())


def _resource(template: dict, base: str, served: str, data: bytes, **fields) -> dict:
    return {
        **template,
        "url": f"{base}/files/{served}",
        "size": len(data),
        "hash": "",
        **fields,
    }


@pytest.fixture(scope="module")
def r39_baladiyas(client) -> list[dict]:
    return client.get(
        "/api/v1/stats",
        params={"level": 2, "round": "R39", "population_type": "idp", "limit": 500},
    ).json()["data"]


@pytest.fixture(scope="module")
def upstream(data_dir, r39_baladiyas):
    up = Upstream()
    server = up.start()
    libya = _package(data_dir, LIBYA, R39_FILE)
    iraq = _package(data_dir, IRAQ, R123_FILE)
    r39, r38 = libya["resources"][0], libya["resources"][1]
    assert "Round 39" in r39["name"] and "Round 38" in r38["name"]
    up.files = {
        "r39.xlsx": (data_dir / R39_FILE).read_bytes(),
        "r41.xlsx": _r41(r39_baladiyas, 7),
        "r38.xlsx": _workbook({"Summary": [["Round 38 figures are summarised here"]]}),
        "r123.xlsx": (data_dir / R123_FILE).read_bytes(),
    }
    r41 = _resource(
        r39,
        up.base,
        "r41.xlsx",
        up.files["r41.xlsx"],
        id="00000000-0000-4000-8000-000000000041",
        name="DTM Libya Baseline Assessment Round 41",
        last_modified="2022-05-01T10:00:00.000000",
    )
    libya["resources"] = [
        r41,
        _resource(r39, up.base, "r39.xlsx", up.files["r39.xlsx"]),
        _resource(r38, up.base, "r38.xlsx", up.files["r38.xlsx"]),
        {**r38, "id": "csv-summary", "format": "CSV", "url": f"{up.base}/files/none.csv"},
    ]
    iraq["resources"] = [
        _resource(iraq["resources"][0], up.base, "r123.xlsx", up.files["r123.xlsx"])
    ]
    up.packages = {LIBYA: libya, IRAQ: iraq}
    yield up
    server.shutdown()


@pytest.fixture(scope="module")
def hdx_url(db_url, first_load):
    url = _sibling(db_url, "hdx")
    loaded_copy(db_url, url)
    yield url
    db.dispose_engines()
    db.drop_database(url)


@pytest.fixture(scope="module")
def reader(hdx_url):
    with TestClient(create_app(Settings(database_url=hdx_url, data_version_ttl=0))) as c:
        yield c


def _settings(url: str, upstream: Upstream, **extra) -> Settings:
    values = {
        "database_url": url,
        "hdx_url": upstream.base,
        "sync_backoff": 0.01,
        "sync_timeout": 2.0,
        "sync_attempts": 3,
        "data_version_ttl": 0,
        **extra,
    }
    return Settings(**values)


def _scalar(url: str, sql: str, **params):
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql), params).scalar()
    engine.dispose()
    return value


def _by_status(outcomes) -> dict[str, list]:
    found: dict[str, list] = {}
    for o in outcomes:
        found.setdefault(o.status, []).append(o)
    return found


def _figures(reader, round_code: str, level: int = 2) -> dict[str, int]:
    rows = reader.get(
        "/api/v1/stats",
        params={"level": level, "round": round_code, "population_type": "idp", "limit": 500},
    ).json()["data"]
    return {r["pcode"]: r["individuals"] for r in rows}


def test_first_sync_adds_new_rounds_holds_posted_ones_and_skips_unknown_layouts(
    hdx_url, upstream, reader, r39_baladiyas
):
    r39_before = _figures(reader, "R39", level=3)
    outcomes = run.sync_hdx(hdx_url, _settings(hdx_url, upstream))
    status = _by_status(outcomes)
    assert sorted(status) == ["added", "held", "skipped"], outcomes
    # Round 41 is new: created, and its figures come back unchanged through the API
    (added,) = status["added"]
    assert added.round_code == "R41"
    assert _figures(reader, "R41") == {r["pcode"]: r["individuals"] + 7 for r in r39_baladiyas}
    source = _scalar(
        hdx_url,
        "SELECT min(o.source) FROM observations o JOIN rounds r ON r.id = o.round_id "
        "WHERE r.code = 'R41'",
    )
    assert source.startswith(f"HDX {LIBYA}, resource 00000000-0000-4000-8000-000000000041")
    # R39 and the Master List's Round 123 hold the default data's (posted) figures, which
    # take precedence: compared, agreeing in every area, and not overwritten
    held = {o.round_code: o.message for o in status["held"]}
    assert set(held) == {"R39", "IRQ-R123"}
    for message in held.values():
        assert "take precedence" in message and "differ" not in message
    assert "2842 figures agree with the held totals in 2842" in held["IRQ-R123"]
    assert _figures(reader, "R39", level=3) == r39_before
    # the workbook no reader knows is named and skipped; the CSV resource is not read
    (skipped,) = status["skipped"]
    assert "DTM Libya Baseline Assessment Round 38" in skipped.message
    assert "no reader knows its layout" in skipped.message
    assert upstream.count("none.csv") == 0
    # every file read keeps its URL, size, checksum and retrieval time
    engine = create_engine(hdx_url)
    with engine.connect() as conn:
        items = conn.execute(
            text("SELECT * FROM sync_items WHERE source_name LIKE 'hdx/%' ORDER BY item")
        ).mappings()
        items = {i["url"].rsplit("/", 1)[1]: i for i in items}
    engine.dispose()
    assert set(items) == {"r39.xlsx", "r41.xlsx", "r38.xlsx", "r123.xlsx"}
    for served, item in items.items():
        assert item["size"] == len(upstream.files[served])
        assert len(item["sha256"]) == 64 and item["retrieved_at"] is not None
    assert items["r41.xlsx"]["status"] == "written" and items["r41.xlsx"]["records"] == 100
    # the readers' view of the sources
    sources = {s["name"]: s for s in reader.get("/api/v1/sources").json()["data"]}
    libya = sources[f"hdx/{LIBYA}"]
    assert libya["last_success_at"] and libya["last_error"] is None
    assert (libya["rounds_written"], libya["rounds_held"], libya["skipped"]) == (1, 1, 1)


def test_a_second_sync_downloads_nothing_and_writes_nothing(hdx_url, upstream):
    version = _scalar(hdx_url, "SELECT version FROM data_version")
    downloads = upstream.count("/files/")
    outcomes = run.sync_hdx(hdx_url, _settings(hdx_url, upstream))
    assert {o.status for o in outcomes} == {"unchanged"} and len(outcomes) == 4
    assert upstream.count("/files/") == downloads
    assert _scalar(hdx_url, "SELECT version FROM data_version") == version


def test_a_changed_file_is_a_revision_in_the_rounds_history(
    hdx_url, upstream, reader, r39_baladiyas
):
    upstream.files["r41.xlsx"] = _r41(r39_baladiyas, 9)
    r41 = upstream.packages[LIBYA]["resources"][0]
    r41.update(size=len(upstream.files["r41.xlsx"]), last_modified="2022-06-01T10:00:00.000000")
    (outcome,) = [o for o in run.sync_hdx(hdx_url, _settings(hdx_url, upstream)) if o.round_code]
    assert outcome.status == "changed" and "100 updated" in outcome.message
    assert _figures(reader, "R41") == {r["pcode"]: r["individuals"] + 9 for r in r39_baladiyas}
    history = reader.get("/api/v1/rounds/R41/history").json()["data"]
    last = history[-1]
    assert last["dataset"] == "file" and last["key_name"] == f"sync hdx/{LIBYA}"
    detail = reader.get(f"/api/v1/submissions/{last['submission_id']}").json()["data"]
    first = r39_baladiyas[0]
    replaced = [p for p in detail["previous_values"] if p["row_key"]["pcode"] == first["pcode"]]
    assert [p["old_values"]["individuals"] for p in replaced] == [first["individuals"] + 7]


def test_a_download_of_the_wrong_size_is_refused_and_writes_nothing(hdx_url, upstream, reader):
    before = _figures(reader, "R41")
    r41 = upstream.packages[LIBYA]["resources"][0]
    upstream.files["r41.xlsx"] = _r41([{"pcode": p, "individuals": 1} for p in before], 0)
    r41.update(size=len(upstream.files["r41.xlsx"]) + 1, last_modified="2022-07-01T00:00:00")
    outcomes = run.sync_hdx(hdx_url, _settings(hdx_url, upstream))
    (refused,) = [o for o in outcomes if o.status == "refused"]
    assert "the package record says" in refused.message and "r41.xlsx" in refused.message
    assert _figures(reader, "R41") == before
    # put back as it was, for the tests after this one
    r41["size"] = len(upstream.files["r41.xlsx"]) + 1


def test_hdx_over_posted_figures_replaces_them_through_the_pipeline(hdx_url, upstream, reader):
    national = reader.get(
        "/api/v1/stats", params={"level": 0, "round": "R39", "population_type": "idp"}
    ).json()["data"][0]["individuals"]
    settings = _settings(hdx_url, upstream, sync_precedence=["hdx", "posted", "dtm-api"])
    with create_engine(hdx_url).begin() as conn:  # read R39 again, under the new order
        conn.execute(text("DELETE FROM sync_items WHERE url LIKE '%r39.xlsx'"))
    outcomes = run.sync_hdx(hdx_url, settings, ["LBY"])
    (r39,) = [o for o in outcomes if o.round_code == "R39"]
    assert r39.status in ("changed", "unchanged"), r39
    sources = _scalar(
        hdx_url,
        "SELECT string_agg(DISTINCT split_part(o.source, ',', 1), '|') FROM observations o "
        "JOIN rounds r ON r.id = o.round_id JOIN admin_areas a ON a.pcode = o.pcode "
        "WHERE r.code = 'R39' AND o.population_type IN ('idp', 'returnee') AND a.level = 3",
    )
    assert sources == f"HDX {LIBYA}"
    after = reader.get(
        "/api/v1/stats", params={"level": 0, "round": "R39", "population_type": "idp"}
    ).json()["data"][0]["individuals"]
    assert after == national


def test_faults_end_in_one_line_and_the_other_datasets_still_run(hdx_url, upstream):
    settings = _settings(hdx_url, upstream)
    upstream.fault(*[Fault("package_show", status=503)] * 3)
    outcomes = run.sync_hdx(hdx_url, settings)
    (failed,) = [o for o in outcomes if o.status == "refused" and o.source == f"hdx/{LIBYA}"]
    assert "HTTP 503 after 3 tries" in failed.message and "package_show" in failed.message
    assert any(o.source == f"hdx/{IRAQ}" and o.status == "unchanged" for o in outcomes)
    upstream.fault(Fault("package_show", body=b"<html>maintenance</html>"))
    outcomes = run.sync_hdx(hdx_url, settings, ["LBY"])
    assert "not JSON" in outcomes[0].message and outcomes[0].status == "refused"
    upstream.fault(Fault("package_show", body=b'{"success": true, "result": {}}'))
    outcomes = run.sync_hdx(hdx_url, settings, ["LBY"])
    assert "not a CKAN package_show answer" in outcomes[0].message
    error = _scalar(
        hdx_url, "SELECT last_error FROM sync_sources WHERE name = :n", n=f"hdx/{LIBYA}"
    )
    assert "package_show" in error


def test_the_command_line_syncs_both_sources_with_one_summary_line(hdx_url, upstream):
    """`dtm-geo sync` reads the DTM API (which has nothing for Iraq here), then HDX."""
    env = {
        **os.environ,
        "DATABASE_URL": hdx_url,
        "HDX_URL": upstream.base,
        "DTM_API_URL": upstream.base,
        "DTM_API_KEY": upstream.key,
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "sync", "--operation", "IRQ"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    # Round 123 is held by the default data (unchanged when an earlier test read it)
    assert re.fullmatch(
        r"sync: 0 added, 0 changed, (1 unchanged, 0 held|0 unchanged, 1 held), 0 refused, "
        r"0 skipped; nothing new, nothing written",
        last,
    ), last
    assert upstream.count("/v3/displacement/admin2") >= 1
    wrong = subprocess.run(
        [sys.executable, "-m", "app.cli", "sync", "hdx", "--operation", "IRQ"],
        capture_output=True,
        text=True,
        env={**env, "HDX_URL": upstream.base + "/nowhere"},
        timeout=120,
    )
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert "refused" in wrong.stdout and "HTTP 404" in wrong.stdout
