"""The default data set, loaded from the real source files into real PostGIS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app import db
from app.errors import LoadError
from app.loaders.default_data import load_default_data
from app.loaders.figures import PUBLISHED_DIR
from app.models import Base

R54_TOTAL = 787_326


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_hierarchy_counts(engine):
    assert scalar(engine, "SELECT count(*) FROM regions") == 3
    found = engine.connect().execute(
        text("SELECT ancestry[1], level, count(*) FROM admin_areas GROUP BY 1, 2")
    )
    levels = {(op, level): n for op, level, n in found}
    assert levels == {
        **{("LBY", 0): 1, ("LBY", 1): 22, ("LBY", 2): 100, ("LBY", 3): 663},
        **{("IRQ", 0): 1, ("IRQ", 1): 18, ("IRQ", 2): 101, ("IRQ", 3): 294, ("IRQ", 4): 2842},
    }
    assert scalar(engine, "SELECT count(*) FROM approximate_boundaries") == 100
    # every baladiya's parent is a mantika of the same region
    assert (
        scalar(
            engine,
            """
        SELECT count(*) FROM admin_areas b JOIN admin_areas m ON m.pcode = b.parent_pcode
        WHERE b.level = 2 AND (m.level <> 1 OR m.region_pcode <> b.region_pcode)""",
        )
        == 0
    )


def test_round_54_migrants_total_787326(engine):
    by_baladiya = scalar(
        engine,
        """
        SELECT sum(o.individuals) FROM observations o JOIN rounds r ON r.id = o.round_id
        JOIN admin_areas a ON a.pcode = o.pcode
        WHERE r.code = 'R54' AND o.population_type = 'migrant' AND a.level = 2""",
    )
    national = scalar(
        engine,
        """
        SELECT o.individuals FROM observations o JOIN rounds r ON r.id = o.round_id
        WHERE r.code = 'R54' AND o.pcode = 'LBY' AND o.population_type = 'migrant'""",
    )
    nationalities = scalar(
        engine,
        """
        SELECT sum(n.individuals) FROM migrant_nationalities n JOIN rounds r ON r.id = n.round_id
        WHERE r.code = 'R54'""",
    )
    assert by_baladiya == national == nationalities == R54_TOTAL
    assert scalar(engine, "SELECT count(DISTINCT nationality) FROM migrant_nationalities") == 25


def test_published_figures_keep_their_sources(engine):
    assert scalar(engine, "SELECT count(*) FROM published_figures") == 32 + 29 + 16 + 34
    assert scalar(engine, "SELECT count(*) FROM published_figures WHERE source_url IS NULL") == 0
    assert (
        scalar(
            engine, "SELECT count(*) FROM observations WHERE source = '' OR quality <> 'published'"
        )
        == 0
    )


def test_storm_daniel_31_october_snapshot(engine):
    row = (
        engine.connect()
        .execute(
            text("""
        SELECT o.individuals, o.households FROM observations o JOIN rounds r ON r.id = o.round_id
        WHERE r.code = 'storm-daniel-2023-10-31' AND o.pcode = 'LBY'
          AND o.population_type = 'idp'""")
        )
        .one()
    )
    assert tuple(row) == (44_862, 8_907)
    assert (
        scalar(
            engine,
            """
        SELECT o.individuals FROM observations o JOIN rounds r ON r.id = o.round_id
        WHERE r.code = 'storm-daniel-2023-10-31' AND o.pcode = 'LY010102'""",
        )
        == 23_500
    )


def test_round_50_national_figures_with_households(engine):
    rows = (
        engine.connect()
        .execute(
            text("""
        SELECT o.population_type, o.individuals, o.households FROM observations o
        JOIN rounds r ON r.id = o.round_id WHERE r.code = 'R50' ORDER BY 1""")
        )
        .all()
    )
    assert rows == [
        ("idp", 125_802, 25_160),
        ("migrant", 706_509, None),
        ("returnee", 705_426, 141_085),
    ]


def test_population_denominators(engine):
    assert scalar(engine, "SELECT sum(population) FROM populations WHERE year = 2021") == 7_385_679
    assert scalar(engine, "SELECT count(*) FROM populations") == 100


def test_every_baladiya_point_lies_in_its_own_approximate_polygon(engine):
    outside = (
        engine.connect()
        .execute(
            text("""
        SELECT a.pcode FROM admin_areas a JOIN approximate_boundaries ab USING (pcode)
        WHERE NOT ST_Covers(ab.geom, a.geom)""")
        )
        .scalars()
        .all()
    )
    assert outside == []


def test_approximate_polygons_tile_each_mantika(engine):
    rows = (
        engine.connect()
        .execute(
            text("""
        WITH cells AS (
            SELECT b.parent_pcode AS mantika, ab.geom FROM approximate_boundaries ab
            JOIN admin_areas b USING (pcode))
        SELECT m.pcode, ST_Area(m.geom) AS mantika_area,
               ST_Area(ST_SymDifference(ST_Union(c.geom), m.geom)) AS gap_or_spill,
               sum(ST_Area(c.geom)) AS summed
        FROM admin_areas m JOIN cells c ON c.mantika = m.pcode
        WHERE m.level = 1 GROUP BY m.pcode, m.geom""")
        )
        .mappings()
        .all()
    )
    assert len(rows) == 22
    for r in rows:
        # the union equals the mantika and the cells do not overlap (areas add up)
        assert r["gap_or_spill"] / r["mantika_area"] < 1e-9, r["pcode"]
        assert r["summed"] == pytest.approx(r["mantika_area"], rel=1e-9), r["pcode"]


def test_single_baladiya_mantikas_get_the_whole_mantika(engine):
    rows = (
        engine.connect()
        .execute(
            text("""
        SELECT b.pcode, ab.method, ST_Equals(ab.geom, m.geom) AS same FROM admin_areas b
        JOIN approximate_boundaries ab USING (pcode) JOIN admin_areas m ON m.pcode = b.parent_pcode
        WHERE ab.method = 'whole_mantika' ORDER BY 1""")
        )
        .all()
    )
    assert rows == [("LY031701", "whole_mantika", True), ("LY032101", "whole_mantika", True)]


def test_arabic_names_round_trip_byte_for_byte(engine, data_dir):
    source = json.loads((data_dir / "ocha_cod_ab_lby/Adm3_MajorCities.geojson").read_bytes())
    expected = {f["properties"]["pcode"]: f["properties"]["featureN_1"] for f in source["features"]}
    stored = dict(
        engine.connect()
        .execute(text("SELECT pcode, name_ar FROM admin_areas WHERE level = 2"))
        .all()
    )
    assert len(expected) == 100
    for pcode, name in expected.items():
        assert stored[pcode].encode("utf-8") == name.encode("utf-8"), pcode


def test_second_load_changes_nothing_and_says_so(engine, db_url, data_dir, first_load):
    assert first_load.changed
    version = scalar(engine, "SELECT version FROM data_version")
    counts = {t: scalar(engine, f"SELECT count(*) FROM {t}") for t in Base.metadata.tables}
    again = load_default_data(db_url, data_dir)
    assert not again.changed
    assert "no changes" in again.summary()
    assert all(c.inserted == c.updated == c.deleted == 0 for c in again.counts.by_table.values())
    assert scalar(engine, "SELECT version FROM data_version") == version
    assert {t: scalar(engine, f"SELECT count(*) FROM {t}") for t in Base.metadata.tables} == counts


# --- bad input loads nothing ------------------------------------------------------------

# the transcriptions are in the repository's data/published/, copied into the data copy's
# published/ folder by the fixture and loaded from there
POPULATION = "published/ocha_hno2021_resident_population_by_baladiya.csv"
FIGURES = "published/storm_daniel_2023_published_figures.csv"
R54 = "dtm_libya_r54_migrants/DTM_Libya_R54_Migrant_Dataset_PUBLIC.xlsx"
POINTS = "ocha_cod_ab_lby/Adm3_MajorCities.geojson"


def _replace_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def _negative_population(d: Path):
    _replace_line(d / POPULATION, 3, "149498", "-149498")
    return f"data/{POPULATION}", 3, "resident_population_2021"


def _text_in_figure_value(d: Path):
    _replace_line(d / FIGURES, 2, ",410,", ",four hundred,")
    return f"data/{FIGURES}", 2, "value"


def _truncated_workbook(d: Path):
    data = (d / R54).read_bytes()
    (d / R54).write_bytes(data[: len(data) // 2])
    return R54, None, None


def _not_geojson(d: Path):
    (d / POINTS).write_text("{ this is not json", encoding="utf-8")
    return POINTS, None, None


def _unknown_baladiya(d: Path):
    _replace_line(d / POPULATION, 3, "LY010102", "LY019999")
    return f"data/{POPULATION}", 3, "adm3_pcode"


@pytest.fixture
def data_copy(tmp_path, data_dir) -> Path:
    """The data directory's files, and the repository's transcriptions under published/."""
    target = tmp_path / "data"
    shutil.copytree(data_dir, target)
    shutil.copytree(PUBLISHED_DIR, target / "published")
    for path in target.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return target


@pytest.mark.parametrize(
    "corrupt",
    [
        _negative_population,
        _text_in_figure_value,
        _truncated_workbook,
        _not_geojson,
        _unknown_baladiya,
    ],
)
def test_a_corrupt_file_loads_nothing_and_names_file_row_field(scratch_url, data_copy, corrupt):
    file, row, field = corrupt(data_copy)
    db.migrate(scratch_url)
    with pytest.raises(LoadError) as caught:
        load_default_data(scratch_url, data_copy, published_dir=data_copy / "published")
    message = str(caught.value)
    assert message.startswith(file)
    if row is not None:
        assert f"row {row}" in message and f"field '{field}'" in message
    engine = create_engine(scratch_url)
    for table in Base.metadata.tables:
        expected = 1 if table == "data_version" else 0
        assert scalar(engine, f"SELECT count(*) FROM {table}") == expected, table
    engine.dispose()


def test_a_corrupt_file_leaves_loaded_data_untouched(engine, db_url, data_copy):
    before = scalar(engine, "SELECT sum(population) FROM populations")
    version = scalar(engine, "SELECT version FROM data_version")
    _replace_line(data_copy / POPULATION, 2, "31883", "31884")  # a valid change...
    _negative_population(data_copy)  # ...and a bad row later in the same file
    with pytest.raises(LoadError):
        load_default_data(db_url, data_copy, published_dir=data_copy / "published")
    assert scalar(engine, "SELECT sum(population) FROM populations") == before
    assert scalar(engine, "SELECT version FROM data_version") == version


def test_a_missing_data_directory_is_a_clear_error(db_url, tmp_path):
    with pytest.raises(LoadError, match="data directory not found"):
        load_default_data(db_url, tmp_path / "nowhere")
