"""`dtm-geo sync dtm-api` against a DTM API on loopback built from the real records
(tests/upstreams.py), into a copy of the loaded database whose Iraq rounds (but the
Master List's Round 123) were removed, so the first sync brings them in."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app import db
from app.main import create_app
from app.settings import Settings
from app.sync import run
from app.sync.http import SourceError
from tests.conftest import _sibling, loaded_copy
from tests.upstreams import Fault, Upstream, iraq_records, remove_iraq_api_rounds


def _libya_records(client) -> dict[int, list[dict]]:
    """Libya's round 41 (new to DTM Geo) in v3's shape (no Libya response is public): R39's baladiya
    figures plus 10 each, half of them with an origin mantika; and a national record for
    round 39 that differs from the workbook's total."""
    rows = client.get(
        "/api/v1/stats",
        params={"level": 2, "round": "R39", "population_type": "idp", "limit": 500},
    ).json()["data"]
    national = client.get(
        "/api/v1/stats", params={"level": 0, "round": "R39", "population_type": "idp"}
    ).json()["data"][0]["individuals"]
    base = {
        "operation": "Libya Crisis",
        "admin0Name": "Libya",
        "admin0Pcode": "LBY",
        "reportingDate": "2022-03-31T00:00:00",
        "yearReportingDate": 2022,
        "monthReportingDate": 3,
        "roundNumber": 41,
        "displacementReason": "Conflict",
        "numberMales": None,
        "numberFemales": None,
        "assessmentType": "BA",
    }
    admin2 = []
    for i, r in enumerate(rows):
        origin = "LY0101" if i % 2 and r["parent_pcode"] != "LY0101" else "Not available"
        admin2.append(
            {
                **base,
                "id": 500_000 + i,
                "admin1Name": r["parent_name_en"],
                "admin1Pcode": r["parent_pcode"],
                "admin2Name": r["name_en"],
                "admin2Pcode": r["pcode"],
                "numPresentIdpInd": r["individuals"] + 10,
                "idpOriginAdmin1Name": "Derna" if origin != "Not available" else origin,
                "idpOriginAdmin1Pcode": origin,
            }
        )
    total = sum(r["numPresentIdpInd"] for r in admin2)
    admin0 = [
        {**base, "numPresentIdpInd": total, "idpOriginAdmin1Pcode": "Not available"},
        {
            **base,
            "roundNumber": 39,
            "reportingDate": "2021-12-31T00:00:00",
            "numPresentIdpInd": national + 5,
            "idpOriginAdmin1Pcode": "Not available",
        },
    ]
    return {0: admin0, 1: [], 2: admin2}


@pytest.fixture(scope="module")
def upstream(data_dir, client):
    up = Upstream(records={"IRQ": iraq_records(data_dir), "LBY": _libya_records(client)})
    server = up.start()
    yield up
    server.shutdown()


@pytest.fixture(scope="module")
def sync_url(db_url, first_load):
    url = _sibling(db_url, "sync")
    loaded_copy(db_url, url)
    remove_iraq_api_rounds(url)
    yield url
    db.dispose_engines()
    db.drop_database(url)


def _settings(url: str, upstream: Upstream, **extra) -> Settings:
    values = {
        "database_url": url,
        "dtm_api_url": upstream.base,
        "dtm_api_key": upstream.key,
        "sync_backoff": 0.01,
        "sync_timeout": 1.0,
        "sync_attempts": 3,
        "data_version_ttl": 0,
        **extra,
    }
    return Settings(**values)


@pytest.fixture(scope="module")
def reader(sync_url):
    with TestClient(create_app(Settings(database_url=sync_url, data_version_ttl=0))) as c:
        yield c


def _scalar(url: str, sql: str):
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar()
    engine.dispose()
    return value


def _by_status(outcomes) -> dict[str, list]:
    found: dict[str, list] = {}
    for o in outcomes:
        found.setdefault(o.status, []).append(o)
    return found


