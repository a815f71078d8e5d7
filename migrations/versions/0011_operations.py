"""Operations as data: a DTM operation (Libya, Iraq...) is a row with its levels, its
pcode crosswalk to the DTM API, and its rounds.

- `operations` (natural key: the country's ISO3 code) and `operation_levels` (its levels
  with their names in English and Arabic); `dtm_pcodes` maps the DTM API's pcodes
  (`IRQ-G01Q01`) to the areas' (`IQG01Q01`).
- Every pcode column widens to 16 characters (Iraq's sub-districts have 11, its DTM
  locations more), and levels run 0-4 (Iraq's locations lie below its sub-districts).
- The checks that said "Libya" (points for baladiyas and muhallas, a region for every
  area) become generic ones; what a level holds is the operation's data.
- `rounds.operation`: a round belongs to one operation. Mobility-tracking numbers are
  unique within an operation and reporting date (DTM's Iraq round 48 has two dates).
  `rounds.all_areas_assessed`: the round's figures cover every area DTM assessed, so an
  area without a figure had none to report and sums over the level are whole.
- `api_keys.operation`: a key may be limited to one operation's writes.

Rounds already stored belong to Libya, the operation the project served until now; its
row is written here so they can refer to it (the loader fills in the rest from
data/catalog/operations.csv). Derived tables are rebuilt by `app.db.migrate`.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDE, NARROW = 16, 10

# every pcode column of the schema, and the ancestry arrays
_PCODE_COLUMNS = {
    "admin_areas": ("pcode", "parent_pcode", "ocha_pcode"),
    "approximate_boundaries": ("pcode",),
    "admin_area_names": ("pcode",),
    "populations": ("pcode",),
    "observations": ("pcode",),
    "flows": ("origin_pcode", "destination_pcode"),
    "migrant_nationalities": ("pcode",),
    "published_figures": ("pcode",),
    "indicators": ("pcode",),
    "rolled_up_figures": ("pcode", "parent_pcode", "grandparent_pcode"),
    "mapped_areas": ("pcode",),
}
_ANCESTRY = ("admin_areas", "rolled_up_figures")


def _trigger(width: int) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION admin_area_ancestry() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.ancestry := coalesce(
                (SELECT p.ancestry FROM admin_areas p WHERE p.pcode = NEW.parent_pcode),
                ARRAY[]::varchar({width})[]) || NEW.pcode::varchar({width});
            RETURN NEW;
        END $$
    """


def _widen(width: int) -> None:
    # a column a trigger names cannot change type: the trigger goes and comes back
    op.execute("DROP TRIGGER admin_areas_ancestry ON admin_areas")
    for table, columns in _PCODE_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.String(length=width))
    for table in _ANCESTRY:
        op.alter_column(table, "ancestry", type_=sa.ARRAY(sa.String(length=width)))
    op.execute(_trigger(width))
    op.execute("""
        CREATE TRIGGER admin_areas_ancestry BEFORE INSERT OR UPDATE OF pcode, parent_pcode
        ON admin_areas FOR EACH ROW EXECUTE FUNCTION admin_area_ancestry()
    """)


def _levels(table: str, levels: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_level"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_level"), table, f"level IN ({levels})")


_LIBYA_CHECKS = {
    "geom_unless_muhalla": "geom IS NOT NULL OR level = 3",
    "no_ocha_pcode_for_muhalla": "(level = 3) = (ocha_pcode IS NULL)",
    "no_ocha_level_for_muhalla": "(level = 3) = (ocha_level IS NULL)",
    "region_unless_country": "(level = 0) = (region_pcode IS NULL)",
    "points_only_for_baladiya_muhalla": "(level IN (2, 3)) = (GeometryType(geom) = 'POINT')",
}
_GENERIC_CHECKS = {
    "country_has_geom": "level > 0 OR geom IS NOT NULL",
    "ocha_pcode_with_level": "(ocha_pcode IS NULL) = (ocha_level IS NULL)",
    "no_region_for_country": "level > 0 OR region_pcode IS NULL",
    "country_is_its_operation": "level > 0 OR length(pcode) = 3",
}


