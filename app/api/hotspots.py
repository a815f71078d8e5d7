"""Hotspots: Getis-Ord Gi* and local Moran's I over a round's figures (esda)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, model_validator

from app.api import schemas, writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.params import (
    OperationQuery,
    check_level,
    latest_covering,
    resolve_operation,
    split_list,
)
from app.api.query import documented, query
from app.api.rendered import Rendered
from app.errors import InvalidParameter
from app.geo.hotspots import Options
from app.services import hotspots, ogc, operations, rounds
from app.services.rounds import RoundRef
from app.vocabulary import ADMIN_LEVELS, HotspotMethod, HotspotMetric, PopulationType, Weights

router = APIRouter(prefix="/api/v1", tags=["analytics"], responses=schemas.READ_ERRORS)


class HotspotsQuery(BaseModel):
    """The parameters of a hotspot analysis, with the rules that join them."""

    operation: OperationQuery = None
    round: Annotated[
        str,
        Query(
            max_length=64,
            description="Round (code, number, or `latest`: the latest whose figures of the type "
            "cover every area of the level).",
            examples=["R54"],
        ),
    ]
    population_type: Annotated[
        PopulationType, Query(description="Population type.", examples=["migrant"])
    ]
    level: Annotated[
        int,
        Query(
            ge=1,
            le=max(ADMIN_LEVELS),
            description="1 mantika, 2 baladiya, 3 muhalla (Libya); 1 governorate, 2 district, "
            "3 sub-district, 4 location (Iraq).",
            examples=[2],
        ),
    ] = 2
    metric: Annotated[
        HotspotMetric,
        Query(
            description="count, rate (per 1,000 residents, HNO 2021) or change from base_round.",
            examples=["rate"],
        ),
    ] = HotspotMetric.COUNT
    base_round: Annotated[
        str | None,
        Query(max_length=64, description="Earlier round for metric=change.", examples=["R50"]),
    ] = None
    method: Annotated[
        HotspotMethod,
        Query(description="gi: Getis-Ord Gi*; moran: local Moran's I.", examples=["gi"]),
    ] = HotspotMethod.GI
    weights: Annotated[
        Weights,
        Query(
            description="queen (contiguity of polygons: Libya's mantikas, Iraq's governorates, "
            "districts and sub-districts), knn or distance (on official points, or a point on "
            "each polygon's surface; great-circle distances), queen-approximate (Libya's "
            "baladiya approximate polygons).",
            examples=["knn"],
        ),
    ] = Weights.KNN
    k: Annotated[int, Query(ge=1, le=30, description="Neighbours for knn.", examples=[6])] = 6
    distance_km: Annotated[
        float | None,
        Query(gt=0, le=5000, description="Band for weights=distance, km.", examples=[150]),
    ] = None
    permutations: Annotated[
        int, Query(ge=99, le=9999, description="Conditional permutations.", examples=[999])
    ] = 999
    seed: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="Random seed.", examples=[12345])
    ] = 12345
    fdr: Annotated[
        bool, Query(description="Apply a false discovery rate correction.", examples=[False])
    ] = False
    alpha: Annotated[
        float, Query(gt=0, le=0.2, description="Significance level (Moran, FDR).", examples=[0.05])
    ] = 0.05
    format: Annotated[
        Literal["json", "geojson"], Query(description="Output format.", examples=["geojson"])
    ] = "json"

    @model_validator(mode="after")
    def _weights_fit_the_level(self):
        if self.weights == "distance" and self.distance_km is None:
            raise InvalidParameter("distance_km", "required when weights=distance")
        if self.metric == "change" and self.base_round is None:
            raise InvalidParameter("base_round", "required when metric=change")
        if self.metric != "change" and self.base_round is not None:
            raise InvalidParameter(
                "base_round",
                "only used with metric=change; leave it out or set metric",
                self.base_round,
            )
        return self

    def options(self) -> Options:
        return Options(
            method=self.method,
            weights=self.weights,
            k=self.k,
            distance_km=self.distance_km,
            permutations=self.permutations,
            seed=self.seed,
            fdr=self.fdr,
            alpha=self.alpha,
        )


def _weights_fit_the_level(session, op: operations.Operation, q: HotspotsQuery) -> None:
    """Contiguity needs polygons: the level's own (operation_levels), or Libya's
    approximate baladiya polygons (an OGC collection of kind `approximate`); a rate needs
    the operation's denominators."""
    check_level(op, q.level)
    level = op.levels[q.level]
    approximate = ogc.approximate_level(op.iso3)
    if q.weights == "queen-approximate" and q.level != approximate:
        if approximate is None:
            message = f"{op.name_en} has no approximate polygons; use queen"
        else:
            plural = op.levels[approximate].plural_en
            message = f"approximate polygons are for {plural} (level {approximate}); use queen"
        raise InvalidParameter("weights", message, q.weights)
    if q.metric == "rate" and not op.denominators:
        raise InvalidParameter(
            "metric",
            f"no population denominator for {op.name_en} is in DTM Geo's data, so it has no "
            "per-capita rates: use metric=count or change",
            q.metric,
        )
    if q.weights == "queen" and level.geometry == "point":
        other = (
            "knn, distance or queen-approximate" if q.level == approximate else "knn or distance"
        )
        raise InvalidParameter("weights", f"{level.plural_en} are points: use {other}", q.weights)


def _one_round(session, name: str, value: str | None, q: HotspotsQuery) -> RoundRef | None:
    if value is None:
        return None
    op = resolve_operation(session, q.operation)
    given = split_list([value]) or []
    latest = latest_covering(q.population_type, q.level)
    known = rounds.catalogue(session, op.iso3)
    found = known.resolve(given[0], latest) if len(given) == 1 else []
    if len(found) != 1:
        raise InvalidParameter(name, "give exactly one round (code or number)", value)
    return found[0]


@router.get(
    "/hotspots",
    summary="Hot and cold spots (Getis-Ord Gi*) or clusters (local Moran's I) of a round",
    description="Values per area (a count, a rate per 1,000 residents, or the change from "
    "`base_round`), spatial weights from libpysal, statistics from esda. Results are "
    "reproducible for a given `seed` and cached by their inputs and the data version. A "
    "round with figures for fewer areas than the analysis needs is refused (422, with "
    "`areas` and `min_areas`).",
    responses={
        200: {
            "model": schemas.Hotspots,
            "content": {"application/geo+json": schemas.GEOJSON_CONTENT},
        }
    },
    openapi_extra=documented(HotspotsQuery),
)
def get_hotspots(
    request: Request,
    session: SessionDep,
    q: Annotated[HotspotsQuery, Depends(query(HotspotsQuery))],
) -> Response:
    _weights_fit_the_level(session, resolve_operation(session, q.operation), q)
    shown = _one_round(session, "round", q.round, q)
    base = _one_round(session, "base_round", q.base_round, q)

    def render():
        rows, meta, geometries = hotspots.compute(
            session,
            q.level,
            shown.id,
            q.population_type,
            q.metric,
            base.id if base else None,
            q.options(),
        )
        meta["round"], meta["base_round"] = shown.code, base.code if base else None
        if q.format == "geojson":
            features = (
                writers.feature(r["pcode"], geometries[r["pcode"]], r)
                for r in hotspots.shaped(rows, with_geometry=True)
            )
            return Rendered(writers.feature_collection(features, meta), writers.GEOJSON)
        data = hotspots.shaped(rows, with_geometry=False)
        return Rendered(writers.json_body({"data": data, "meta": meta}), writers.JSON)

    return cached_response(request, session, render)
