"""Each polygon area's geometry per tile zoom, in Web Mercator and simplified to that
zoom (app.geo.tile_geometries): a low-zoom tile is clipped from stored simplified polygons
instead of transforming and simplifying the full-detail ones on every request.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 19:30:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tile_geometries",
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("zoom", sa.SmallInteger(), nullable=False),
        sa.Column("pcode", sa.String(length=16), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=3857,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('official', 'approximate')", name=op.f("ck_tile_geometries_kind")
        ),
        sa.CheckConstraint("zoom BETWEEN 0 AND 24", name=op.f("ck_tile_geometries_zoom")),
        sa.ForeignKeyConstraint(
            ["pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_tile_geometries_pcode_admin_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "zoom", "pcode", name=op.f("pk_tile_geometries")),
    )
    op.create_index(
        "ix_tile_geometries_geom",
        "tile_geometries",
        ["geom"],
        unique=False,
        postgresql_using="gist",
    )
    # the boundaries already stored are filled in by app.db.migrate once the upgrade is
    # done (with the code of the schema it reaches); from here on every load keeps it


def downgrade() -> None:
    op.drop_index("ix_tile_geometries_geom", table_name="tile_geometries")
    op.drop_table("tile_geometries")
