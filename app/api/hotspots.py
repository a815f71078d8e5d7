"""Hotspots: Getis-Ord Gi* and local Moran's I over a round's figures (esda)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, model_validator

from app.api import schemas, writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.params import latest_covering, split_list
from app.api.query import documented, query
from app.api.rendered import Rendered
from app.errors import InvalidParameter
from app.geo.hotspots import Options
from app.services import hotspots, rounds
from app.services.rounds import RoundRef
from app.vocabulary import HotspotMethod, HotspotMetric, PopulationType, Weights

router = APIRouter(prefix="/api/v1", tags=["analytics"], responses=schemas.READ_ERRORS)


class HotspotsQuery(BaseModel):
    """The parameters of a hotspot analysis, with the rules that join them."""

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
        int, Query(ge=1, le=3, description="1 mantika, 2 baladiya, 3 muhalla.", examples=[2])
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
            description="queen (mantika polygons), knn or distance (on official points, great-"
            "circle distances), queen-approximate (baladiya approximate polygons).",
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
        weights, level = self.weights, self.level
        if weights == "distance" and self.distance_km is None:
            raise InvalidParameter("distance_km", "required when weights=distance")
        if weights == "queen-approximate" and level != 2:
            raise InvalidParameter(
                "weights", "approximate polygons are for baladiyas (level 2); use queen", weights
            )
        if weights == "queen" and level == 2:
            raise InvalidParameter(
                "weights", "baladiyas are points: use knn, distance or queen-approximate", weights
            )
        if weights == "queen" and level == 3:
            raise InvalidParameter("weights", "muhallas are points: use knn or distance", weights)
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


def _one_round(session, name: str, value: str | None, q: HotspotsQuery) -> RoundRef | None:
    if value is None:
        return None
    given = split_list([value]) or []
    latest = latest_covering(q.population_type, q.level)
    found = rounds.catalogue(session).resolve(given[0], latest) if len(given) == 1 else []
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
