"""An indicator's map: GeoJSON of one published indicator of Round 39 (shelter settings,
priority needs, access to services) with its unit, round and classes."""

from __future__ import annotations

import pytest

from app.maps.classes import sequential_classes

INDICATORS = "/api/v1/indicators"
CASES = [
    # a shelter setting (households summed up from the muhallas)
    {"indicator": "in_informal_camp_setting_hh", "population_type": "idp", "level": 2},
    # access to services (a flag: the share of reporting areas answering yes)
    {"indicator": "nfi_needs_portable_lights", "level": 2},
    # a priority need (text, where published: the muhallas)
    {"indicator": "priority_need_1", "population_type": "returnee", "level": 3},
]


def _both(client, params: dict) -> tuple[list[dict], dict]:
    table = client.get(INDICATORS, params={**params, "round": "R39"})
    mapped = client.get(INDICATORS, params={**params, "round": "R39", "format": "geojson"})
    assert table.status_code == 200, table.text
    assert mapped.status_code == 200, mapped.text
    assert mapped.headers["content-type"].startswith("application/geo+json")
    return table.json()["data"], mapped.json()


@pytest.mark.parametrize("params", CASES, ids=[c["indicator"] for c in CASES])
def test_the_indicator_map_has_the_tables_values_unit_and_round(client, params):
    rows, mapped = _both(client, params)
    assert rows
    by_pcode = {r["pcode"]: r for r in rows}
    assert len(by_pcode) == len(rows)  # one row per area: one population type
    unit = rows[0]["unit"]
    assert (mapped["round"], mapped["indicator"], mapped["unit"]) == (
        "R39",
        params["indicator"],
        unit,
    )
    features = {f["id"]: f["properties"] for f in mapped["features"]}
    assert by_pcode.keys() <= features.keys()
    for pcode, props in features.items():
        assert (props["unit"], props["round_code"], props["level"]) == (
            unit,
            "R39",
            params["level"],
        )
        row = by_pcode.get(pcode)
        expected = (row["value"], row["text_value"]) if row else (None, None)
        assert (props["value"], props["text_value"]) == expected, pcode


def test_classes_of_a_share_are_equal_steps_and_text_has_categories(client):
    _, flags = _both(client, CASES[1])
    assert flags["classes"]["method"] == "equal_interval"
    assert flags["classes"]["cuts"] == [0.2, 0.4, 0.6, 0.8]
    _, needs = _both(client, CASES[2])
    categories = [c["value"] for c in needs["classes"]["categories"]]
    texts = [f["properties"]["text_value"] for f in needs["features"]]
    most = max(set(t for t in texts if t), key=lambda t: (texts.count(t), t))
    assert categories[0] == most and len(
        set(c["colour"] for c in needs["classes"]["categories"])
    ) == len(categories)
    _, camps = _both(client, CASES[0])
    cuts = camps["classes"]["cuts"]
    assert cuts and cuts == sorted(cuts) and cuts[0] > 0  # zero camps: a class of its own


def test_counts_with_many_zeros_keep_zero_apart():
    classes = sequential_classes([0, 0, 0, 0, 0, 3, 9, 40, 200])
    assert classes.colour(0) != classes.colour(3)
    assert classes.cuts[0] == 3
    assert classes.ranges()[0][:2] == (0, 0)  # the legend says 0, not 0 to 3


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "indicator"),  # the list of indicators is not a map
        ({"indicator": "nfi_needs_portable_lights,in_informal_camp_setting_hh"}, "indicator"),
        ({"indicator": "in_informal_camp_setting_hh"}, "population_type"),  # idp or returnee?
        ({"indicator": "nfi_needs_portable_lights", "population_type": "idp"}, "population_type"),
        ({"indicator": "nfi_needs_portable_lights", "geometry": "round"}, "geometry"),
    ],
)
def test_bad_parameters_are_refused_naming_them(client, params, parameter):
    answer = client.get(INDICATORS, params={**params, "format": "geojson"})
    assert answer.status_code == 422, answer.text
    assert [e["parameter"] for e in answer.json()["errors"]] == [parameter]


def test_the_list_of_an_operation_without_indicators_is_empty(client):
    listed = client.get(INDICATORS, params={"operation": "IRQ"})
    assert listed.status_code == 200
    assert listed.json() == {"data": [], "meta": {"round": None}}
    libya = client.get(INDICATORS).json()
    assert libya["meta"]["round"] == "R39" and {"levels", "unit"} <= libya["data"][0].keys()
    mapped = client.get(
        INDICATORS, params={"operation": "IRQ", "indicator": "x", "format": "geojson"}
    )
    assert mapped.status_code == 404
