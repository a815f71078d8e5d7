"""The server's static SVG map of a view (app/maps): the areas of the view drawn from
PostGIS geometry with the web map's classes, a legend and the attribution; deterministic,
escaped, and a clear 4xx for bad parameters."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from app.maps.classes import NO_DATA, VIRIDIS, quantile_classes
from app.maps.svg import Area, MapView, draw
from app.services import operations

SVG_NS = "{http://www.w3.org/2000/svg}"


def _svg(client, round_code: str, **params) -> ET.Element:
    response = client.get(f"/api/v1/maps/{round_code}.svg", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    return ET.fromstring(response.content)


def _areas(root: ET.Element) -> dict[str, str]:
    group = root.find(f".//{SVG_NS}g[@id='map-areas']")
    return {e.get("data-pcode"): e.get("fill") for e in group}


def _stats(client, round_code: str, level: int, key: str) -> dict[str, float | None]:
    body = client.get(
        "/api/v1/stats",
        params={"level": level, "round": round_code, "format": "geojson", "limit": 10000},
    ).json()
    return {f["properties"]["pcode"]: f["properties"].get(key) for f in body["features"]}


@pytest.mark.parametrize(
    ("round_code", "level", "geometry", "ptype", "count", "shape"),
    [
        ("R39", 1, "approximate", "idp", 22, "path"),
        ("R39", 2, "approximate", "idp", 100, "path"),
        ("R54", 2, "official", "migrant", 100, "circle"),
        ("R39", 3, "official", "returnee", 663 - 19, "circle"),
    ],
)
def test_every_area_of_the_view_is_drawn_with_its_class(
    client, round_code, level, geometry, ptype, count, shape
):
    root = _svg(
        client, round_code, level=level, geometry=geometry, population_type=ptype, width=900
    )
    areas = _areas(root)
    assert len(areas) == count
    group = root.find(f".//{SVG_NS}g[@id='map-areas']")
    assert {e.tag.removeprefix(SVG_NS) for e in group} == {shape}
    # colours: the classes of the same values the statistics API gives
    key = {"idp": "idps", "returnee": "returnees", "migrant": "migrants"}[ptype]
    values = _stats(client, round_code, level, key)
    classes = quantile_classes(values.values())
    assert {p: classes.colour(values[p]) for p in areas} == areas
    assert len(set(areas.values())) == len(classes.colours)  # every class is used


def test_the_legend_and_attribution_are_in_the_picture(client):
    root = _svg(client, "R39", level=2, population_type="idp")
    legend = root.find(f".//{SVG_NS}g[@id='map-legend']")
    texts = " ".join(t.text or "" for t in legend.iter(f"{SVG_NS}text"))
    assert "IDPs, People, R39" in texts and "No data" in texts
    assert "approximate" in texts and "OCHA COD-AB" in texts and "IOM DTM" in texts
    swatches = [r.get("fill") for r in legend.iter(f"{SVG_NS}rect") if r.get("class") == "swatch"]
    classes = _classes(client, "R39", 2, "idp")
    assert swatches == [c["colour"] for c in classes["classes"]] + [NO_DATA]
    arabic = _svg(client, "R39", level=2, population_type="idp", lang="ar")
    texts = " ".join(t.text or "" for t in arabic.iter(f"{SVG_NS}text"))
    assert "النازحون داخلياً" in texts and "لا توجد بيانات" in texts
    assert "2.738" in texts and "2,738" not in texts  # numbers as the page writes them (ar-LY)
    assert arabic.get("lang") == "ar"


def _classes(client, round_code, level, ptype, measure="absolute") -> dict:
    response = client.get(
        f"/api/v1/maps/{round_code}/classes",
        params={"level": level, "population_type": ptype, "measure": measure},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_classes_route_gives_the_web_maps_quantile_classes(client):
    body = _classes(client, "R39", 2, "idp")
    values = _stats(client, "R39", 2, "idps").values()
    expected = quantile_classes(values)
    assert body["cuts"] == list(expected.cuts) and body["with_value"] == 100
    assert [c["colour"] for c in body["classes"]] == list(expected.colours)
    assert body["classes"][0]["from"] == min(values) and body["classes"][-1]["to"] == max(values)
    rates = _classes(client, "R54", 1, "migrant", "per_1000")
    assert rates["cuts"] == list(
        quantile_classes(_stats(client, "R54", 1, "migrants_per_1000").values()).cuts
    )


def test_quantile_classes_rule():
    assert quantile_classes([None, None]).cuts == ()
    same = quantile_classes([5, 5, 5])
    assert same.cuts == () and same.colour(5) == VIRIDIS[2] and same.colour(None) == NO_DATA
    six = quantile_classes(range(1, 13))
    assert six.cuts == (3, 5, 7, 9, 11) and six.colours == VIRIDIS
    assert six.colour(1) == VIRIDIS[0] and six.colour(12) == VIRIDIS[5]
    two = quantile_classes([0, 0, 0, 0, 0, 10])
    assert two.cuts == (10,) and two.colours == (VIRIDIS[0], VIRIDIS[5])


def test_a_bbox_draws_only_the_areas_in_it(client):
    everything = _areas(_svg(client, "R39", level=2))
    benghazi = _areas(_svg(client, "R39", level=2, bbox="19.5,31.5,21,32.8"))
    assert "LY010304" in benghazi and "LY010102" not in benghazi  # Benghazi, not Derna
    assert 0 < len(benghazi) < len(everything)


def test_the_drawing_is_deterministic(client):
    params = {"level": 2, "population_type": "returnee", "lang": "ar", "width": 700}
    first = client.get("/api/v1/maps/R39.svg", params=params).content
    again = client.get("/api/v1/maps/R39.svg", params={**params, "height": 640}).content
    assert first == again  # the second, a different URL, drawn again


def test_every_text_is_escaped():
    view = MapView(
        "T-1",
        'R<1>&"',
        1,
        False,
        "idp",
        "absolute",
        [Area("LY0101", "<script>alert(1)</script> & co", "", 5.0, None)],
        [],
        quantile_classes([5.0]),
        "published",
        operations.from_catalog()["LBY"],
    )
    svg = draw(view, "en", width=400, height=300)
    ET.fromstring(svg)  # well-formed
    assert "<script>" not in svg and "&lt;1&gt;&amp;" in svg
    assert "1 without a published location are not drawn" in svg


@pytest.mark.parametrize(
    ("params", "field", "status"),
    [
        ({"bbox": "1,2,3"}, "bbox", 422),
        ({"bbox": "a,b,c,d"}, "bbox", 422),
        ({"bbox": "20,30,10,33"}, "bbox", 422),
        ({"bbox": "10,-89,20,30"}, "bbox", 422),
        ({"level": "4"}, "level", 422),
        ({"level": "x"}, "level", 422),
        ({"width": "10"}, "width", 422),
        ({"height": "99999"}, "height", 422),
        ({"lang": "fr"}, "lang", 422),
        ({"population_type": "refugee"}, "population_type", 422),
        ({"measure": "share"}, "measure", 422),
        ({"geometry": "exact"}, "geometry", 422),
    ],
)
def test_bad_parameters_get_a_problem_naming_them(client, params, field, status):
    response = client.get("/api/v1/maps/R39.svg", params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [e["parameter"] for e in problem["errors"]] == [field]


def test_an_unknown_round_is_404(client):
    response = client.get("/api/v1/maps/R999.svg")
    assert response.status_code == 404 and "GET /api/v1/rounds" in response.json()["detail"]
    assert client.get("/api/v1/maps/R999/classes").status_code == 404


def test_a_round_without_the_type_is_drawn_as_no_data(client):
    root = _svg(client, "R54", level=1, population_type="idp")
    fills = set(_areas(root).values())
    assert fills == {NO_DATA}
    assert re.search("No data", ET.tostring(root, encoding="unicode"))
