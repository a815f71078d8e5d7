"""Live sources: the DTM API and HDX datasets each operation syncs from, and what each
round or resource held when it was last read.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sync_sources",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("operation", sa.String(3), nullable=False),
        sa.Column("url", sa.Text(), nullable=False, comment="what is read, without any key"),
        sa.Column("last_attempt_at", STAMP, nullable=True),
        sa.Column("last_success_at", STAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_run_at", STAMP, nullable=True, comment="set by `dtm-geo sync --every`"),
        sa.ForeignKeyConstraint(
            ["operation"], ["operations.iso3"], name=op.f("fk_sync_sources_operation_operations")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_sources")),
        sa.CheckConstraint("kind IN ('dtm-api', 'hdx')", name=op.f("ck_sync_sources_kind")),
    )
    op.create_table(
        "sync_items",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False, comment="round code, or HDX resource id"),
        sa.Column("round_code", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False, comment="of the records or file read"),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column(
            "record_ids",
            postgresql.JSONB(),
            nullable=True,
            comment='{"admin2:IRQ-G01Q01": 13519}: the record each figure came from',
        ),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True, comment="as HDX gives it"),
        sa.Column("retrieved_at", STAMP, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_name"],
            ["sync_sources.name"],
            name=op.f("fk_sync_items_source_name_sync_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_items")),
        sa.UniqueConstraint("source_name", "item", name=op.f("uq_sync_items_source_name_item")),
        sa.CheckConstraint(
            "status IN ('written', 'held', 'refused', 'skipped')",
            name=op.f("ck_sync_items_status"),
        ),
        sa.CheckConstraint("records >= 0", name=op.f("ck_sync_items_records")),
    )


def downgrade() -> None:
    op.drop_table("sync_items")
    op.drop_table("sync_sources")
