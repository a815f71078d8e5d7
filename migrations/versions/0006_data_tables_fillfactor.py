"""Half-full pages in the data tables, so a re-submission's updates stay on their page.

An update whose new version fits on the same page, and changes no indexed column (an
ingest never changes a natural key), is a heap-only tuple: no index entry is written.
On full pages every updated row costs an insert into each index, which made re-submitting
a 1,000,000-row round several times slower than its first import. Applies to pages written
from now on; the tables' next rewrite (VACUUM FULL) applies it to the rest.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 01:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("observations", "flows", "migrant_nationalities")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
