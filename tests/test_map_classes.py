"""The classes of a series of maps (`GET /api/v1/maps/classes`): one legend for every
mobility-tracking round of an operation, made by the map's own rule from the values the
map of each round draws."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.maps.classes import Classes, quantile_classes

KEY = {"absolute": "idps", "per_1000": "idps_per_1000"}


def _series(client, **params) -> dict:
    response = client.get("/api/v1/maps/classes", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _drawn(client, operation: str, round_code: str, level: int, key: str) -> list:
    """The values the map of one round draws (its GeoJSON, as the page reads it)."""
    body = client.get(
        "/api/v1/stats",
        params={
            "operation": operation,
            "level": level,
            "round": round_code,
            "format": "geojson",
            "limit": 10000,
        },
    ).json()
    return [f["properties"].get(key) for f in body["features"]]


def _mobility_rounds(client, operation: str) -> list[str]:
    rounds = client.get(
        "/api/v1/rounds", params={"operation": operation, "kind": "mobility_tracking"}
    ).json()
    return [r["code"] for r in rounds["data"]]


@pytest.mark.parametrize(
    ("operation", "level", "measure"),
    [("IRQ", 1, "absolute"), ("IRQ", 2, "absolute"), ("LBY", 2, "absolute")],
)
def test_the_classes_are_the_maps_rule_over_every_rounds_drawn_values(
    client, operation, level, measure
):
    body = _series(client, operation=operation, level=level, measure=measure)
    assert body["rounds"] == _mobility_rounds(client, operation)  # in time order
    drawn = {r: _drawn(client, operation, r, level, KEY[measure]) for r in body["rounds"]}
    every = [v for values in drawn.values() for v in values if v is not None]
    expected = quantile_classes(every)
    assert body["values"] == len(every) > 0
    assert body["rounds_with_value"] == sum(1 for vs in drawn.values() if any(vs))
    assert body["cuts"] == list(expected.cuts)
    assert [c["colour"] for c in body["classes"]] == list(expected.colours)
    # the one legend holds every round's values
    first, last = body["classes"][0], body["classes"][-1]
    for values in drawn.values():
        present = [v for v in values if v is not None]
        if present:
            assert first["from"] <= min(present) and last["to"] >= max(present)


def test_iraqs_series_spans_its_mobility_tracking_rounds(client):
    body = _series(client, operation="iraq", level=2)
    assert body["operation"] == "IRQ" and body["kind"] == "mobility_tracking"
    assert len(body["rounds"]) >= 79 and body["rounds_with_value"] == len(body["rounds"])
    assert len(body["classes"]) == 6 and body["classes"][0]["from"] >= 0
    # the same legend whichever way the operation is named, and for the deepest level
    assert _series(client, operation="IRQ", level=2) == body
    locations = _series(client, operation="IRQ", level=4)
    assert locations["values"] >= 2842 and len(locations["classes"]) == 6


def test_libya_is_the_default_and_its_round_classes_are_unchanged(client):
    series = _series(client, level=2)
    assert series["operation"] == "LBY" and "R39" in series["rounds"]
    assert series == _series(client, operation="LBY", level=2)
    one = client.get("/api/v1/maps/R39/classes", params={"level": 2}).json()
    assert one["cuts"] == list(quantile_classes(_drawn(client, "LBY", "R39", 2, "idps")).cuts)
    # the series' legend holds R39's values too
    assert series["classes"][0]["from"] <= one["classes"][0]["from"]
    assert series["classes"][-1]["to"] >= one["classes"][-1]["to"]


def test_a_type_without_figures_has_no_classes(client):
    body = _series(client, operation="IRQ", level=2, population_type="migrant")
    assert body["values"] == 0 and body["classes"] == [] and body["cuts"] == []


def test_the_answer_is_cached_with_validators(client):
    first = client.get("/api/v1/maps/classes", params={"operation": "IRQ", "level": 4})
    etag = first.headers["etag"]
    again = client.get(
        "/api/v1/maps/classes",
        params={"operation": "IRQ", "level": 4},
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("params", "field", "status"),
    [
        ({"operation": "LBY", "level": "4"}, "level", 422),
        ({"operation": "IRQ", "level": "5"}, "level", 422),
        ({"level": "0"}, "level", 422),
        ({"population_type": "refugee"}, "population_type", 422),
        ({"measure": "share"}, "measure", 422),
        ({"operation": "ATLANTIS"}, None, 404),
    ],
)
def test_bad_parameters_get_a_problem_naming_them(client, params, field, status):
    response = client.get("/api/v1/maps/classes", params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    if field:
        assert [e["parameter"] for e in problem["errors"]] == [field]
    else:
        assert "unknown operation 'ATLANTIS'" in problem["detail"]


def test_the_static_map_draws_a_round_with_the_series_classes(client):
    """Without WebGL the page shows the server's SVG map: with classes=series it is coloured
    as the slider colours the web map."""
    fixed = _series(client, operation="IRQ", level=2)
    legend = Classes(
        tuple(fixed["cuts"]),
        tuple(c["colour"] for c in fixed["classes"]),
        fixed["classes"][0]["from"],
        fixed["classes"][-1]["to"],
    )
    body = client.get(
        "/api/v1/maps/IRQ-R4.svg", params={"level": 2, "classes": "series", "width": 600}
    )
    assert body.status_code == 200, body.text
    group = ET.fromstring(body.content).find(".//{http://www.w3.org/2000/svg}g[@id='map-areas']")
    fills = {e.get("data-pcode"): e.get("fill") for e in group}
    stats = client.get(
        "/api/v1/stats",
        params={"operation": "IRQ", "level": 2, "round": "IRQ-R4", "format": "geojson"},
    ).json()
    values = {f["properties"]["pcode"]: f["properties"]["idps"] for f in stats["features"]}
    assert len(fills) > 80
    assert fills == {p: legend.colour(values[p]) for p in fills}
    own = client.get("/api/v1/maps/IRQ-R4.svg", params={"level": 2, "width": 600}).content
    assert own != body.content  # the round's own classes are others
