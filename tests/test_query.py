"""Query models (app.api.query): read as FastAPI reads query parameters, refused naming the
parameter, and described as FastAPI describes them."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.api.query import documented, query
from app.api.stats import ChangeQuery, NationalitiesQuery, StatsAnswerQuery


def test_repeated_parameters_read_as_fastapi_reads_them(client):
    # a list takes every value; a single value takes the last one given
    body = client.get(
        "/api/v1/stats?level=1&level=2&round=R54&population_type=idp&population_type=migrant"
    ).json()
    assert {r["level"] for r in body["data"]} == {2}
    assert {r["population_type"] for r in body["data"]} == {"migrant"}  # R54 counts migrants


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/stats?limit=0", "limit"),
        ("/api/v1/stats?format=kml", "format"),
        ("/api/v1/stats?round_from=zero", "round_from"),
        ("/api/v1/stats/change?from_round=R50", "to_round"),
        ("/api/v1/stats/change?from_round=R50&to_round=R54&top=500", "top"),
        ("/api/v1/nationalities?offset=-1", "offset"),
    ],
)
def test_a_bad_parameter_is_refused_naming_it(client, path, parameter):
    response = client.get(path)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["parameter"], e["in"]) for e in errors] == [(parameter, "query")]


def test_a_filter_refused_in_the_worker_is_a_problem_too(client):
    response = client.get("/api/v1/stats", params={"pcode": "LY019999"})
    assert response.status_code == 404 and "unknown pcode" in response.json()["detail"]
    response = client.get("/api/v1/stats", params={"round_from": 54, "round_to": 50})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "round_from"


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/api/v1/stats", StatsAnswerQuery),
        ("/api/v1/stats/change", ChangeQuery),
        ("/api/v1/nationalities", NationalitiesQuery),
    ],
)
def test_every_field_is_documented_as_a_query_parameter(client, path, model):
    parameters = client.get("/openapi.json").json()["paths"][path]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in parameters] == [
        (name, "query") for name in model.model_fields
    ]
    required = {p["name"] for p in parameters if p["required"]}
    assert required == {n for n, f in model.model_fields.items() if f.is_required()}


class Sample(BaseModel):
    n: Annotated[int, Query(ge=1, description="a number")] = 1
    tags: Annotated[list[str] | None, Query(description="tags")] = None


def test_a_model_is_read_and_described_as_fastapi_reads_and_describes_it():
    app = FastAPI()

    @app.get("/ours", openapi_extra=documented(Sample))
    def ours(q: Annotated[Sample, Depends(query(Sample))]) -> dict:
        return q.model_dump()

    @app.get("/fastapis")
    def fastapis(q: Annotated[Sample, Query()]) -> dict:
        return q.model_dump()

    with TestClient(app) as test:
        for asked in ("", "?n=3&n=4&tags=a&tags=b&other=x", "?n=0", "?n=x&tags=a"):
            mine, theirs = test.get("/ours" + asked), test.get("/fastapis" + asked)
            assert mine.status_code == theirs.status_code, asked
            if mine.status_code == 200:
                assert mine.json() == theirs.json()
            else:
                locs = [e["loc"] for e in mine.json()["detail"]]
                assert locs == [e["loc"] for e in theirs.json()["detail"]] == [["query", "n"]]
        spec = test.get("/openapi.json").json()["paths"]
    assert spec["/ours"]["get"]["parameters"] == spec["/fastapis"]["get"]["parameters"]
