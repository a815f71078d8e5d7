"""The stored roll-up of observations (app.services.rollup), filled from the data present.

Statistics are read and paged by SQL from it instead of rolled up per request; every
write rebuilds the rounds it touched. It keeps copies of its rounds' and areas' columns, so
a page is read from this one table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rolled_up_figures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("qualities", sa.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("reasons_collapsed", sa.Boolean(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("pcode", sa.String(length=10), nullable=False),
        sa.Column("round_code", sa.String(length=64), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=True),
        sa.Column("round_kind", sa.String(length=20), nullable=False),
        sa.Column("event_slug", sa.String(length=64), nullable=True),
        sa.Column("reporting_date", sa.Date(), nullable=True),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_ar", sa.Text(), nullable=False),
        sa.Column("parent_pcode", sa.String(length=10), nullable=True),
        sa.Column("parent_name_en", sa.Text(), nullable=True),
        sa.Column("parent_name_ar", sa.Text(), nullable=True),
        sa.Column("grandparent_pcode", sa.String(length=10), nullable=True),
        sa.Column("grandparent_name_en", sa.Text(), nullable=True),
        sa.Column("grandparent_name_ar", sa.Text(), nullable=True),
        sa.Column("population_type", sa.String(length=10), nullable=False),
        sa.Column("displacement_reason", sa.Text(), nullable=True),
        sa.Column("individuals", sa.BigInteger(), nullable=False),
        sa.Column("households", sa.BigInteger(), nullable=True),
        sa.Column("males", sa.BigInteger(), nullable=True),
        sa.Column("females", sa.BigInteger(), nullable=True),
        sa.Column(
            "quality", sa.String(length=10), nullable=False, comment="the worst of its parts"
        ),
        sa.Column("units", sa.Integer(), nullable=False, comment="stored figures summed"),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False, comment="the first stored figure"),
        sa.Column("stored_levels", sa.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("sources", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("population", sa.BigInteger(), nullable=True),
        sa.Column("population_year", sa.Integer(), nullable=True),
        sa.Column("per_1000", sa.Float(), nullable=True),
        sa.Column(
            "encoded",
            sa.LargeBinary(),
            nullable=True,
            comment="the row as the API's JSON object (app.serialize), once per write",
        ),
        sa.CheckConstraint(
            "population_type IN ('idp', 'returnee', 'migrant')",
            name=op.f("ck_rolled_up_figures_population_type"),
        ),
        sa.CheckConstraint(
            "quality IN ('published', 'modelled', 'synthetic')",
            name=op.f("ck_rolled_up_figures_quality"),
        ),
        sa.CheckConstraint(
            "NOT reasons_collapsed OR displacement_reason IS NULL",
            name=op.f("ck_rolled_up_figures_collapsed_no_reason"),
        ),
        sa.CheckConstraint("level IN (0, 1, 2, 3)", name=op.f("ck_rolled_up_figures_level")),
        sa.ForeignKeyConstraint(
            ["pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_rolled_up_figures_pcode_admin_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_rolled_up_figures_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rolled_up_figures")),
        sa.UniqueConstraint(
            "qualities",
            "reasons_collapsed",
            "level",
            "round_id",
            "pcode",
            "population_type",
            "displacement_reason",
            name="uq_rolled_up_figures_natural_key",
            postgresql_nulls_not_distinct=True,
        ),
    )
    # the data already stored is rolled up by app.db.migrate once the upgrade is done (with
    # the code of the schema it reaches); from here on every write keeps it


def downgrade() -> None:
    op.drop_table("rolled_up_figures")
