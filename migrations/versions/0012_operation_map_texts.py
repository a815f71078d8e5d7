"""What an operation's static maps say and show: a short credit line in English and
Arabic (the legend's attribution) and the bounds a map opens on.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for column in ("map_credit_en", "map_credit_ar"):
        op.add_column(
            "operations",
            sa.Column(column, sa.Text(), server_default=sa.text("''"), nullable=False),
        )
    op.add_column(
        "operations",
        sa.Column(
            "map_bounds",
            postgresql.ARRAY(sa.Float()),
            nullable=True,
            comment="minlon, minlat, maxlon, maxlat (CRS84) a map opens on",
        ),
    )
    op.create_check_constraint(
        op.f("ck_operations_map_bounds"),
        "operations",
        "map_bounds IS NULL OR (cardinality(map_bounds) = 4 "
        "AND map_bounds[1] < map_bounds[3] AND map_bounds[2] < map_bounds[4])",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_operations_map_bounds"), "operations", type_="check")
    for column in ("map_bounds", "map_credit_ar", "map_credit_en"):
        op.drop_column("operations", column)
