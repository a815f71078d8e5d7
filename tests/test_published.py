"""The project's own transcriptions in data/published/: each figure checked against what it
was read from, loaded as published round figures with its source URL."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from app.errors import LoadError
from app.loaders import catalog, figures
from app.loaders.figures import FILES, PUBLISHED_DIR
from app.loaders.manifest import MANIFEST
from app.settings import PROJECT_ROOT

HDX_FILE = PUBLISHED_DIR / "dtm_libya_hdx_baseline_round_totals.csv"
HDX_PACKAGE = (
    PROJECT_ROOT.parent
    / "shared/data/dtm_libya_r39_idps_returnees"
    / "hdx_package_libya-baseline-assessment-data-iom-dtm.json"
)


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def package() -> dict:
    if not HDX_PACKAGE.exists():
        pytest.skip("the HDX package metadata (../shared/data, the developers' copy) is absent")
    return json.loads(HDX_PACKAGE.read_text(encoding="utf-8"))


def _numbers(description: str) -> set[int]:
    return {int(n.replace(",", "")) for n in re.findall(r"\d{1,3}(?:,\d{3})+", description)}


def test_every_hdx_figure_is_in_the_description_it_was_read_from(package):
    resources = {r["url"]: r for r in package["resources"]}
    rows = _rows(HDX_FILE)
    assert len(rows) == 34
    for row in rows:
        resource = resources[row["source_url"]]
        assert resource["name"] == f"DTM Libya Baseline Assessment Round {row['round']}"
        assert int(row["value"]) in _numbers(resource["description"]), row


def test_every_total_an_hdx_description_states_is_transcribed(package):
    """Each count in a round 18-38 description is that round's transcribed figure, or the
    previous round's (as in "increased from 373,709 to 401,836"), or a change under 100,000."""
    by_round: dict[int, set[int]] = {}
    for row in _rows(HDX_FILE):
        by_round.setdefault(int(row["round"]), set()).add(int(row["value"]))
    stated = 0
    for resource in package["resources"]:
        number = int(resource["name"].rsplit(" ", 1)[1])
        if not 18 <= number <= 38:
            continue
        for value in _numbers(resource["description"] or ""):
            previous = by_round.get(number - 1, set())
            own = by_round.get(number, set())
            assert value in own or value in previous or value < 100_000, (number, value)
            stated += value in own
    assert stated == 34


def test_the_manifest_lists_only_downloadable_files():
    rows = _rows(MANIFEST)
    assert rows and all(r["url"].startswith("https://") and len(r["sha256"]) == 64 for r in rows)
    published = {f.path for f in FILES}
    assert not any(Path(r["path"]).name in published for r in rows)


def test_every_transcribed_figure_has_a_source_url():
    for spec in FILES:
        for row in _rows(PUBLISHED_DIR / spec.path):
            assert row["source_url"].strip(), (spec.path, row)
    for row in _rows(PUBLISHED_DIR / "ocha_hno2021_resident_population_by_baladiya.csv"):
        assert row["source_url"].startswith("https://"), row


def test_hdx_round_totals_are_published_national_figures(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT r.code, r.reporting_date, o.population_type, o.individuals, o.households,
                   o.quality, o.source_url
            FROM observations o JOIN rounds r ON r.id = o.round_id
            WHERE o.pcode = 'LBY' AND r.number BETWEEN 18 AND 37 ORDER BY r.number""")
        ).all()
    found = {(r.code, r.population_type): r for r in rows}
    assert found["R18", "idp"].individuals == 184_612
    assert found["R20", "idp"][3:5] == (192_513, 38_510)
    assert found["R19", "migrant"].individuals == 677_013
    assert found["R37", "returnee"].individuals == 643_123
    assert str(found["R36", "idp"].reporting_date) == "2021-04-30"
    assert all(r.quality == "published" and r.source_url for r in rows)
    # Round 21's and 22's totals are in a report and on HDX: stored once, from the report
    assert found["R22", "idp"].source_url.startswith("https://m.reliefweb.int/")
    # national IDP figures for 15 rounds from 18 to 37 (R21 has returnees only), all dated
    assert len({r.code for r in rows if r.population_type == "idp"}) == 15
    assert all(r.reporting_date for r in rows)


def test_the_national_series_runs_through_the_hdx_rounds(client):
    body = client.get("/api/v1/stats/timeseries?level=0&population_type=idp").json()
    points = {p["round_code"]: p["individuals"] for p in body["data"][0]["points"]}
    assert points["R18"] == 184_612 and points["R29"] == 373_709 and points["R37"] == 212_593
    assert (points["R38"], points["R39"]) == (199_949, 179_047)
    dates = [
        p["reporting_date"]
        for p in body["data"][0]["points"]
        if p["round_kind"] == "mobility_tracking"
    ]
    assert None not in dates and dates == sorted(dates)


@pytest.fixture
def published_copy(tmp_path) -> Path:
    target = tmp_path / "published"
    shutil.copytree(PUBLISHED_DIR, target)
    return target


def test_two_different_figures_for_one_round_stop_the_load(engine, published_copy):
    """Round 22's IDPs are in a report and on HDX; if the two disagreed, the load stops
    naming the file, row, field and both values (a LoadError loads nothing, see
    tests/test_loader.py)."""
    path = published_copy / HDX_FILE.name
    body = path.read_text(encoding="utf-8")
    assert "\n22,2018-10,Libya,LY,idps,187423," in body
    path.write_text(body.replace("idps,187423,", "idps,187424,"), encoding="utf-8")
    _, round_keys = catalog.round_rows()
    with engine.connect() as conn:
        levels = dict(conn.execute(text("SELECT pcode, level FROM admin_areas")).all())
        regions = {r[0] for r in conn.execute(text("SELECT pcode FROM regions"))}
    assert figures.figure_rows(round_keys, levels, regions)["observations"]  # as committed
    with pytest.raises(LoadError) as caught:
        figures.figure_rows(round_keys, levels, regions, published_copy)
    message = str(caught.value)
    assert message.startswith(f"data/published/{HDX_FILE.name}")
    assert "187424" in message and "187423" in message and "field 'value'" in message
