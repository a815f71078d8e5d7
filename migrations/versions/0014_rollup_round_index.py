"""Index the roll-up and the map by round: a write rebuilds its round's rows, which were
found by scanning every round's (a sync of Iraq's 79 rounds spent most of its time there).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_rolled_up_figures_round", "rolled_up_figures", ["round_id"])
    op.create_index("ix_mapped_areas_round", "mapped_areas", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_mapped_areas_round", table_name="mapped_areas")
    op.drop_index("ix_rolled_up_figures_round", table_name="rolled_up_figures")
