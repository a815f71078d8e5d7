"""Each area's ancestry: the one definition of "an area and what lies within it".

`admin_areas.ancestry` holds the pcodes from the country down to the area itself
(`ancestry[level + 1]` is the area's own pcode, `ancestry[n + 1]` its ancestor at level n).
A trigger keeps it from the parent's, so every writer gets it right; an area lies within
another when the other's pcode is in its ancestry, at any depth. The stored roll-up keeps
a copy, so statistics filter on it without a join.

Derived tables are not rebuilt here: `app.db.migrate` rebuilds them after an upgrade
with the code that matches the schema it reached.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PCODES = sa.ARRAY(sa.String(length=10))


def upgrade() -> None:
    op.add_column(
        "admin_areas",
        sa.Column("ancestry", PCODES, nullable=True, comment="pcodes from the country down to it"),
    )
    op.execute("""
        WITH RECURSIVE tree AS (
            SELECT pcode, ARRAY[pcode]::varchar(10)[] AS ancestry
            FROM admin_areas WHERE parent_pcode IS NULL
            UNION ALL
            SELECT a.pcode, (t.ancestry || a.pcode)::varchar(10)[]
            FROM admin_areas a JOIN tree t ON a.parent_pcode = t.pcode
        )
        UPDATE admin_areas a SET ancestry = tree.ancestry FROM tree WHERE tree.pcode = a.pcode
    """)
    op.execute("""
        CREATE FUNCTION admin_area_ancestry() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.ancestry := coalesce(
                (SELECT p.ancestry FROM admin_areas p WHERE p.pcode = NEW.parent_pcode),
                ARRAY[]::varchar(10)[]) || NEW.pcode::varchar(10);
            RETURN NEW;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER admin_areas_ancestry BEFORE INSERT OR UPDATE OF pcode, parent_pcode
        ON admin_areas FOR EACH ROW EXECUTE FUNCTION admin_area_ancestry()
    """)
    op.alter_column("admin_areas", "ancestry", nullable=False)
    op.create_check_constraint(
        op.f("ck_admin_areas_ancestry_ends_with_itself"),
        "admin_areas",
        "cardinality(ancestry) = level + 1 AND ancestry[level + 1] = pcode",
    )
    op.create_index("ix_admin_areas_ancestry", "admin_areas", ["ancestry"], postgresql_using="gin")

    # derived: emptied, and rebuilt after the upgrade by app.db.migrate
    op.execute("DELETE FROM rolled_up_figures")
    op.add_column(
        "rolled_up_figures",
        sa.Column("ancestry", PCODES, nullable=False, comment="copy of the area's ancestry"),
    )


def downgrade() -> None:
    op.drop_column("rolled_up_figures", "ancestry")
    op.drop_index("ix_admin_areas_ancestry", table_name="admin_areas")
    op.drop_constraint(
        op.f("ck_admin_areas_ancestry_ends_with_itself"), "admin_areas", type_="check"
    )
    op.execute("DROP TRIGGER admin_areas_ancestry ON admin_areas")
    op.execute("DROP FUNCTION admin_area_ancestry()")
    op.drop_column("admin_areas", "ancestry")
