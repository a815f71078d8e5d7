"""Observations never hold an empty displacement reason (none is NULL), so the ingest
comparison can join on coalesce(displacement_reason, '') with hash or merge joins.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 01:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE observations SET displacement_reason = NULL WHERE displacement_reason = ''")
    op.create_check_constraint(
        op.f("ck_observations_reason_not_empty"), "observations", "displacement_reason <> ''"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_observations_reason_not_empty"), "observations", type_="check")
