"""SQLAlchemy models; Alembic's migrations own the schema they describe."""

from app.models.admin import (
    AdminArea,
    AdminAreaName,
    ApproximateBoundary,
    Population,
    Region,
    TileGeometry,
)
from app.models.base import Base
from app.models.ingest import ApiKey, RowHistory, Submission
from app.models.operations import DtmPcode, Operation, OperationLevel
from app.models.rounds import Round
from app.models.stats import (
    DatasetLoad,
    DataVersion,
    Flow,
    Indicator,
    MappedArea,
    MigrantNationality,
    Observation,
    PublishedFigure,
    RolledUpFigure,
)
from app.models.sync import SyncItem, SyncSource

__all__ = [
    "AdminArea",
    "AdminAreaName",
    "ApiKey",
    "ApproximateBoundary",
    "Base",
    "DataVersion",
    "DatasetLoad",
    "DtmPcode",
    "Flow",
    "Indicator",
    "MappedArea",
    "MigrantNationality",
    "Observation",
    "Operation",
    "OperationLevel",
    "Population",
    "PublishedFigure",
    "Region",
    "RolledUpFigure",
    "Round",
    "RowHistory",
    "Submission",
    "SyncItem",
    "SyncSource",
    "TileGeometry",
]
