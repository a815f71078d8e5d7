"""Hotspots: Getis-Ord Gi* and local Moran's I over a round's figures (esda)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app.api import schemas, writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.params import resolve_rounds
from app.api.rendered import Rendered
from app.errors import InvalidParameter
from app.geo.hotspots import Options
from app.services import hotspots
from app.vocabulary import HotspotMethod, HotspotMetric, PopulationType, Weights

router = APIRouter(prefix="/api/v1", tags=["analytics"], responses=schemas.READ_ERRORS)


def _one_round(session, name: str, value: str | None) -> int | None:
    if value is None:
        return None
    ids = resolve_rounds(session, [value])
    if not ids or len(ids) != 1:
        raise InvalidParameter(name, "give exactly one round (code or number)", value)
    return ids[0]


@router.get(
    "/hotspots",
    summary="Hot and cold spots (Getis-Ord Gi*) or clusters (local Moran's I) of a round",
    description="Values per area (a count, a rate per 1,000 residents, or the change from "
    "`base_round`), spatial weights from libpysal, statistics from esda. Results are "
    "reproducible for a given `seed` and cached by their inputs and the data version.",
    responses={
        200: {
            "model": schemas.Hotspots,
            "content": {"application/geo+json": schemas.GEOJSON_CONTENT},
        }
    },
)
def get_hotspots(
    request: Request,
    session: SessionDep,
    round: Annotated[
        str, Query(max_length=64, description="Round (code or number).", examples=["R54"])
    ],
    population_type: Annotated[
        PopulationType,
        Query(description="Population type.", examples=["migrant"]),
    ],
    level: Annotated[
        int,
        Query(ge=1, le=3, description="1 mantika, 2 baladiya, 3 muhalla.", examples=[2]),
    ] = 2,
    metric: Annotated[
        HotspotMetric,
        Query(
            description="count, rate (per 1,000 residents, HNO 2021) or change from base_round.",
            examples=["rate"],
        ),
    ] = "count",
    base_round: Annotated[
        str | None,
        Query(max_length=64, description="Earlier round for metric=change.", examples=["R50"]),
    ] = None,
    method: Annotated[
        HotspotMethod,
        Query(description="gi: Getis-Ord Gi*; moran: local Moran's I.", examples=["gi"]),
    ] = "gi",
    weights: Annotated[
        Weights,
        Query(
            description="queen (mantika polygons), knn or distance (on official points, great-"
            "circle distances), queen-approximate (baladiya approximate polygons).",
            examples=["knn"],
        ),
    ] = "knn",
    k: Annotated[int, Query(ge=1, le=30, description="Neighbours for knn.", examples=[6])] = 6,
    distance_km: Annotated[
        float | None,
        Query(gt=0, le=5000, description="Band for weights=distance, km.", examples=[150]),
    ] = None,
    permutations: Annotated[
        int, Query(ge=99, le=9999, description="Conditional permutations.", examples=[999])
    ] = 999,
    seed: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="Random seed.", examples=[12345])
    ] = 12345,
    fdr: Annotated[
        bool, Query(description="Apply a false discovery rate correction.", examples=[False])
    ] = False,
    alpha: Annotated[
        float, Query(gt=0, le=0.2, description="Significance level (Moran, FDR).", examples=[0.05])
    ] = 0.05,
    format: Annotated[
        Literal["json", "geojson"], Query(description="Output format.", examples=["geojson"])
    ] = "json",
) -> Response:
    if weights == "distance" and distance_km is None:
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
    if metric == "change" and base_round is None:
        raise InvalidParameter("base_round", "required when metric=change")
    if metric != "change" and base_round is not None:
        raise InvalidParameter(
            "base_round", "only used with metric=change; leave it out or set metric", base_round
        )
    round_id = _one_round(session, "round", round)
    base_id = _one_round(session, "base_round", base_round)
    options = Options(
        method=method,
        weights=weights,
        k=k,
        distance_km=distance_km,
        permutations=permutations,
        seed=seed,
        fdr=fdr,
        alpha=alpha,
    )

    def render():
        rows, meta, geometries = hotspots.compute(
            session, level, round_id, population_type, metric, base_id, options
        )
        meta["round"], meta["base_round"] = round, base_round
        if format == "geojson":
            features = (
                writers.feature(r["pcode"], geometries[r["pcode"]], r)
                for r in hotspots.shaped(rows, with_geometry=True)
            )
            return Rendered(writers.feature_collection(features, meta), writers.GEOJSON)
        data = hotspots.shaped(rows, with_geometry=False)
        return Rendered(writers.json_body({"data": data, "meta": meta}), writers.JSON)

    return cached_response(request, session, render)
