"""The database itself refuses bad rows, and says which named constraint was violated."""

from __future__ import annotations

import pytest
from psycopg2 import errors as pg
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError


def _observation(**overrides) -> dict:
    row = {
        "pcode": "LY010102",
        "population_type": "idp",
        "reason": None,
        "individuals": 100,
        "households": 20,
        "males": 40,
        "females": 50,
        "quality": "published",
    }
    row.update(overrides)
    return row


INSERT_OBSERVATION = text("""
    INSERT INTO observations (round_id, pcode, population_type, displacement_reason,
        individuals, households, males, females, source, quality)
    SELECT id, :pcode, :population_type, :reason, :individuals, :households, :males, :females,
           'test', :quality FROM rounds WHERE code = 'R3'""")


def _violated(engine, statement, params) -> str:
    with engine.connect() as conn, pytest.raises(IntegrityError) as caught:
        conn.execute(statement, params)
    return caught.value.orig.diag.constraint_name


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        (
            {"individuals": -1, "households": None, "males": None, "females": None},
            "ck_observations_individuals_non_negative",
        ),
        ({"households": 101}, "ck_observations_households_le_individuals"),
        ({"households": -5}, "ck_observations_households_non_negative"),
        ({"males": 60, "females": 50}, "ck_observations_sex_le_individuals"),
        ({"population_type": "refugee"}, "ck_observations_population_type"),
        ({"quality": "guessed"}, "ck_observations_quality"),
        ({"pcode": "LY999999"}, "fk_observations_pcode_admin_areas"),
    ],
)
def test_observation_constraints_are_named(engine, overrides, constraint):
    assert _violated(engine, INSERT_OBSERVATION, _observation(**overrides)) == constraint


def test_natural_key_is_unique_even_without_a_reason(engine):
    with engine.connect() as conn:
        conn.execute(INSERT_OBSERVATION, _observation())
        with pytest.raises(IntegrityError) as caught:
            conn.execute(
                INSERT_OBSERVATION, _observation(individuals=5, households=1, males=1, females=1)
            )
        assert isinstance(caught.value.orig, pg.UniqueViolation)
        assert caught.value.orig.diag.constraint_name == "uq_observations_natural_key"
        conn.rollback()


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        (
            # a country is named by its operation's ISO3 code
            "INSERT INTO admin_areas (pcode, level, name_en, name_ar, geom, geom_source) "
            "VALUES ('LBYX', 0, 'x', 'x', ST_Point(22, 32, 4326), 'test')",
            "ck_admin_areas_country_is_its_operation",
        ),
        (
            "INSERT INTO admin_areas (pcode, level, parent_pcode, region_pcode, ocha_pcode, "
            "ocha_level, name_en, name_ar, geom, geom_source) VALUES ('LY0199', 1, 'LBY', 'LY01', "
            "'x', NULL, 'x', 'x', ST_Point(22, 32, 4326), 'test')",
            "ck_admin_areas_ocha_pcode_with_level",
        ),
        (
            "INSERT INTO rounds (operation, code, kind, title, collection_start, collection_end, "
            "source) VALUES ('LBY', 'bad', 'mobility_tracking', 't', '2024-02-01', "
            "'2024-01-01', 's')",
            "ck_rounds_collection_dates_ordered",
        ),
        (
            "INSERT INTO rounds (operation, code, kind, title, source) "
            "VALUES ('LBY', 'fu', 'flash_update', 't', 's')",
            "ck_rounds_event_slug_for_events",
        ),
        (
            # within an operation and reporting date (Iraq's round 48 has two dates)
            "INSERT INTO rounds (operation, code, number, kind, title, reporting_date, source) "
            "VALUES ('LBY', 'R54-again', 54, 'mobility_tracking', 't', '2024-09-30', 's')",
            "uq_rounds_mobility_number",
        ),
        (
            "INSERT INTO flows (round_id, population_type, origin_pcode, destination_pcode, "
            "individuals, households, source, quality) SELECT id, 'idp', 'LY010102', 'LY010304', "
            "10, 11, 's', 'modelled' FROM rounds WHERE code = 'R3'",
            "ck_flows_households_le_individuals",
        ),
        (
            "INSERT INTO populations (pcode, year, source, population, definition, quality) VALUES "
            "('LY010102', 2021, 'test', -1, 'd', 'published')",
            "ck_populations_population_non_negative",
        ),
    ],
)
def test_other_constraints_are_named(engine, sql, constraint):
    assert _violated(engine, text(sql), {}) == constraint
