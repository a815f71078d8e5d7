"""What the live sources (the DTM API, HDX) hold and when they were last read.

`sync_sources` has one row per source of an operation (`dtm-api/IRQ`,
`hdx/iraq-idps-data-iom-dtm`): its last attempt, last success and last error.
`sync_items` has one row per unit a source delivers, a round of API records or an HDX
resource, with the checksum of what was read, so a sync with nothing new writes nothing,
and the ids of the records a round's figures came from.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, in_list

SOURCE_KINDS = ("dtm-api", "hdx")
ITEM_STATUSES = ("written", "held", "refused", "skipped")


class SyncSource(Base):
    """A live source of one operation's figures."""

    __tablename__ = "sync_sources"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    operation: Mapped[str] = mapped_column(ForeignKey("operations.iso3"))
    url: Mapped[str] = mapped_column(Text, comment="what is read, without any key")
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_run_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="set by `dtm-geo sync --every`"
    )

    __table_args__ = (CheckConstraint(in_list("kind", SOURCE_KINDS), name="kind"),)


class SyncItem(Base):
    """A round of API records or an HDX resource, as last read."""

    __tablename__ = "sync_items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_name: Mapped[str] = mapped_column(ForeignKey("sync_sources.name", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(Text, comment="round code, or HDX resource id")
    round_code: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), comment="of the records or file read")
    records: Mapped[int] = mapped_column(Integer)
    record_ids: Mapped[dict | None] = mapped_column(
        JSONB, comment='{"admin2:IRQ-G01Q01": 13519}: the record each figure came from'
    )
    url: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    last_modified: Mapped[str | None] = mapped_column(Text, comment="as HDX gives it")
    retrieved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("source_name", "item"),
        CheckConstraint(in_list("status", ITEM_STATUSES), name="status"),
        CheckConstraint("records >= 0", name="records"),
    )
