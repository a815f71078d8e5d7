"""Libya's admin hierarchy as DTM names it, with names, geometry and denominators."""

from datetime import date

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import NAME_KINDS, NAME_LANGS, Base, in_list
from app.vocabulary import ADMIN_LEVELS, GEOMETRY_KINDS, PCODE_LENGTH, QUALITIES


class Region(Base):
    """OCHA's admin-1 region (East, West, South): an attribute of areas, not a DTM level."""

    __tablename__ = "regions"

    pcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    name_en: Mapped[str] = mapped_column(Text)
    name_ar: Mapped[str] = mapped_column(Text)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)
    source: Mapped[str] = mapped_column(Text)
    valid_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_regions_geom", "geom", postgresql_using="gist"),)


class AdminArea(Base):
    """An area of an operation at one of its levels (app.models.operations), with its
    official geometry. Level 0 is the country, named by its operation's ISO3 code.

    In Libya: mantika (1) polygons; baladiya (2) points, because OCHA publishes that
    level only as points; muhallas (3), DTM's communities, a point where DTM gives
    coordinates, else no geometry at all (never an invented location) and no OCHA pcode.
    In Iraq: governorate, district and sub-district polygons, and DTM's locations (4).
    """

    __tablename__ = "admin_areas"

    pcode: Mapped[str] = mapped_column(String(PCODE_LENGTH), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_pcode: Mapped[str | None] = mapped_column(ForeignKey("admin_areas.pcode"))
    region_pcode: Mapped[str | None] = mapped_column(ForeignKey("regions.pcode"))
    ocha_pcode: Mapped[str | None] = mapped_column(
        String(PCODE_LENGTH), comment="pcode as OCHA's COD spells it"
    )
    ocha_level: Mapped[int | None] = mapped_column(SmallInteger, comment="OCHA COD admin level")
    name_en: Mapped[str] = mapped_column(Text)
    name_ar: Mapped[str] = mapped_column(Text)
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=True)
    geom_source: Mapped[str] = mapped_column(Text)
    valid_on: Mapped[date | None] = mapped_column(Date)
    # the country down to the area itself, kept by a trigger from the parent's (migration
    # 0010): what lies within an area is what has its pcode in its ancestry (app.services
    # .hierarchy.within), and ancestry[n + 1] is the area's ancestor at level n
    ancestry: Mapped[list[str]] = mapped_column(
        ARRAY(String(PCODE_LENGTH)), comment="pcodes from the country down to it"
    )

    __table_args__ = (
        CheckConstraint(in_list("level", ADMIN_LEVELS), name="level"),
        CheckConstraint(
            "cardinality(ancestry) = level + 1 AND ancestry[level + 1] = pcode",
            name="ancestry_ends_with_itself",
        ),
        Index("ix_admin_areas_ancestry", "ancestry", postgresql_using="gin"),
        # what each level holds (polygons, points, none) is its operation's data
        # (operation_levels); the country row is named by its operation's ISO3 code
        CheckConstraint("level > 0 OR geom IS NOT NULL", name="country_has_geom"),
        CheckConstraint(
            "(ocha_pcode IS NULL) = (ocha_level IS NULL)", name="ocha_pcode_with_level"
        ),
        CheckConstraint("(level = 0) = (parent_pcode IS NULL)", name="parent_unless_country"),
        CheckConstraint("level > 0 OR region_pcode IS NULL", name="no_region_for_country"),
        CheckConstraint("level > 0 OR length(pcode) = 3", name="country_is_its_operation"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        Index("ix_admin_areas_geom", "geom", postgresql_using="gist"),
        Index("ix_admin_areas_level_pcode", "level", "pcode"),
        Index("ix_admin_areas_parent_pcode", "parent_pcode"),
    )


class ApproximateBoundary(Base):
    """A derived, approximate baladiya polygon: never an official boundary."""

    __tablename__ = "approximate_boundaries"

    pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode"), primary_key=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)
    method: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(in_list("method", ("voronoi_in_mantika", "whole_mantika")), name="method"),
        Index("ix_approximate_boundaries_geom", "geom", postgresql_using="gist"),
    )


class TileGeometry(Base):
    """A polygon area's geometry as the vector tiles of one zoom draw it: in Web Mercator,
    simplified to half a tile pixel and reduced, valid, to the zoom's pixel grid
    (app.geo.tile_geometries).

    Derived data, rebuilt whenever a load changes the boundaries: a tile of a low zoom is
    then clipped from stored simplified polygons instead of transforming, simplifying and
    repairing the full-detail ones on every request. `kind` names the geometry as
    app.geo.encoded does: the official one (admin_areas) or the approximate polygon."""

    __tablename__ = "tile_geometries"

    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    zoom: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    pcode: Mapped[str] = mapped_column(
        ForeignKey("admin_areas.pcode", ondelete="CASCADE"), primary_key=True
    )
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=3857, spatial_index=False), nullable=False)

    __table_args__ = (
        CheckConstraint(in_list("kind", GEOMETRY_KINDS), name="kind"),
        CheckConstraint("zoom BETWEEN 0 AND 24", name="zoom"),
        Index("ix_tile_geometries_geom", "geom", postgresql_using="gist"),
    )


class AdminAreaName(Base):
    """Every known spelling of an area: official, as a provider published it, alternatives.

    `match_key` is the normalised form (app.names.match_key) used for look-ups.
    """

    __tablename__ = "admin_area_names"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(12))
    provider: Mapped[str] = mapped_column(Text)
    match_key: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("pcode", "lang", "name", "provider"),
        CheckConstraint(in_list("lang", NAME_LANGS), name="lang"),
        CheckConstraint(in_list("kind", NAME_KINDS), name="kind"),
        CheckConstraint("match_key <> ''", name="match_key_not_empty"),
        Index("ix_admin_area_names_match_key", "match_key"),
    )


class Population(Base):
    """A resident-population denominator for per-capita rates."""

    __tablename__ = "populations"

    pcode: Mapped[str] = mapped_column(ForeignKey("admin_areas.pcode"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    population: Mapped[int] = mapped_column(Integer)
    definition: Mapped[str] = mapped_column(Text)
    quality: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        CheckConstraint("population >= 0", name="population_non_negative"),
        CheckConstraint("year BETWEEN 1950 AND 2100", name="year_range"),
        CheckConstraint(in_list("quality", QUALITIES), name="quality"),
    )