def test_first_sync_brings_in_every_round(sync_url, upstream, reader):
    outcomes = run.sync_dtm_api(sync_url, _settings(sync_url, upstream))
    status = _by_status(outcomes)
    iraq = {o.round_code for o in status["added"] if o.source == "dtm-api/IRQ"}
    assert len(iraq) == 79 and "IRQ-R132" in iraq and "IRQ-R48-2016-06" in iraq
    assert {o.round_code for o in status["added"] if o.source == "dtm-api/LBY"} == {"R41"}
    held = {o.round_code: o.message for o in status["held"]}
    assert set(held) == {"IRQ-R123", "R39"}
    # the Master List's Round 123 agrees with the API in every area; R39's workbook differs
    assert "take precedence" in held["IRQ-R123"] and "differ" not in held["IRQ-R123"]
    assert "they differ in LBY" in held["R39"]
    assert "refused" not in status

    # round trip: what the API served comes back through the DTM-compatible surface...
    served = {
        (r["admin2Pcode"], r["numPresentIdpInd"])
        for r in upstream.records["IRQ"][2]
        if r["roundNumber"] == 132
    }
    answer = reader.get(
        "/v3/displacement/admin2",
        params={"Admin0Pcode": "IRQ", "FromRoundNumber": 132, "ToRoundNumber": 132},
    )
    assert answer.status_code == 200, answer.text
    got = {(r["admin2Pcode"], r["numPresentIdpInd"]) for r in answer.json()["result"]}
    assert got == served and len(got) == 99
    # ...and the statistics: the national record stored as such
    [national] = [r for r in upstream.records["IRQ"][0] if r["roundNumber"] == 132]
    stats = reader.get(
        "/api/v1/stats",
        params={"operation": "IRQ", "level": 0, "round": "IRQ-R132", "population_type": "idp"},
    ).json()["data"]
    assert [r["individuals"] for r in stats] == [national["numPresentIdpInd"]] == [1_098_913]
    assert stats[0]["quality"] == "published"
    assert stats[0]["sources"] == ["IOM DTM API v3, Iraq conflict"]

    # Libya's new round: figures per baladiya and the flows of the records with an origin
    libya = reader.get(
        "/api/v1/stats",
        params={"level": 2, "round": "R41", "population_type": "idp", "limit": 500},
    ).json()["data"]
    want = {r["admin2Pcode"]: r["numPresentIdpInd"] for r in upstream.records["LBY"][2]}
    assert {r["pcode"]: r["individuals"] for r in libya} == want
    flows = reader.get("/api/v1/flows", params={"round": "R41", "limit": 1000}).json()["data"]
    with_origin = [
        r for r in upstream.records["LBY"][2] if r["idpOriginAdmin1Pcode"] != "Not available"
    ]
    assert sum(f["individuals"] for f in flows) == sum(r["numPresentIdpInd"] for r in with_origin)
    assert {f["origin_pcode"] for f in flows} == {"LY0101"}

    sources = reader.get("/api/v1/sources", params={"operation": "IRQ"}).json()
    [iraq_source] = sources["data"]
    assert iraq_source["name"] == "dtm-api/IRQ" and iraq_source["last_error"] is None
    assert iraq_source["rounds_written"] == 79 and iraq_source["rounds_held"] == 1
    assert iraq_source["records"] == sum(len(v) for v in upstream.records["IRQ"].values())
    assert iraq_source["last_success_at"] is not None
    assert sources["data_as_of"]["IRQ"]["round"] == "IRQ-R132"


def test_a_second_sync_writes_nothing(sync_url, upstream):
    submissions = "SELECT count(*) FROM submissions"
    before = (_scalar(sync_url, submissions), _scalar(sync_url, "SELECT version FROM data_version"))
    outcomes = run.sync_dtm_api(sync_url, _settings(sync_url, upstream))
    assert {o.status for o in outcomes} == {"unchanged"}
    assert len(outcomes) == 82
    after = (_scalar(sync_url, submissions), _scalar(sync_url, "SELECT version FROM data_version"))
    assert after == before


