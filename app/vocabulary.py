"""The domain's vocabulary, in one place: models, services, parameters and the OpenAPI
description all take their values from here.

Each enumeration is a `StrEnum`, so its members are the strings stored in the database
and sent over HTTP; the tuples beside them are for CHECK constraints and SQL arrays.
"""

from __future__ import annotations

from enum import StrEnum


class PopulationType(StrEnum):
    IDP = "idp"
    RETURNEE = "returnee"
    MIGRANT = "migrant"


class Quality(StrEnum):
    """How a number came to be: as published, from a documented model, or made up for
    tests and demonstrations. Only `published` is served unless another is asked for."""

    PUBLISHED = "published"
    MODELLED = "modelled"
    SYNTHETIC = "synthetic"


class DisplacementReason(StrEnum):
    CONFLICT = "conflict"
    NATURAL_HAZARD = "natural_hazard"
    ECONOMIC = "economic"
    EVICTION = "eviction"
    INSECURITY = "insecurity"  # the DTM API's own category, beside conflict
    NOT_REPORTED = "not_reported"  # counted, with no reason given (not the area's total)
    OTHER = "other"


class RoundKind(StrEnum):
    MOBILITY_TRACKING = "mobility_tracking"
    FLASH_UPDATE = "flash_update"
    EVENT_TRACKING = "event_tracking"


class GeometryChoice(StrEnum):
    """Baladiya geometry: OCHA's official points, or the derived approximate polygons."""

    OFFICIAL = "official"
    APPROXIMATE = "approximate"


class HotspotMetric(StrEnum):
    COUNT = "count"
    RATE = "rate"
    CHANGE = "change"


class HotspotMethod(StrEnum):
    GI = "gi"  # Getis-Ord Gi*
    MORAN = "moran"  # local Moran's I


class Weights(StrEnum):
    QUEEN = "queen"
    KNN = "knn"
    DISTANCE = "distance"
    QUEEN_APPROXIMATE = "queen-approximate"


# The admin levels any operation may have (0 the country); what each is called and holds
# is the operation's data (operation_levels, data/catalog/operation_levels.csv).
ADMIN_LEVELS = (0, 1, 2, 3, 4)
PCODE_LENGTH = 16

# wherever a round is taken: the latest round whose figures cover every area of the level
# asked (app.services.rounds.Catalogue.latest)
LATEST = "latest"

POPULATION_TYPES = tuple(t.value for t in PopulationType)
QUALITIES = tuple(q.value for q in Quality)
DISPLACEMENT_REASONS = tuple(r.value for r in DisplacementReason)
ROUND_KINDS = tuple(k.value for k in RoundKind)
# an area's geometries (app.geo.encoded, the stored tile geometries)
GEOMETRY_KINDS = tuple(g.value for g in GeometryChoice)
METRICS = tuple(m.value for m in HotspotMetric)
METHODS = tuple(m.value for m in HotspotMethod)
WEIGHTS = tuple(w.value for w in Weights)
DEFAULT_FLOW_QUALITIES = (Quality.PUBLISHED.value, Quality.MODELLED.value)
# a population type's count column in wide tables and layers
PLURAL = {"idp": "idps", "returnee": "returnees", "migrant": "migrants"}
