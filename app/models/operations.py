"""DTM operations as data: a country's operation, its levels, and the DTM API's pcodes.

An operation (Libya, Iraq...) is named by its country's ISO3 code, which is also the
pcode of its level-0 area, so an area belongs to the operation first in its ancestry.
Adding an operation is rows here (from data/catalog/) and a loader for its files.
"""

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, in_list
from app.vocabulary import ADMIN_LEVELS, PCODE_LENGTH


class Operation(Base):
    """One DTM operation: its country, its names, and what its figures rest on."""

    __tablename__ = "operations"

    iso3: Mapped[str] = mapped_column(
        String(3), primary_key=True, comment="the country's ISO3 code"
    )
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(Text)
    name_ar: Mapped[str] = mapped_column(Text)
    dtm_operation: Mapped[str] = mapped_column(Text, unique=True, comment="as the DTM API names it")
    ocha_prefix: Mapped[str] = mapped_column(String(2), comment="COD pcode prefix")
    round_prefix: Mapped[str] = mapped_column(String(8), comment="of round codes")
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    boundary_source: Mapped[str] = mapped_column(Text)
    figures_source: Mapped[str] = mapped_column(Text)
    denominators: Mapped[str] = mapped_column(Text, comment="what per-capita rates use")
    map_credit_en: Mapped[str] = mapped_column(Text, server_default=text("''"))
    map_credit_ar: Mapped[str] = mapped_column(Text, server_default=text("''"))
    map_bounds: Mapped[list[float] | None] = mapped_column(
        ARRAY(Float), comment="minlon, minlat, maxlon, maxlat (CRS84) a map opens on"
    )

    __table_args__ = (
        CheckConstraint("iso3 ~ '^[A-Z]{3}$'", name="iso3_format"),
        CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="slug_format"),
        CheckConstraint("ocha_prefix ~ '^[A-Z]{2}$'", name="ocha_prefix"),
        CheckConstraint(
            "map_bounds IS NULL OR (cardinality(map_bounds) = 4 "
            "AND map_bounds[1] < map_bounds[3] AND map_bounds[2] < map_bounds[4])",
            name="map_bounds",
        ),
        Index(
            "uq_operations_default", "is_default", unique=True, postgresql_where=text("is_default")
        ),
    )


class OperationLevel(Base):
    """A level of an operation, as DTM names it (Libya's mantika, Iraq's governorate)."""

    __tablename__ = "operation_levels"

    operation: Mapped[str] = mapped_column(
        ForeignKey("operations.iso3", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    name_en: Mapped[str] = mapped_column(Text)
    name_ar: Mapped[str] = mapped_column(Text)
    plural_en: Mapped[str] = mapped_column(Text)
    plural_ar: Mapped[str] = mapped_column(Text)
    geometry: Mapped[str] = mapped_column(String(8), comment="polygon or point")
    source: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(in_list("level", ADMIN_LEVELS), name="level"),
        CheckConstraint("geometry IN ('polygon', 'point')", name="geometry"),
    )


class DtmPcode(Base):
    """The operation's crosswalk: a pcode as the DTM API writes it, and the area's."""

    __tablename__ = "dtm_pcodes"

    operation: Mapped[str] = mapped_column(ForeignKey("operations.iso3"), primary_key=True)
    dtm_pcode: Mapped[str] = mapped_column(
        String(24), primary_key=True, comment="as the API writes it"
    )
    pcode: Mapped[str] = mapped_column(
        String(PCODE_LENGTH), ForeignKey("admin_areas.pcode", ondelete="CASCADE")
    )

    __table_args__ = (Index("ix_dtm_pcodes_pcode", "pcode"),)
