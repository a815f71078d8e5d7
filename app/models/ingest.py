"""API keys, the audit trail of writes, and the previous values they replaced."""

from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class ApiKey(Base):
    """A key for writing (scopes `ingest`, `admin`) or, when required, reading (`read`).

    Only a SHA-256 of the secret is stored; the key itself is shown once, at creation.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True, comment="public part")
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    operation: Mapped[str | None] = mapped_column(
        ForeignKey("operations.iso3"), comment="the one operation it may write; any when empty"
    )

    __table_args__ = (
        CheckConstraint("scopes <@ ARRAY['read', 'ingest', 'admin']::text[]", name="scopes"),
        CheckConstraint("cardinality(scopes) > 0", name="scopes_not_empty"),
    )


class Submission(Base):
    """One write: who, when, what, the payload's checksum and what it changed."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    key_name: Mapped[str] = mapped_column(Text, comment="key name, or 'cli' for local imports")
    round_code: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    request_sha256: Mapped[str | None] = mapped_column(
        String(64),
        comment="checksum of the parameters outside the payload (source, source_url, "
        "quality, dry_run); empty for round metadata and deletions",
    )
    counts: Mapped[dict] = mapped_column(JSONB)
    round_revision: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            "dataset IN ('round', 'observations', 'flows', 'nationalities', 'file')",
            name="dataset",
        ),
        CheckConstraint("mode IN ('upsert', 'replace', 'metadata', 'delete')", name="mode"),
        Index(
            "uq_submissions_idempotency",
            "api_key_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        Index("ix_submissions_round_code", "round_code", "id"),
    )


class RowHistory(Base):
    """The values a submission replaced or removed, so that they stay retrievable."""

    __tablename__ = "row_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    table_name: Mapped[str] = mapped_column(String(32))
    change: Mapped[str] = mapped_column(String(8))
    row_key: Mapped[dict] = mapped_column(JSONB)
    old_values: Mapped[dict] = mapped_column(JSONB)

    __table_args__ = (
        CheckConstraint("change IN ('update', 'delete')", name="change"),
        Index("ix_row_history_submission", "submission_id"),
    )


__all__ = ["ApiKey", "RowHistory", "Submission"]
