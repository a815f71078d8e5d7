"""Prepared statements (app.services.prepared): the statistics statements, prepared once per
connection, give what the same text run as a plain statement gives."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.services import stats
from app.services.prepared import Prepared

TEMPLATES = {
    "rows": stats._ROWS,
    "count": stats._COUNT,
    "keyed rows": stats._KEYED_ROWS,
    "key count": stats._KEY_COUNT,
    "encoded": stats._ENCODED,
}


@pytest.fixture
def session(engine: Engine):
    with Session(engine) as session:
        yield session


def _filters(session: Session) -> list[stats.StatsFilter]:
    """One filter per optional condition, then all of them at once (the one-round and the
    several-rounds conditions exclude each other)."""
    r54, r39 = session.execute(
        text("SELECT id FROM rounds WHERE code IN ('R54', 'R39') ORDER BY code DESC")
    ).scalars()
    each = {
        "types": {"population_types": ("idp", "returnee")},
        "reason": {"reason": None, "any_reason": False},  # the figures given no reason
        "round": {"round_ids": (r39,)},
        "rounds": {"round_ids": (r39, r54)},
        "round_from": {"round_from": 30},
        "round_to": {"round_to": 54},
        "date_from": {"date_from": date(2020, 1, 1)},
        "date_to": {"date_to": date(2026, 1, 1)},
        "areas": {"areas": ("LY0103", "LY010102")},
    }
    assert set(each) == set(stats._CONDITIONS)  # a new condition gets a case here
    every = {k: v for name, options in each.items() if name != "rounds" for k, v in options.items()}
    return [stats.StatsFilter(level=2, **options) for options in [*each.values(), every]]


def test_every_statement_gives_what_its_text_gives(session: Session):
    checked, returned = 0, {}
    templates = {**TEMPLATES, "map, pivoted": None, "map, stored": None}
    for flt, (name, template) in itertools.product(_filters(session), templates.items()):
        if name == "map, stored":
            if "types" in stats._active(flt) or not flt.any_reason:
                continue  # as maps are made: reasons collapsed unless one is chosen
            flt = replace(flt, collapse_reasons=True)
        active = stats._active(flt)
        params = {**flt.params(), "limit": 40, "offset": 3, "approximate": False}
        if name.startswith("map"):
            template = stats._MAP_STORED if name == "map, stored" else stats._MAP_PIVOTED
        statement = stats._statement(template, active)
        prepared = statement.run(session, params)
        plain = session.execute(statement.statement, params)
        assert prepared.columns == list(plain.keys()), name
        assert prepared.rows == [tuple(row) for row in plain], (name, active)
        checked += 1
        if name == "rows":
            returned[active] = len(prepared.rows)
    assert checked == 10 * (len(TEMPLATES) + 1) + 7  # 3 filters pick types or a reason
    assert all(returned.values()), returned  # no filter compared empty answers only


def _prepared_here(session: Session, name: str) -> list[tuple]:
    return session.execute(
        text(
            "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE name = :name"
        ),
        {"name": name},
    ).all()


def test_a_statement_is_prepared_once_per_connection(engine: Engine):
    statement = Prepared(
        text(
            "SELECT pcode FROM admin_areas WHERE level = :level AND ancestry[1] = 'LBY' ORDER BY 1"
        )
    )
    with Session(engine) as session:
        first = statement.run(session, {"level": 1})
        second = statement.run(session, {"level": 1})
        assert first == second and len(first.rows) == 22
        assert _prepared_here(session, statement.name) == [(statement.name, 2)]
        connection = session.connection().connection
        assert statement.name in connection.info["dtm_geo.prepared"]
        connection.invalidate()  # a connection of its own: prepared afresh
    with Session(engine) as session:
        assert len(statement.run(session, {"level": 2}).rows) == 100
        assert _prepared_here(session, statement.name) == [(statement.name, 1)]


def test_parameters_bind_by_name_whatever_their_order_in_the_text(session: Session):
    statement = Prepared(text("SELECT CAST(:b AS text) AS b, CAST(:a AS int) AS a, :b AS again"))
    assert statement.run(session, {"a": 1, "b": "x", "unused": 2}).one() == {
        "b": "x",
        "a": 1,
        "again": "x",
    }


def test_the_other_statistics_statements_give_what_their_text_gives(session: Session):
    flt = _filters(session)[-1]
    params = {**flt.params(), "limit": 40, "offset": 0}
    for statement in [
        stats._AREA_COUNT,
        *stats._NATIONALITY_SQL.values(),
        *stats._NATIONALITY_COUNT.values(),
    ]:
        plain = session.execute(statement.statement, params)
        assert statement.run(session, params).rows == [tuple(row) for row in plain]
