"""The stored roll-up (app.services.rollup) and statistics paged by SQL over it."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth import create_key
from app.db import session_scope
from app.services import rollup
from app.services.prepared import Prepared
from app.services.stats import StatsFilter

pytestmark = pytest.mark.usefixtures("scratch_rounds")


@pytest.fixture(scope="module")
def key(db_url, first_load):
    with session_scope(db_url) as session:
        return create_key(session, "test-rollup", ["admin"])


def _stored(engine, code: str) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            text("""
            SELECT s.id, s.level, s.pcode, s.population_type, s.individuals
            FROM rolled_up_figures s JOIN rounds r ON r.id = s.round_id
            WHERE r.code = :c ORDER BY s.id"""),
            {"c": code},
        ).all()


def _figures(client, code: str, level: int) -> dict:
    rows = client.get("/api/v1/stats", params={"level": level, "round": code}).json()["data"]
    return {(r["pcode"], r["population_type"]): r["individuals"] for r in rows}


def test_every_write_rebuilds_the_roll_up_of_its_round_and_only_that(client, engine, key):
    headers = {"X-API-Key": key}
    before_r54 = _stored(engine, "R54")
    round_body = {"kind": "mobility_tracking", "title": "roll-up test", "source": "test"}
    assert client.put("/api/v1/rounds/T-ROLL", json=round_body, headers=headers).status_code == 201
    rows = [
        {"pcode": "LY010102", "population_type": "idp", "individuals": 1200},
        {"pcode": "LY010101", "population_type": "idp", "individuals": 300},
    ]
    url = "/api/v1/rounds/T-ROLL/observations"
    assert client.post(url, json={"source": "t", "rows": rows}, headers=headers).is_success
    # Derna and Al Qubbah are two of Derna mantika's baladiyas: its value is their sum
    assert _figures(client, "T-ROLL", 1) == {("LY0101", "idp"): 1500}
    assert _figures(client, "T-ROLL", 0) == {("LBY", "idp"): 1500}

    rows[0]["individuals"] = 1000
    assert client.post(url, json={"source": "t", "rows": rows}, headers=headers).is_success
    assert _figures(client, "T-ROLL", 1) == {("LY0101", "idp"): 1300}
    mapped = _get(client, level=1, round="T-ROLL", format="geojson", pcode="LY0101").json()
    assert [f["properties"]["idps"] for f in mapped["features"]] == [1300]  # the stored map
    assert _stored(engine, "R54") == before_r54  # other rounds' rows were not rebuilt

    assert client.delete("/api/v1/rounds/T-ROLL", headers=headers).is_success
    with engine.connect() as conn:
        for table in ("rolled_up_figures", "mapped_areas"):
            orphans = conn.execute(
                text(
                    f"SELECT count(*) FROM {table} s LEFT JOIN rounds r "
                    "ON r.id = s.round_id WHERE r.id IS NULL"
                )
            ).scalar_one()
            assert orphans == 0, table


def test_a_full_rebuild_gives_the_same_rows(engine):
    def snapshot(session):
        return session.execute(
            text("""
            SELECT qualities, reasons_collapsed, level, round_id, pcode, population_type,
                   displacement_reason, individuals, households, quality, units, complete,
                   record_id, stored_levels, sources, population, per_1000
            FROM rolled_up_figures ORDER BY 1, 2, 3, 4, 5, 6, 7""")
        ).all()

    with Session(engine) as session:
        before = snapshot(session)
        rollup.refresh(session)
        assert snapshot(session) == before
        assert len(before) > 10_000
        session.rollback()


def _map_areas(session, flt: StatsFilter, approximate: bool, stored: bool):
    """A whole map's (pcode, encoded properties), its properties stored or pivoted, and
    for a stored map whether every area had its properties stored."""
    from app.services import stats

    params = {**flt.params(), "approximate": approximate, "limit": None, "offset": 0}
    active = stats._active(flt)
    if stored:
        found = stats._statement(stats._MAP_STORED, active).run(session, params).one()
        if found["stored"] < found["on_page"]:
            return found["pcodes"] or [], False
        return [(pcode, bytes(p)) for pcode, p in stats._stored_areas(found)], True
    found = stats._statement(stats._MAP_PIVOTED, active).run(session, params)
    return stats._pivoted_areas(found, approximate), True


def test_stored_maps_are_the_maps_pivoted_per_request(engine):
    with Session(engine) as session:
        # every Libya round; Iraq's Master List round (locations) and its last (districts)
        rounds = session.execute(
            text(
                "SELECT id, operation FROM rounds WHERE operation = 'LBY' "
                "OR code IN ('IRQ-R123', 'IRQ-R132') ORDER BY id"
            )
        ).all()
        deepest = {"LBY": 3, "IRQ": 4}
        views = [
            (round_id, operation, level)
            for round_id, operation in rounds
            for level in range(deepest[operation] + 1)
        ]
        compared = 0
        for (round_id, operation, level), approximate, qualities in itertools.product(
            views, (False, True), rollup.SELECTIONS
        ):
            flt = StatsFilter(
                level=level,
                operation=operation,
                round_ids=(round_id,),
                qualities=qualities,
                collapse_reasons=True,
            )
            stored, complete = _map_areas(session, flt, approximate, stored=True)
            pivoted, _ = _map_areas(session, flt, approximate, stored=False)
            if complete:  # else the service pivots the page instead
                assert stored == pivoted
                compared += len(stored)
            else:  # the same areas, some without properties stored
                assert stored == [pcode for pcode, _ in pivoted]
        # every stored area of those rounds was compared, with either geometry
        stored_areas = session.execute(
            text("SELECT count(*) FROM mapped_areas WHERE round_id = ANY(:ids)"),
            {"ids": [round_id for round_id, _ in rounds]},
        ).scalar()
        assert compared == 2 * stored_areas
        # an approximate polygon is told apart in the properties too
        libya = [round_id for round_id, operation in rounds if operation == "LBY"]
        flt = StatsFilter(level=2, round_ids=(libya[-1],), collapse_reasons=True)
        mapped, _ = _map_areas(session, flt, True, True)
        kinds = {p.split(b'"geometry_kind":')[1][:21] for _, p in mapped}
        assert b'"approximate_polygon"' in kinds


def test_a_map_page_with_an_area_stored_without_properties_is_pivoted(client, engine):
    """An area added after the map was stored (its properties missing) does not vanish:
    the page is pivoted per request instead."""
    whole = _get(client, level=1, round="R39", format="geojson").json()
    with engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM mapped_areas m USING rounds r WHERE r.id = m.round_id "
                "AND r.code = 'R39' AND m.level = 1 AND m.pcode = 'LY0101'"
            )
        )
    try:
        again = client.get(
            "/api/v1/stats", params={"level": 1, "round": "R39", "format": "geojson", "x": 1}
        ).json()
        assert again["features"] == whole["features"] and len(whole["features"]) == 22
    finally:
        with Session(engine) as session:
            r39 = session.execute(text("SELECT id FROM rounds WHERE code = 'R39'")).scalar()
            rollup.refresh(session, [r39])  # the one round whose map was changed
            session.commit()


def test_every_selection_of_qualities_is_stored_once_in_vocabulary_order():
    assert len(rollup.SELECTIONS) == 7
    assert rollup.selection(["synthetic", "published", "published"]) == [
        "published",
        "synthetic",
    ]
    assert StatsFilter(qualities=("modelled", "published")).params()["qualities"] == [
        "published",
        "modelled",
    ]
    with pytest.raises(ValueError, match="collapse_reasons"):
        StatsFilter(collapse_reasons=True, any_reason=False, reason="conflict")


# --- paging by SQL ---------------------------------------------------------------------------


def test_a_page_of_statistics_is_all_the_database_returns(client, monkeypatch):
    fetched: list[int] = []
    run = Prepared.run

    def counted(self, session, params):
        rows = run(self, session, params)
        fetched.append(len(rows.rows))
        return rows

    monkeypatch.setattr(Prepared, "run", counted)
    body = _get(client, level=2, round="R54", limit=7, offset=90).json()
    assert body["meta"]["total"] == 100 and len(body["data"]) == 7
    # one statement, paged by the database: a single row back holding the 7 rows' JSON
    assert fetched == [1]


def _get(client, **params):
    response = client.get("/api/v1/stats", params=params)
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("level", [1, 2, 3])
def test_json_pages_put_together_are_the_whole(client, level):
    whole = _get(client, level=level, limit=5000).json()
    pages, offset = [], 0
    while True:
        page = _get(client, level=level, limit=97, offset=offset).json()
        assert page["meta"]["total"] == whole["meta"]["total"]
        if not page["data"]:
            break
        pages += page["data"]
        offset += 97
    assert pages == whole["data"]


def test_csv_pages_are_pages_of_wide_rows(client):
    def rows(**params):
        text_ = _get(client, level=2, round="R39", format="csv", **params).text
        return list(csv.DictReader(io.StringIO(text_.lstrip("\ufeff"))))[1:]  # HXL row

    whole = rows(limit=5000)
    first, second = rows(limit=40), rows(limit=40, offset=40)
    assert first + second == whole[:80]
    keys = [(r["round_code"], r["admin2_pcode"], r["displacement_reason"]) for r in whole]
    assert len(keys) == len(set(keys))
    assert _get(client, level=2, round="R39", format="csv", limit=40).headers[
        "x-total-count"
    ] == str(len(whole))


def test_geojson_map_pages_and_a_page_past_the_end(client):
    whole = _get(client, level=2, round="R54", format="geojson", limit=1000).json()
    page = _get(client, level=2, round="R54", format="geojson", limit=10, offset=20).json()
    assert page["features"] == whole["features"][20:30]
    assert page["total"] == whole["total"] == 100
    past = _get(client, level=2, round="R54", format="geojson", offset=500).json()
    assert past["features"] == [] and past["total"] == 100 and past["round"] == "R54"
    assert past["sources"] == whole["sources"] != []


def test_nationality_pages_put_together_are_the_whole(client):
    url = "/api/v1/nationalities"
    whole = client.get(url, params={"level": 2, "round": "R54", "limit": 5000}).json()
    first = client.get(url, params={"level": 2, "round": "R54", "limit": 50}).json()
    second = client.get(url, params={"level": 2, "round": "R54", "limit": 50, "offset": 50})
    assert first["data"] + second.json()["data"] == whole["data"][:100]
    assert first["meta"]["total"] == whole["meta"]["total"] > 100
    past = client.get(url, params={"level": 2, "round": "R54", "offset": 9000}).json()
    assert past["data"] == [] and past["meta"]["total"] == whole["meta"]["total"]


def test_stored_encoding_is_the_typed_row_as_the_api_encodes_it(engine):
    from app.serialize import dumps
    from app.services import stats
    from app.services.paging import EVERY_ROW

    with Session(engine) as session:
        for flt in (
            StatsFilter(level=3, qualities=("published", "modelled", "synthetic")),
            StatsFilter(level=2, collapse_reasons=True),
            StatsFilter(level=0),
        ):
            typed = stats.statistics(session, flt).rows
            encoded = stats.statistics_encoded(session, flt, EVERY_ROW)
            api_rows = [{k: r[k] for k in rollup.ROW_COLUMNS} for r in typed]  # no ancestry
            assert encoded.rows == b",".join(dumps(r) for r in api_rows)
            assert encoded.total == encoded.returned == len(typed) > 0
            assert encoded.rounds == sorted({r["round_code"] for r in typed})
            assert encoded.rated == any(r["per_1000"] is not None for r in typed)
