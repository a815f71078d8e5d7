"""Each area's properties on the statistics map, stored encoded (app.services.rollup).

A map page is put together from stored bytes instead of pivoting and encoding each area's
figures per request; every write rebuilds the rounds it touched, as for the roll-up.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mapped_areas",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("qualities", sa.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("pcode", sa.String(length=10), nullable=False),
        sa.Column(
            "properties",
            sa.LargeBinary(),
            nullable=False,
            comment="the properties with the official geometry",
        ),
        sa.Column(
            "properties_approximate",
            sa.LargeBinary(),
            nullable=True,
            comment="with the approximate polygon, where the area has one",
        ),
        sa.CheckConstraint("level IN (0, 1, 2, 3)", name=op.f("ck_mapped_areas_level")),
        sa.ForeignKeyConstraint(
            ["pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_mapped_areas_pcode_admin_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_mapped_areas_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapped_areas")),
        sa.UniqueConstraint(
            "qualities", "level", "round_id", "pcode", name="uq_mapped_areas_natural_key"
        ),
    )
    # the data already stored is rolled up by app.db.migrate once the upgrade is done (with
    # the code of the schema it reaches); from here on every write keeps it


def downgrade() -> None:
    op.drop_table("mapped_areas")