def test_a_changed_record_is_a_revision_in_the_rounds_history(sync_url, upstream, reader):
    [falluja] = [
        r
        for r in upstream.records["IRQ"][2]
        if r["roundNumber"] == 1 and r["admin2Pcode"] == "IRQ-G01Q01"
    ]
    assert falluja["numPresentIdpInd"] == 96_978
    falluja["numPresentIdpInd"] = 97_100
    outcomes = run.sync_dtm_api(sync_url, _settings(sync_url, upstream), ["IRQ"])
    [changed] = [o for o in outcomes if o.status != "unchanged"]
    assert (changed.round_code, changed.status) == ("IRQ-R1", "changed")
    assert "1 updated" in changed.message
    history = reader.get("/api/v1/rounds/IRQ-R1/history").json()["data"]
    last = history[-1]
    assert last["dataset"] == "observations" and last["key_name"] == "sync dtm-api/IRQ"
    detail = reader.get(f"/api/v1/submissions/{last['submission_id']}").json()["data"]
    replaced = [p for p in detail["previous_values"] if p["row_key"]["pcode"] == "IQG01Q01"]
    assert [p["old_values"]["individuals"] for p in replaced] == [96_978]
    figure = reader.get(
        "/api/v1/stats",
        params={"operation": "IRQ", "level": 2, "round": "IRQ-R1", "areas": "IQG01Q01"},
    ).json()["data"]
    assert [r["individuals"] for r in figure if r["pcode"] == "IQG01Q01"] == [97_100]


def test_flows_the_api_no_longer_gives_are_removed_with_their_history(sync_url, upstream, reader):
    saved = copy.deepcopy(upstream.records["LBY"])
    before = reader.get("/api/v1/flows", params={"round": "R41", "limit": 1000}).json()["data"]
    assert before  # the first sync stored R41's flows
    for r in upstream.records["LBY"][2]:
        r["idpOriginAdmin1Pcode"] = r["idpOriginAdmin1Name"] = "Not available"
    try:
        outcomes = run.sync_dtm_api(sync_url, _settings(sync_url, upstream), ["LBY"])
        [changed] = [o for o in outcomes if o.round_code == "R41"]
        assert changed.status == "changed" and f"{len(before)} removed" in changed.message
        after = reader.get("/api/v1/flows", params={"round": "R41", "limit": 1000}).json()
        assert after["data"] == []
        last = reader.get("/api/v1/rounds/R41/history").json()["data"][-1]
        assert last["dataset"] == "flows" and last["counts"]["removed"] == len(before)
    finally:
        upstream.records["LBY"] = saved
        run.sync_dtm_api(sync_url, _settings(sync_url, upstream), ["LBY"])


def test_a_malformed_record_fails_its_round_only(sync_url, upstream, reader):
    saved = copy.deepcopy(upstream.records["IRQ"])
    rows = upstream.records["IRQ"][2]
    negative = next(r for r in rows if r["roundNumber"] == 2)
    negative["numPresentIdpInd"] = -5
    unknown = next(r for r in rows if r["roundNumber"] == 3)
    unknown["admin2Pcode"] = "IRQ-G99Q99"
    fine = next(r for r in rows if r["roundNumber"] == 4)
    fine["numPresentIdpInd"] += 1
    try:
        outcomes = run.sync_dtm_api(sync_url, _settings(sync_url, upstream), ["IRQ"])
    finally:
        upstream.records["IRQ"] = saved
    status = {o.round_code: o for o in outcomes}
    assert status["IRQ-R2"].status == "refused"
    assert f"record 1 (id {negative['id']})" in status["IRQ-R2"].message
    assert "numPresentIdpInd" in status["IRQ-R2"].message
    assert status["IRQ-R3"].status == "refused"
    assert f"record {unknown['id']}: pcode IRQ-G99Q99 is no area of Iraq" in (
        status["IRQ-R3"].message
    )
    assert status["IRQ-R4"].status == "changed"  # the other rounds go in
    source = reader.get("/api/v1/sources", params={"operation": "IRQ"}).json()["data"][0]
    assert source["last_error"].startswith("2 round(s) refused")
    # the refused rounds kept what they held
    kept = reader.get(
        "/api/v1/stats",
        params={"operation": "IRQ", "level": 0, "round": "IRQ-R2", "population_type": "idp"},
    ).json()["data"]
    [national] = [r for r in saved[0] if r["roundNumber"] == 2]
    assert [r["individuals"] for r in kept] == [national["numPresentIdpInd"]]


