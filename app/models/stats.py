"""The figures: observations, flows, migrant nationalities and published report figures.

Every stored number carries its source and a quality label (published, modelled,
synthetic) so that modelled or synthetic numbers are never passed off as published ones.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, in_list
from app.vocabulary import ADMIN_LEVELS, PCODE_LENGTH, POPULATION_TYPES, QUALITIES


def _counted() -> tuple:
    """The CHECK constraints every table of counts shares."""
    return (
        CheckConstraint("individuals >= 0", name="individuals_non_negative"),
        CheckConstraint("households IS NULL OR households >= 0", name="households_non_negative"),
        CheckConstraint(
            "households IS NULL OR households <= individuals", name="households_le_individuals"
        ),
        CheckConstraint(in_list("quality", QUALITIES), name="quality"),
    )


class Observation(Base):
    """Round x location x population type x displacement reason: counts of people."""

    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode"))
    population_type: Mapped[str] = mapped_column(String(10))
    displacement_reason: Mapped[str | None] = mapped_column(Text)
    individuals: Mapped[int] = mapped_column(BigInteger)
    households: Mapped[int | None] = mapped_column(BigInteger)
    males: Mapped[int | None] = mapped_column(BigInteger)
    females: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    quality: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint(
            "round_id",
            "pcode",
            "population_type",
            "displacement_reason",
            name="uq_observations_natural_key",
            postgresql_nulls_not_distinct=True,
        ),
        *_counted(),
        CheckConstraint(in_list("population_type", POPULATION_TYPES), name="population_type"),
        CheckConstraint("males IS NULL OR males >= 0", name="males_non_negative"),
        CheckConstraint("females IS NULL OR females >= 0", name="females_non_negative"),
        CheckConstraint(
            "coalesce(males, 0) + coalesce(females, 0) <= individuals", name="sex_le_individuals"
        ),
        # the ingest comparison reads a NULL reason as '' (app/ingest/pipeline.py)
        CheckConstraint("displacement_reason <> ''", name="reason_not_empty"),
        Index("ix_observations_pcode_round", "pcode", "round_id"),
    )


class Flow(Base):
    """People of one population type moving from an origin to a destination in a round."""

    __tablename__ = "flows"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    population_type: Mapped[str] = mapped_column(String(10))
    origin_pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode"))
    destination_pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode"))
    individuals: Mapped[int] = mapped_column(BigInteger)
    households: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    quality: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint(
            "round_id",
            "population_type",
            "origin_pcode",
            "destination_pcode",
            name="uq_flows_natural_key",
        ),
        *_counted(),
        CheckConstraint(in_list("population_type", POPULATION_TYPES), name="population_type"),
        Index("ix_flows_destination", "destination_pcode", "round_id"),
    )


class MigrantNationality(Base):
    """Migrants of one nationality in one area and round."""

    __tablename__ = "migrant_nationalities"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode"))
    nationality: Mapped[str] = mapped_column(Text, comment="normalised English name")
    nationality_provider: Mapped[str] = mapped_column(Text, comment="as the provider spelled it")
    individuals: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text)
    quality: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        UniqueConstraint(
            "round_id", "pcode", "nationality", name="uq_migrant_nationalities_natural_key"
        ),
        CheckConstraint("individuals >= 0", name="individuals_non_negative"),
        CheckConstraint(in_list("quality", QUALITIES), name="quality"),
    )


class PublishedFigure(Base):
    """A figure as a report published it (long format), whatever its metric.

    Figures that fit the observation model are also loaded as observations; this table
    keeps every published number, including shares, deaths and region totals, with its
    source, so that event pages can tell the story as published.
    """

    __tablename__ = "published_figures"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int] = mapped_column(Integer, comment="data row in the source file")
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    event_slug: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(Text)
    geography: Mapped[str] = mapped_column(Text)
    pcode: Mapped[str | None] = mapped_column(
        String(PCODE_LENGTH), comment="DTM pcode or OCHA region pcode"
    )
    metric: Mapped[str] = mapped_column(Text)
    value: Mapped[Decimal] = mapped_column(Numeric)
    unit: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("dataset", "row_number", name="uq_published_figures_natural_key"),
        CheckConstraint("value >= 0", name="value_non_negative"),
    )


class DatasetLoad(Base):
    """The checksum of what was last loaded from each source file."""

    __tablename__ = "dataset_loads"

    dataset: Mapped[str] = mapped_column(Text, primary_key=True, comment="path in DATA_DIR")
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="when this content was loaded"
    )


class DataVersion(Base):
    """A single row whose version grows with every change to the data (ETags key on it)."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class Indicator(Base):
    """One published indicator of an area in a round (a shelter setting's households, a
    reason for leaving, a priority need, a service's availability...), with its unit.

    `unit` says how it may be summed up the hierarchy (app.services.indicators): `households`
    and `individuals` add up; `flag` (1 yes, 0 no) and `rank` (1st, 2nd, 3rd priority) are
    counted as a share of the areas below that report them."""

    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode"))
    population_type: Mapped[str | None] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(Text)
    indicator: Mapped[str] = mapped_column(Text)
    value: Mapped[Decimal | None] = mapped_column(Numeric)
    text_value: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    quality: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        UniqueConstraint(
            "round_id",
            "pcode",
            "population_type",
            "indicator",
            name="uq_indicators_natural_key",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint(in_list("quality", QUALITIES), name="quality"),
        CheckConstraint(
            in_list("unit", ("households", "individuals", "flag", "percent", "count", "text")),
            name="unit",
        ),
        CheckConstraint("value IS NULL OR value >= 0", name="value_non_negative"),
        CheckConstraint("value IS NOT NULL OR text_value IS NOT NULL", name="has_value"),
        Index("ix_indicators_indicator_round", "indicator", "round_id"),
    )