def upgrade() -> None:
    _widen(WIDE)

    op.create_table(
        "operations",
        sa.Column("iso3", sa.String(length=3), nullable=False, comment="the country's ISO3 code"),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_ar", sa.Text(), nullable=False),
        sa.Column("dtm_operation", sa.Text(), nullable=False, comment="as the DTM API names it"),
        sa.Column("ocha_prefix", sa.String(length=2), nullable=False, comment="COD pcode prefix"),
        sa.Column("round_prefix", sa.String(length=8), nullable=False, comment="of round codes"),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("boundary_source", sa.Text(), nullable=False),
        sa.Column("figures_source", sa.Text(), nullable=False),
        sa.Column("denominators", sa.Text(), nullable=False, comment="what per-capita rates use"),
        sa.CheckConstraint("iso3 ~ '^[A-Z]{3}$'", name=op.f("ck_operations_iso3_format")),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_operations_slug_format")
        ),
        sa.CheckConstraint("ocha_prefix ~ '^[A-Z]{2}$'", name=op.f("ck_operations_ocha_prefix")),
        sa.PrimaryKeyConstraint("iso3", name=op.f("pk_operations")),
        sa.UniqueConstraint("slug", name=op.f("uq_operations_slug")),
        sa.UniqueConstraint("dtm_operation", name=op.f("uq_operations_dtm_operation")),
    )
    op.create_index(
        "uq_operations_default",
        "operations",
        ["is_default"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "operation_levels",
        sa.Column("operation", sa.String(length=3), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_ar", sa.Text(), nullable=False),
        sa.Column("plural_en", sa.Text(), nullable=False),
        sa.Column("plural_ar", sa.Text(), nullable=False),
        sa.Column("geometry", sa.String(length=8), nullable=False, comment="polygon or point"),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint("level IN (0, 1, 2, 3, 4)", name=op.f("ck_operation_levels_level")),
        sa.CheckConstraint(
            "geometry IN ('polygon', 'point')", name=op.f("ck_operation_levels_geometry")
        ),
        sa.ForeignKeyConstraint(
            ["operation"],
            ["operations.iso3"],
            name=op.f("fk_operation_levels_operation_operations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operation", "level", name=op.f("pk_operation_levels")),
    )
    op.create_table(
        "dtm_pcodes",
        sa.Column("operation", sa.String(length=3), nullable=False),
        sa.Column(
            "dtm_pcode", sa.String(length=24), nullable=False, comment="as the API writes it"
        ),
        sa.Column("pcode", sa.String(length=WIDE), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation"], ["operations.iso3"], name=op.f("fk_dtm_pcodes_operation_operations")
        ),
        sa.ForeignKeyConstraint(
            ["pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_dtm_pcodes_pcode_admin_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operation", "dtm_pcode", name=op.f("pk_dtm_pcodes")),
    )
    op.create_index("ix_dtm_pcodes_pcode", "dtm_pcodes", ["pcode"])

    for name in _LIBYA_CHECKS:
        op.drop_constraint(op.f(f"ck_admin_areas_{name}"), "admin_areas", type_="check")
    for name, sql in _GENERIC_CHECKS.items():
        op.create_check_constraint(op.f(f"ck_admin_areas_{name}"), "admin_areas", sql)
    for table in ("admin_areas", "rolled_up_figures", "mapped_areas"):
        _levels(table, "0, 1, 2, 3, 4")

    # Libya, to which every round stored until now belongs (the loader completes the row)
    op.execute("""
        INSERT INTO operations (iso3, slug, name_en, name_ar, dtm_operation, ocha_prefix,
                                round_prefix, is_default, boundary_source, figures_source,
                                denominators)
        SELECT 'LBY', 'libya', 'Libya', 'ليبيا', 'Libya Crisis', 'LY', '', true, '', '', ''
        WHERE EXISTS (SELECT 1 FROM rounds) OR EXISTS (SELECT 1 FROM admin_areas)
    """)
    op.add_column("rounds", sa.Column("operation", sa.String(length=3), nullable=True))
    op.execute("UPDATE rounds SET operation = 'LBY'")
    op.alter_column("rounds", "operation", nullable=False)
    op.create_foreign_key(
        op.f("fk_rounds_operation_operations"), "rounds", "operations", ["operation"], ["iso3"]
    )
    op.add_column(
        "rounds",
        sa.Column(
            "all_areas_assessed",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="an area without a figure had none to report: sums are whole",
        ),
    )
    op.drop_index("uq_rounds_mobility_number", table_name="rounds")
    op.create_index(
        "uq_rounds_mobility_number",
        "rounds",
        ["operation", "number", "reporting_date"],
        unique=True,
        postgresql_where=sa.text("kind = 'mobility_tracking' AND number IS NOT NULL"),
        postgresql_nulls_not_distinct=True,
    )
    op.create_index("ix_rounds_operation", "rounds", ["operation"])

    op.add_column(
        "api_keys",
        sa.Column(
            "operation",
            sa.String(length=3),
            nullable=True,
            comment="the one operation it may write; any when empty",
        ),
    )
    op.create_foreign_key(
        op.f("fk_api_keys_operation_operations"), "api_keys", "operations", ["operation"], ["iso3"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_api_keys_operation_operations"), "api_keys", type_="foreignkey")
    op.drop_column("api_keys", "operation")
    op.execute("DELETE FROM rounds WHERE operation <> 'LBY'")
    op.drop_index("ix_rounds_operation", table_name="rounds")
    op.drop_index("uq_rounds_mobility_number", table_name="rounds")
    op.create_index(
        "uq_rounds_mobility_number",
        "rounds",
        ["number"],
        unique=True,
        postgresql_where=sa.text("kind = 'mobility_tracking'"),
    )
    op.drop_column("rounds", "all_areas_assessed")
    op.drop_constraint(op.f("fk_rounds_operation_operations"), "rounds", type_="foreignkey")
    op.drop_column("rounds", "operation")
    op.execute("DELETE FROM rolled_up_figures")
    op.execute("DELETE FROM mapped_areas")
    # areas of other operations go with their figures
    for table, column in (
        ("observations", "pcode"),
        ("indicators", "pcode"),
        ("populations", "pcode"),
        ("migrant_nationalities", "pcode"),
    ):
        op.execute(
            f"DELETE FROM {table} WHERE {column} IN "
            "(SELECT pcode FROM admin_areas WHERE ancestry[1] <> 'LBY')"
        )
    op.drop_table("dtm_pcodes")
    for level in (4, 3, 2, 1, 0):
        op.execute(f"DELETE FROM admin_areas WHERE ancestry[1] <> 'LBY' AND level = {level}")
    for table in ("admin_areas", "rolled_up_figures", "mapped_areas"):
        _levels(table, "0, 1, 2, 3")
    for name in _GENERIC_CHECKS:
        op.drop_constraint(op.f(f"ck_admin_areas_{name}"), "admin_areas", type_="check")
    for name, sql in _LIBYA_CHECKS.items():
        op.create_check_constraint(op.f(f"ck_admin_areas_{name}"), "admin_areas", sql)
    op.drop_table("operation_levels")
    op.drop_index("uq_operations_default", table_name="operations")
    op.drop_table("operations")
    _widen(NARROW)
