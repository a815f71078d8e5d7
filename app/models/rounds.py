"""Rounds of data collection: mobility-tracking rounds, flash updates, event tracking."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, in_list
from app.vocabulary import ROUND_KINDS


class Round(Base):
    """One round of one operation. `code` is the natural key, unique across operations
    (`R54`, `storm-daniel-2023-10-31`, `IRQ-R132`)."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    operation: Mapped[str] = mapped_column(ForeignKey("operations.iso3"))
    number: Mapped[int | None] = mapped_column(Integer, comment="DTM round number, when it has one")
    kind: Mapped[str] = mapped_column(String(20))
    event_slug: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    collection_start: Mapped[date | None] = mapped_column(Date)
    collection_end: Mapped[date | None] = mapped_column(Date)
    reporting_date: Mapped[date | None] = mapped_column(Date, comment="date the figures refer to")
    published_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    all_areas_assessed: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("false"),
        comment="an area without a figure had none to report: sums are whole",
    )
    revision: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(in_list("kind", ROUND_KINDS), name="kind"),
        CheckConstraint("number IS NULL OR number > 0", name="number_positive"),
        CheckConstraint(
            "kind = 'mobility_tracking' OR event_slug IS NOT NULL", name="event_slug_for_events"
        ),
        CheckConstraint("event_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="event_slug_format"),
        CheckConstraint("collection_end >= collection_start", name="collection_dates_ordered"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        # Mobility-tracking round numbers are unique within an operation and reporting
        # date (DTM Iraq's round 48 has two); flash updates may reuse none or one.
        Index(
            "uq_rounds_mobility_number",
            "operation",
            "number",
            "reporting_date",
            unique=True,
            postgresql_where=text("kind = 'mobility_tracking' AND number IS NOT NULL"),
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_rounds_operation", "operation"),
    )
