"""Admin level 3, the muhalla (DTM's community; OCHA has no such level), and indicators.

Muhallas are points where DTM gives coordinates and have no geometry otherwise (never an
invented location); they have no OCHA pcode or level. `indicators` holds the published
per-area indicators of a round (shelter settings, reasons, needs, access to services).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_admin_areas_level"), "admin_areas", type_="check")
    op.create_check_constraint(op.f("ck_admin_areas_level"), "admin_areas", "level IN (0, 1, 2, 3)")
    op.drop_constraint(
        op.f("ck_admin_areas_points_only_for_baladiya"), "admin_areas", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_admin_areas_points_only_for_baladiya_muhalla"),
        "admin_areas",
        "(level IN (2, 3)) = (GeometryType(geom) = 'POINT')",
    )
    op.alter_column("admin_areas", "geom", nullable=True)
    op.alter_column("admin_areas", "ocha_pcode", nullable=True)
    op.alter_column("admin_areas", "ocha_level", nullable=True)
    op.create_check_constraint(
        op.f("ck_admin_areas_geom_unless_muhalla"), "admin_areas", "geom IS NOT NULL OR level = 3"
    )
    op.create_check_constraint(
        op.f("ck_admin_areas_no_ocha_pcode_for_muhalla"),
        "admin_areas",
        "(level = 3) = (ocha_pcode IS NULL)",
    )
    op.create_check_constraint(
        op.f("ck_admin_areas_no_ocha_level_for_muhalla"),
        "admin_areas",
        "(level = 3) = (ocha_level IS NULL)",
    )
    op.create_table(
        "indicators",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("pcode", sa.String(length=10), nullable=False),
        sa.Column("population_type", sa.String(length=10), nullable=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("indicator", sa.Text(), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=True),
        sa.Column("text_value", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "quality IN ('published', 'modelled', 'synthetic')", name=op.f("ck_indicators_quality")
        ),
        sa.CheckConstraint(
            "unit IN ('households', 'individuals', 'flag', 'percent', 'count', 'text')",
            name=op.f("ck_indicators_unit"),
        ),
        sa.CheckConstraint(
            "value IS NULL OR value >= 0", name=op.f("ck_indicators_value_non_negative")
        ),
        sa.CheckConstraint(
            "value IS NOT NULL OR text_value IS NOT NULL", name=op.f("ck_indicators_has_value")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_indicators_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pcode"], ["admin_areas.pcode"], name=op.f("fk_indicators_pcode_admin_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint(
            "round_id",
            "pcode",
            "population_type",
            "indicator",
            name=op.f("uq_indicators_natural_key"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index("ix_indicators_indicator_round", "indicators", ["indicator", "round_id"])


def downgrade() -> None:
    op.drop_index("ix_indicators_indicator_round", table_name="indicators")
    op.drop_table("indicators")
    op.execute(
        "DELETE FROM observations o USING admin_areas a WHERE a.pcode = o.pcode AND a.level = 3"
    )
    op.execute(
        "DELETE FROM admin_area_names n USING admin_areas a WHERE a.pcode = n.pcode AND a.level = 3"
    )
    op.execute("DELETE FROM admin_areas WHERE level = 3")
    for name in ("no_ocha_level_for_muhalla", "no_ocha_pcode_for_muhalla", "geom_unless_muhalla"):
        op.drop_constraint(op.f(f"ck_admin_areas_{name}"), "admin_areas", type_="check")
    op.alter_column("admin_areas", "ocha_level", nullable=False)
    op.alter_column("admin_areas", "ocha_pcode", nullable=False)
    op.alter_column("admin_areas", "geom", nullable=False)
    op.drop_constraint(
        op.f("ck_admin_areas_points_only_for_baladiya_muhalla"), "admin_areas", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_admin_areas_points_only_for_baladiya"),
        "admin_areas",
        "(level = 2) = (GeometryType(geom) = 'POINT')",
    )
    op.drop_constraint(op.f("ck_admin_areas_level"), "admin_areas", type_="check")
    op.create_check_constraint(op.f("ck_admin_areas_level"), "admin_areas", "level IN (0, 1, 2)")
