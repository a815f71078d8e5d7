"""The schema comes from Alembic alone: it applies from empty, matches the models, and
downgrades cleanly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app import db
from app.models import Base

OUR_TABLES = set(Base.metadata.tables)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_postgis_and_every_table(scratch_url):
    assert _tables(scratch_url) == set()
    db.migrate(scratch_url)
    assert _tables(scratch_url) >= OUR_TABLES
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT postgis_version()")).scalar()
        assert conn.execute(text("SELECT version FROM data_version")).scalar() == 0
    engine.dispose()
    current, head = db.migration_state(scratch_url)
    assert current == head


def test_migrations_match_the_models(db_url):
    engine = create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    ours = [d for d in diff if not (d[0] == "remove_table" and d[1].name not in OUR_TABLES)]
    assert ours == []


def test_downgrade_to_base_removes_our_tables_and_upgrade_again_works(scratch_url):
    db.migrate(scratch_url)
    db.downgrade(scratch_url, "base")
    assert _tables(scratch_url) & OUR_TABLES == set()
    db.migrate(scratch_url)
    assert _tables(scratch_url) >= OUR_TABLES


def test_spatial_columns_have_gist_indexes(db_url):
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("""SELECT tablename FROM pg_indexes
                    WHERE indexdef LIKE '%USING gist (geom)%' ORDER BY tablename""")
        ).scalars()
        assert list(rows) == ["admin_areas", "approximate_boundaries", "regions", "tile_geometries"]
    engine.dispose()