class RolledUpFigure(Base):
    """Observations rolled up the admin hierarchy (app.services.hierarchy), stored.

    Derived data: app.services.rollup rebuilds the rows of every round a write touches
    (of every round when areas change), in the write's transaction, so statistics are
    read and paged by SQL from this one table instead of rolled up per request.

    One row per selection of qualities (in vocabulary order), reason handling
    (`reasons_collapsed`: one total per area instead of one row per reason), level,
    round, area, population type and reason."""

    __tablename__ = "rolled_up_figures"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    qualities: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    reasons_collapsed: Mapped[bool] = mapped_column(Boolean)
    level: Mapped[int] = mapped_column(SmallInteger)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode", ondelete="CASCADE"))
    # copies of the round's and the area's columns, so a page is read from one table
    round_code: Mapped[str] = mapped_column(String(64))
    round_number: Mapped[int | None] = mapped_column(Integer)
    round_kind: Mapped[str] = mapped_column(String(20))
    event_slug: Mapped[str | None] = mapped_column(String(64))
    reporting_date: Mapped[date | None] = mapped_column(Date)
    name_en: Mapped[str] = mapped_column(Text)
    name_ar: Mapped[str] = mapped_column(Text)
    parent_pcode: Mapped[str | None] = mapped_column(String(PCODE_LENGTH))
    parent_name_en: Mapped[str | None] = mapped_column(Text)
    parent_name_ar: Mapped[str | None] = mapped_column(Text)
    grandparent_pcode: Mapped[str | None] = mapped_column(String(PCODE_LENGTH))
    grandparent_name_en: Mapped[str | None] = mapped_column(Text)
    grandparent_name_ar: Mapped[str | None] = mapped_column(Text)
    ancestry: Mapped[list[str]] = mapped_column(
        ARRAY(String(PCODE_LENGTH)), comment="copy of the area's ancestry"
    )
    population_type: Mapped[str] = mapped_column(String(10))
    displacement_reason: Mapped[str | None] = mapped_column(Text)
    individuals: Mapped[int] = mapped_column(BigInteger)
    households: Mapped[int | None] = mapped_column(BigInteger)
    males: Mapped[int | None] = mapped_column(BigInteger)
    females: Mapped[int | None] = mapped_column(BigInteger)
    quality: Mapped[str] = mapped_column(String(10), comment="the worst of its parts")
    units: Mapped[int] = mapped_column(Integer, comment="stored figures summed")
    complete: Mapped[bool] = mapped_column(Boolean)
    record_id: Mapped[int] = mapped_column(BigInteger, comment="the first stored figure")
    stored_levels: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger))
    sources: Mapped[list[str]] = mapped_column(ARRAY(Text))
    population: Mapped[int | None] = mapped_column(BigInteger)
    population_year: Mapped[int | None] = mapped_column(Integer)
    per_1000: Mapped[float | None] = mapped_column(Float)
    encoded: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="the row as the API's JSON object (app.serialize), once per write"
    )

    __table_args__ = (
        UniqueConstraint(
            "qualities",
            "reasons_collapsed",
            "level",
            "round_id",
            "pcode",
            "population_type",
            "displacement_reason",
            name="uq_rolled_up_figures_natural_key",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint(in_list("level", ADMIN_LEVELS), name="level"),
        CheckConstraint(in_list("quality", QUALITIES), name="quality"),
        CheckConstraint(in_list("population_type", POPULATION_TYPES), name="population_type"),
        CheckConstraint(
            "NOT reasons_collapsed OR displacement_reason IS NULL", name="collapsed_no_reason"
        ),
        # a write rebuilds one round's rows: found by round, not by a scan of every round
        Index("ix_rolled_up_figures_round", "round_id"),
    )


class MappedArea(Base):
    """An area's properties on the statistics map of one round, stored encoded.

    Derived data, rebuilt with `RolledUpFigure` (app.services.rollup): for every selection
    of qualities, round and level with figures, each area of that level with the feature's
    properties as the GeoJSON map gives them (all population types, reasons collapsed;
    no figures where it has none), encoded by app.serialize. A map page is then put
    together from stored bytes."""

    __tablename__ = "mapped_areas"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    qualities: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    level: Mapped[int] = mapped_column(SmallInteger)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode", ondelete="CASCADE"))
    properties: Mapped[bytes] = mapped_column(
        LargeBinary, comment="the properties with the official geometry"
    )
    properties_approximate: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="with the approximate polygon, where the area has one"
    )

    __table_args__ = (
        UniqueConstraint(
            "qualities", "level", "round_id", "pcode", name="uq_mapped_areas_natural_key"
        ),
        CheckConstraint(in_list("level", ADMIN_LEVELS), name="level"),
        Index("ix_mapped_areas_round", "round_id"),
    )
