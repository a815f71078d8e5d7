"""Initial schema: PostGIS, admin hierarchy, rounds, figures and load bookkeeping.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 13:58:05.315579
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_data_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 0)")
    op.create_table(
        "dataset_loads",
        sa.Column("dataset", sa.Text(), nullable=False, comment="path in DATA_DIR"),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "loaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="when this content was loaded",
        ),
        sa.PrimaryKeyConstraint("dataset", name=op.f("pk_dataset_loads")),
    )
    op.create_table(
        "regions",
        sa.Column("pcode", sa.String(length=8), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_ar", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("valid_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("pcode", name=op.f("pk_regions")),
    )
    op.create_index("ix_regions_geom", "regions", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "number", sa.Integer(), nullable=True, comment="DTM round number, when it has one"
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("collection_start", sa.Date(), nullable=True),
        sa.Column("collection_end", sa.Date(), nullable=True),
        sa.Column("reporting_date", sa.Date(), nullable=True, comment="date the figures refer to"),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "event_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("ck_rounds_event_slug_format")
        ),
        sa.CheckConstraint(
            "kind = 'mobility_tracking' OR event_slug IS NOT NULL",
            name=op.f("ck_rounds_event_slug_for_events"),
        ),
        sa.CheckConstraint(
            "kind IN ('mobility_tracking', 'flash_update', 'event_tracking')",
            name=op.f("ck_rounds_kind"),
        ),
        sa.CheckConstraint(
            "collection_end >= collection_start", name=op.f("ck_rounds_collection_dates_ordered")
        ),
        sa.CheckConstraint("number IS NULL OR number > 0", name=op.f("ck_rounds_number_positive")),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_rounds_revision_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds")),
        sa.UniqueConstraint("code", name=op.f("uq_rounds_code")),
    )
    op.create_index(
        "uq_rounds_mobility_number",
        "rounds",
        ["number"],
        unique=True,
        postgresql_where=sa.text("kind = 'mobility_tracking'"),
    )
    op.create_table(
        "admin_areas",
        sa.Column("pcode", sa.String(length=10), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("parent_pcode", sa.String(length=10), nullable=True),
        sa.Column("region_pcode", sa.String(length=8), nullable=True),
        sa.Column(
            "ocha_pcode",
            sa.String(length=10),
            nullable=False,
            comment="pcode as OCHA's COD spells it",
        ),
        sa.Column("ocha_level", sa.SmallInteger(), nullable=False, comment="OCHA COD admin level"),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_ar", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("geom_source", sa.Text(), nullable=False),
        sa.Column("valid_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "(level = 2) = (GeometryType(geom) = 'POINT')",
            name=op.f("ck_admin_areas_points_only_for_baladiya"),
        ),
        sa.CheckConstraint(
            "(level = 0) = (parent_pcode IS NULL)",
            name=op.f("ck_admin_areas_parent_unless_country"),
        ),
        sa.CheckConstraint(
            "(level = 0) = (region_pcode IS NULL)",
            name=op.f("ck_admin_areas_region_unless_country"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_admin_areas_geom_valid")),
        sa.CheckConstraint("level IN (0, 1, 2)", name=op.f("ck_admin_areas_level")),
        sa.ForeignKeyConstraint(
            ["parent_pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_admin_areas_parent_pcode_admin_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["region_pcode"], ["regions.pcode"], name=op.f("fk_admin_areas_region_pcode_regions")
        ),
        sa.PrimaryKeyConstraint("pcode", name=op.f("pk_admin_areas")),
    )
    op.create_index(
        "ix_admin_areas_geom", "admin_areas", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index("ix_admin_areas_level_pcode", "admin_areas", ["level", "pcode"], unique=False)
    op.create_index("ix_admin_areas_parent_pcode", "admin_areas", ["parent_pcode"], unique=False)
    op.create_table(
        "published_figures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column(
            "row_number", sa.Integer(), nullable=False, comment="data row in the source file"
        ),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("event_slug", sa.String(length=64), nullable=True),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("geography", sa.Text(), nullable=False),
        sa.Column(
            "pcode", sa.String(length=10), nullable=True, comment="DTM pcode or OCHA region pcode"
        ),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("value >= 0", name=op.f("ck_published_figures_value_non_negative")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_published_figures_round_id_rounds"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_figures")),
        sa.UniqueConstraint("dataset", "row_number", name="uq_published_figures_natural_key"),
    )
    op.create_table(
        "admin_area_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pcode", sa.String(length=10), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("match_key", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('official', 'provider', 'alternative')", name=op.f("ck_admin_area_names_kind")
        ),
        sa.CheckConstraint("lang IN ('en', 'ar')", name=op.f("ck_admin_area_names_lang")),
        sa.CheckConstraint("match_key <> ''", name=op.f("ck_admin_area_names_match_key_not_empty")),
        sa.ForeignKeyConstraint(
            ["pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_admin_area_names_pcode_admin_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_area_names")),
        sa.UniqueConstraint(
            "pcode",
            "lang",
            "name",
            "provider",
            name=op.f("uq_admin_area_names_pcode_lang_name_provider"),
        ),
    )
    op.create_index(
        "ix_admin_area_names_match_key", "admin_area_names", ["match_key"], unique=False
    )
    op.create_table(
        "approximate_boundaries",
        sa.Column("pcode", sa.String(length=10), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "method IN ('voronoi_in_mantika', 'whole_mantika')",
            name=op.f("ck_approximate_boundaries_method"),
        ),
        sa.ForeignKeyConstraint(
            ["pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_approximate_boundaries_pcode_admin_areas"),
        ),
        sa.PrimaryKeyConstraint("pcode", name=op.f("pk_approximate_boundaries")),
    )
    op.create_index(
        "ix_approximate_boundaries_geom",
        "approximate_boundaries",
        ["geom"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_table(
        "flows",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("population_type", sa.String(length=10), nullable=False),
        sa.Column("origin_pcode", sa.String(length=10), nullable=False),
        sa.Column("destination_pcode", sa.String(length=10), nullable=False),
        sa.Column("individuals", sa.BigInteger(), nullable=False),
        sa.Column("households", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "population_type IN ('idp', 'returnee', 'migrant')",
            name=op.f("ck_flows_population_type"),
        ),
        sa.CheckConstraint(
            "quality IN ('published', 'modelled', 'synthetic')", name=op.f("ck_flows_quality")
        ),
        sa.CheckConstraint(
            "households IS NULL OR households <= individuals",
            name=op.f("ck_flows_households_le_individuals"),
        ),
        sa.CheckConstraint(
            "households IS NULL OR households >= 0", name=op.f("ck_flows_households_non_negative")
        ),
        sa.CheckConstraint("individuals >= 0", name=op.f("ck_flows_individuals_non_negative")),
        sa.ForeignKeyConstraint(
            ["destination_pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_flows_destination_pcode_admin_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["origin_pcode"], ["admin_areas.pcode"], name=op.f("fk_flows_origin_pcode_admin_areas")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_flows_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
        sa.UniqueConstraint(
            "round_id",
            "population_type",
            "origin_pcode",
            "destination_pcode",
            name="uq_flows_natural_key",
        ),
    )
    op.create_index(
        "ix_flows_destination", "flows", ["destination_pcode", "round_id"], unique=False
    )
    op.create_table(
        "migrant_nationalities",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("pcode", sa.String(length=10), nullable=False),
        sa.Column("nationality", sa.Text(), nullable=False, comment="normalised English name"),
        sa.Column(
            "nationality_provider", sa.Text(), nullable=False, comment="as the provider spelled it"
        ),
        sa.Column("individuals", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "quality IN ('published', 'modelled', 'synthetic')",
            name=op.f("ck_migrant_nationalities_quality"),
        ),
        sa.CheckConstraint(
            "individuals >= 0", name=op.f("ck_migrant_nationalities_individuals_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_migrant_nationalities_pcode_admin_areas"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_migrant_nationalities_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migrant_nationalities")),
        sa.UniqueConstraint(
            "round_id", "pcode", "nationality", name="uq_migrant_nationalities_natural_key"
        ),
    )
    op.create_table(
        "observations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("pcode", sa.String(length=10), nullable=False),
        sa.Column("population_type", sa.String(length=10), nullable=False),
        sa.Column("displacement_reason", sa.Text(), nullable=True),
        sa.Column("individuals", sa.BigInteger(), nullable=False),
        sa.Column("households", sa.BigInteger(), nullable=True),
        sa.Column("males", sa.BigInteger(), nullable=True),
        sa.Column("females", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "population_type IN ('idp', 'returnee', 'migrant')",
            name=op.f("ck_observations_population_type"),
        ),
        sa.CheckConstraint(
            "quality IN ('published', 'modelled', 'synthetic')",
            name=op.f("ck_observations_quality"),
        ),
        sa.CheckConstraint(
            "coalesce(males, 0) + coalesce(females, 0) <= individuals",
            name=op.f("ck_observations_sex_le_individuals"),
        ),
        sa.CheckConstraint(
            "females IS NULL OR females >= 0", name=op.f("ck_observations_females_non_negative")
        ),
        sa.CheckConstraint(
            "households IS NULL OR households <= individuals",
            name=op.f("ck_observations_households_le_individuals"),
        ),
        sa.CheckConstraint(
            "households IS NULL OR households >= 0",
            name=op.f("ck_observations_households_non_negative"),
        ),
        sa.CheckConstraint(
            "individuals >= 0", name=op.f("ck_observations_individuals_non_negative")
        ),
        sa.CheckConstraint(
            "males IS NULL OR males >= 0", name=op.f("ck_observations_males_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["pcode"], ["admin_areas.pcode"], name=op.f("fk_observations_pcode_admin_areas")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_observations_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
        sa.UniqueConstraint(
            "round_id",
            "pcode",
            "population_type",
            "displacement_reason",
            name="uq_observations_natural_key",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        "ix_observations_pcode_round", "observations", ["pcode", "round_id"], unique=False
    )
    op.create_table(
        "populations",
        sa.Column("pcode", sa.String(length=10), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "quality IN ('published', 'modelled', 'synthetic')", name=op.f("ck_populations_quality")
        ),
        sa.CheckConstraint("population >= 0", name=op.f("ck_populations_population_non_negative")),
        sa.CheckConstraint("year BETWEEN 1950 AND 2100", name=op.f("ck_populations_year_range")),
        sa.ForeignKeyConstraint(
            ["pcode"], ["admin_areas.pcode"], name=op.f("fk_populations_pcode_admin_areas")
        ),
        sa.PrimaryKeyConstraint("pcode", "year", "source", name=op.f("pk_populations")),
    )


def downgrade() -> None:
    # The postgis extension stays: other schemas in the database may rely on it.
    op.drop_table("populations")
    op.drop_index("ix_observations_pcode_round", table_name="observations")
    op.drop_table("observations")
    op.drop_table("migrant_nationalities")
    op.drop_index("ix_flows_destination", table_name="flows")
    op.drop_table("flows")
    op.drop_index(
        "ix_approximate_boundaries_geom",
        table_name="approximate_boundaries",
        postgresql_using="gist",
    )
    op.drop_table("approximate_boundaries")
    op.drop_index("ix_admin_area_names_match_key", table_name="admin_area_names")
    op.drop_table("admin_area_names")
    op.drop_table("published_figures")
    op.drop_index("ix_admin_areas_parent_pcode", table_name="admin_areas")
    op.drop_index("ix_admin_areas_level_pcode", table_name="admin_areas")
    op.drop_index("ix_admin_areas_geom", table_name="admin_areas", postgresql_using="gist")
    op.drop_table("admin_areas")
    op.drop_index(
        "uq_rounds_mobility_number",
        table_name="rounds",
        postgresql_where=sa.text("kind = 'mobility_tracking'"),
    )
    op.drop_table("rounds")
    op.drop_index("ix_regions_geom", table_name="regions", postgresql_using="gist")
    op.drop_table("regions")
    op.drop_table("dataset_loads")
    op.drop_table("data_version")
