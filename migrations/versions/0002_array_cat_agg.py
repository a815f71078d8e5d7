"""Aggregate that concatenates arrays, for rolling observation ids up the hierarchy.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE AGGREGATE array_cat_agg(anycompatiblearray) "
        "(SFUNC = array_cat, STYPE = anycompatiblearray, INITCOND = '{}')"
    )


def downgrade() -> None:
    op.execute("DROP AGGREGATE array_cat_agg(anycompatiblearray)")
