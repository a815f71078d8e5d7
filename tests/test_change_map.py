"""The change map: GeoJSON of the change between two rounds, its diverging classes, and
the refusals that name the parameter."""

from __future__ import annotations

import pytest

from app.maps.classes import NO_DATA, NO_FIGURE, ZERO, diverging_classes

CHANGE = "/api/v1/stats/change"
IRAQ = {"operation": "IRQ", "level": 2, "from_round": "IRQ-R131", "to_round": "IRQ-R132"}
LIBYA = {"level": 2, "from_round": "R8", "to_round": "R39"}


def _both(client, params: dict) -> tuple[dict, dict]:
    asked = {**params, "population_type": "idp", "top": 5}
    table = client.get(CHANGE, params=asked)
    mapped = client.get(CHANGE, params={**asked, "format": "geojson"})
    assert table.status_code == 200, table.text
    assert mapped.status_code == 200, mapped.text
    assert mapped.headers["content-type"].startswith("application/geo+json")
    return table.json(), mapped.json()


@pytest.mark.parametrize("params", [IRAQ, LIBYA], ids=["iraq", "libya"])
def test_the_change_map_has_the_change_tables_values(client, params):
    table, mapped = _both(client, params)
    rows = {r["pcode"]: r for r in table["data"] if r["displacement_reason"] is None}
    assert rows, "the rounds have figures to compare"
    features = {f["id"]: f["properties"] for f in mapped["features"]}
    assert rows.keys() <= features.keys()
    for pcode, row in rows.items():
        got = features[pcode]
        for key in ("before", "after", "change", "change_percent"):
            assert got[key] == row[key], (pcode, key)
    # every other area of the level is there too, with no figure in either round
    for pcode in features.keys() - rows.keys():
        assert features[pcode]["no_figure_in"] == "both"
        assert features[pcode]["change"] is None
    assert mapped["top_movers"] == table["top_movers"]
    assert (mapped["from_round"], mapped["to_round"]) == (params["from_round"], params["to_round"])


def test_top_increases_and_decreases_are_the_largest_each_way(client):
    table, _ = _both(client, IRAQ)
    changed = [r for r in table["data"] if r["change"] is not None]
    ups = sorted((r for r in changed if r["change"] > 0), key=lambda r: -r["change"])[:5]
    downs = sorted((r for r in changed if r["change"] < 0), key=lambda r: r["change"])[:5]
    assert [r["change"] for r in table["top_increases"]] == [r["change"] for r in ups]
    assert [r["change"] for r in table["top_decreases"]] == [r["change"] for r in downs]
    assert table["top_decreases"] and table["top_increases"]


def test_an_area_without_a_figure_in_one_round_is_flagged_not_zero(client):
    _, mapped = _both(client, LIBYA)  # R8 has one baladiya's IDPs, R39 every one
    flags = [f["properties"]["no_figure_in"] for f in mapped["features"]]
    assert flags.count(None) == mapped["compared"] >= 1
    assert "from_round" in flags
    for f in mapped["features"]:
        p = f["properties"]
        if p["no_figure_in"] == "from_round":
            assert p["before"] is None and p["after"] is not None
            assert p["change"] is None and p["change_percent"] is None
    later = {**LIBYA, "from_round": "R39", "to_round": "storm-daniel-2023-10-31"}
    _, storm = _both(client, later)
    assert "to_round" in [f["properties"]["no_figure_in"] for f in storm["features"]]
    # and the map's colour for it is neither zero's nor that of an area without data
    classes = mapped["classes"]["change"]
    assert classes["no_figure"] == NO_FIGURE
    assert NO_FIGURE not in {ZERO, NO_DATA, *(c["colour"] for c in classes["classes"])}


@pytest.mark.parametrize("measure", ["change", "change_percent"])
def test_the_maps_classes_are_symmetric_about_zero(client, measure):
    _, mapped = _both(client, IRAQ)
    classes = mapped["classes"][measure]
    assert classes["method"] == "diverging"
    cuts = classes["cuts"]
    assert cuts and cuts == [-c for c in reversed(cuts)]
    assert 0 not in cuts  # zero lies inside the middle class, which is zero's colour
    middle = classes["classes"][len(cuts) // 2]
    assert middle["from"] < 0 < middle["to"] and middle["colour"] == ZERO
    values = [f["properties"][measure] for f in mapped["features"]]
    assert classes["classes"][0]["from"] == -max(abs(v) for v in values if v is not None)


def test_diverging_classes_mirror_each_value():
    values = [-1000, -7, -6, 0, 0, 0, 1, 2, 3, 4, 5, 10, 100]
    classes = diverging_classes(values)
    assert len(classes.colours) == 7 and classes.colours[3] == ZERO
    index = {c: i for i, c in enumerate(classes.colours)}
    for v in [*values, -3, -100, 1000]:
        # -v falls in the class mirroring v's: no value lies on a cut
        assert index[classes.colour(v)] + index[classes.colour(-v)] == 6, v
    assert classes.colour(0) == ZERO
    assert diverging_classes([0, 0]).colours == (ZERO,)
    assert diverging_classes([]).lowest is None
    assert diverging_classes([None, 5]).cuts == (-2.5, 2.5)


@pytest.mark.parametrize(
    ("extra", "parameter"),
    [
        ({"format": "geojson", "population_type": None}, "population_type"),
        ({"format": "xml"}, "format"),
        ({"geometry": "round"}, "geometry"),
        ({"from_round": "IRQ-R131,IRQ-R132"}, "from_round"),
        ({"top": 0}, "top"),
    ],
)
def test_bad_parameters_are_refused_naming_them(client, extra, parameter):
    params = {**IRAQ, "population_type": "idp", **extra}
    answer = client.get(CHANGE, params={k: v for k, v in params.items() if v is not None})
    assert answer.status_code == 422, answer.text
    assert [e["parameter"] for e in answer.json()["errors"]] == [parameter]


def test_an_unknown_round_is_not_found(client):
    answer = client.get(CHANGE, params={**IRAQ, "to_round": "IRQ-R999", "format": "geojson"})
    assert answer.status_code == 404
    assert "IRQ-R999" in answer.json()["detail"]
