"""A checksum of a submission's parameters beside its payload's, for Idempotency-Key checks.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "submissions",
        sa.Column(
            "request_sha256",
            sa.String(length=64),
            nullable=True,
            comment="checksum of the parameters outside the payload (source, source_url, "
            "quality, dry_run); empty for round metadata and deletions",
        ),
    )


def downgrade() -> None:
    op.drop_column("submissions", "request_sha256")