def test_faults_are_retried_or_end_in_one_line(sync_url, upstream):
    settings = _settings(sync_url, upstream)
    only_new = {"from_round": 500}  # nothing to write: the faults are what is tested
    submissions = "SELECT count(*) FROM submissions"
    before = _scalar(sync_url, submissions)
    path = "/v3/displacement/admin0"  # the first request of a sync

    with pytest.raises(SourceError) as refused:
        run.sync_dtm_api(sync_url, _settings(sync_url, upstream, dtm_api_key="wrong"))
    assert "HTTP 401" in str(refused.value) and "DTM_API_KEY" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert _scalar(sync_url, submissions) == before

    upstream.requests.clear()
    upstream.fault(Fault(path, status=429, headers={"Retry-After": "1"}))
    run.sync_dtm_api(sync_url, settings, ["IRQ"], **only_new)
    times = [t for t, p in upstream.requests if path in p]
    assert len(times) == 2 and times[1] - times[0] >= 0.9  # it waited as asked

    upstream.requests.clear()
    upstream.fault(Fault(path, status=503), Fault(path, status=502))
    run.sync_dtm_api(sync_url, settings, ["IRQ"], **only_new)
    assert upstream.count(path) == 3

    upstream.requests.clear()
    upstream.fault(Fault(path, pause=2.0), Fault(path, cut=True))  # a timeout, a cut body
    run.sync_dtm_api(sync_url, settings, ["IRQ"], **only_new)
    assert upstream.count(path) == 3

    upstream.fault(*[Fault(path, status=500)] * 3)
    with pytest.raises(SourceError, match=r"HTTP 500 after 3 tries"):
        run.sync_dtm_api(sync_url, settings, ["IRQ"], **only_new)

    upstream.fault(Fault(path, body=b"<html>maintenance</html>"))
    with pytest.raises(SourceError, match=r"admin0\?Admin0Pcode=IRQ.*: the answer is not JSON"):
        run.sync_dtm_api(sync_url, settings, ["IRQ"], **only_new)
    upstream.fault(Fault(path, body=b'{"statusCode": 200}'))
    with pytest.raises(SourceError, match=r"no 'result' list"):
        run.sync_dtm_api(sync_url, settings, ["IRQ"], **only_new)
    assert _scalar(sync_url, submissions) == before


def _cli(sync_url, upstream, *args, **env):
    environment = {
        **os.environ,
        "DATABASE_URL": sync_url,
        "DTM_API_URL": upstream.base,
        "DTM_API_KEY": upstream.key,
        "SYNC_BACKOFF": "0.01",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "sync", *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_command_line_says_one_line_and_one_sync_runs_at_a_time(sync_url, upstream):
    wrong = _cli(sync_url, upstream, "dtm-api", DTM_API_KEY="nope")
    out, err = wrong.communicate(timeout=60)
    assert wrong.returncode == 1
    assert err.strip().count("\n") == 0 and "DTM_API_KEY" in err, err

    engine = create_engine(sync_url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(hashtext('dtm-geo-sync'))"))
        busy = _cli(sync_url, upstream, "dtm-api")
        out, err = busy.communicate(timeout=60)
        conn.execute(text("SELECT pg_advisory_unlock(hashtext('dtm-geo-sync'))"))
    engine.dispose()
    assert busy.returncode == 1 and "another `dtm-geo sync` is running" in err

    run.sync_dtm_api(sync_url, _settings(sync_url, upstream))  # what earlier tests restored
    again = _cli(sync_url, upstream, "dtm-api")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "nothing new, nothing written" in out


def test_a_sync_killed_mid_round_leaves_no_partial_round(sync_url, upstream, reader):
    new = copy.deepcopy([r for r in upstream.records["LBY"][2]])
    for r in new:
        r.update(roundNumber=42, reportingDate="2022-05-31T00:00:00", id=r["id"] + 10_000)
    upstream.records["LBY"][2] += new
    engine = create_engine(sync_url)
    try:
        watcher = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with engine.connect() as blocker:
            # the round's transaction writes its figures, then waits here, uncommitted
            blocker.execute(text("LOCK TABLE sync_items IN EXCLUSIVE MODE"))
            process = _cli(sync_url, upstream, "dtm-api", "--operation", "LBY")
            deadline = time.monotonic() + 60
            while True:
                # (another connection: a transaction sees one snapshot of pg_stat_activity)
                waiting = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE '%INSERT INTO sync_items%'"
                    )
                ).scalar()
                if waiting:
                    break
                if process.poll() is not None:
                    pytest.fail(f"the sync ended: {process.communicate()}")
                assert time.monotonic() < deadline
                time.sleep(0.1)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            blocker.rollback()
        watcher.close()
        with engine.connect() as conn:
            assert (
                conn.execute(text("SELECT count(*) FROM rounds WHERE code = 'R42'")).scalar() == 0
            )
        outcomes = run.sync_dtm_api(sync_url, _settings(sync_url, upstream), ["LBY"])
        assert [(o.round_code, o.status) for o in outcomes if o.status == "added"] == [
            ("R42", "added")
        ]
        rows = reader.get(
            "/api/v1/stats",
            params={"level": 2, "round": "R42", "population_type": "idp", "limit": 500},
        ).json()["data"]
        assert {r["pcode"]: r["individuals"] for r in rows} == {
            r["admin2Pcode"]: r["numPresentIdpInd"] for r in new
        }
    finally:
        upstream.records["LBY"][2] = [r for r in upstream.records["LBY"][2] if r not in new]
        engine.dispose()


def test_sources_answer_for_every_operation_and_refuse_an_unknown_one(reader):
    body = reader.get("/api/v1/sources").json()
    assert {s["name"] for s in body["data"]} == {"dtm-api/IRQ", "dtm-api/LBY"}
    assert set(body["data_as_of"]) == {"LBY", "IRQ"}
    assert body["data_as_of"]["LBY"]["date"]
    unknown = reader.get("/api/v1/sources", params={"operation": "XYZ"})
    assert unknown.status_code == 404 and "operation" in unknown.text.lower()


def test_every_reason_the_api_gives_is_kept_and_none_becomes_an_areas_total(data_dir):
    """The v3 samples' five reasons (Haiti, Chad) each map to the vocabulary; a record with
    a reason is never stored without one (a reason-less figure is its area's total)."""
    from collections import Counter

    from app.loaders import dtm_api as records_of

    rows = json.loads(
        (data_dir / "iom_dtm_api_samples/displacement-admin1-admin0pcode-hti.json").read_bytes()
    )["result"]
    rows += json.loads(
        (data_dir / "iom_dtm_api_samples/displacement-admin1-admin0pcode-tcd.json").read_bytes()
    )["result"]
    rows = [r for r in rows if r["roundNumber"] >= 1]  # Haiti gives some records round 0
    parsed = records_of.parse_records(rows, 1, "admin1")
    given = Counter(
        (row["displacementReason"], r.reason) for row, r in zip(rows, parsed, strict=True)
    )
    assert {label: reason for label, reason in given} == {
        "Conflict": "conflict",
        "Natural disaster": "natural_hazard",
        "Insecurity": "insecurity",
        "Other reason": "other",
        "No reason for displacement reported": "not_reported",
    }
    assert records_of.reason_of("A reason new to DTM Geo") == "other"
    assert records_of.reason_of("") is None and records_of.reason_of(None) is None
