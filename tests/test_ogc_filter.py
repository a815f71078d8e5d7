"""OGC API - Features Part 3: CQL2 filters and queryables, and the property filters GDAL
sends. Each filtered answer is checked against the unfiltered layer filtered in Python."""

from __future__ import annotations

import time

import orjson
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from app.services import cql2

CONFORMANCE = "http://www.opengis.net/spec/cql2/1.0/conf/"


def features(client, collection, **params):
    params = {"limit": 10000, **params}
    response = client.get(f"/ogc/collections/{collection}/items", params=params)
    assert response.status_code == 200, response.text
    return response.json()["features"]


def pcodes(found) -> set[str]:
    return {f["properties"]["pcode"] for f in found}


def test_conformance_and_queryables(client):
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    for name in ("cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators"):
        assert CONFORMANCE + name in classes
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter" in classes
    described = client.get("/ogc/collections/stats-admin2").json()
    [link] = [x for x in described["links"] if x["rel"].endswith("/queryables")]
    response = client.get(link["href"])
    assert response.headers["content-type"] == "application/schema+json"
    schema = response.json()
    assert schema["properties"]["migrants"]["type"] == "integer"
    assert schema["properties"]["reporting_date"] == {
        "title": "reporting_date",
        "type": "string",
        "format": "date",
    }
    assert schema["properties"]["geometry"]["format"] == "geometry-point"


R54 = {"round": "R54"}
CASES = [
    ("mantikas", {}, "name_en LIKE 'B%'", lambda p: p["name_en"].startswith("B")),
    ("mantikas", {}, "name_ar = 'درنه'", lambda p: p["name_ar"] == "درنه"),
    (
        "mantikas",
        {},
        "CASEI(name_en) = CASEI('TRIPOLI')",
        lambda p: p["name_en"].lower() == "tripoli",
    ),
    (
        "baladiyas",
        {},
        "parent_pcode IN ('LY0101', 'LY0103') AND NOT pcode = 'LY010102'",
        lambda p: p["parent_pcode"] in ("LY0101", "LY0103") and p["pcode"] != "LY010102",
    ),
    (
        "stats-admin2",
        R54,
        "migrants > 20000 OR migrants BETWEEN 100 AND 200",
        lambda p: p["migrants"] > 20000 or 100 <= p["migrants"] <= 200,
    ),
    ("stats-admin2", R54, "idps IS NULL", lambda p: p["idps"] is None),
    (
        "stats-admin2",
        R54,
        "reporting_date >= DATE('2024-01-01') AND complete = true",
        lambda p: p["reporting_date"] >= "2024-01-01" and p["complete"],
    ),
    # one-letter property names work (pygeofilter's grammar needed two letters)
    (
        "hotspots",
        {},
        "class LIKE 'hot%' AND z > 2",
        lambda p: p["class"].startswith("hot") and p["z"] > 2,
    ),
    # as QGIS writes them: NOT around a condition, CASEI with LIKE, '' inside a string
    (
        "stats-admin2",
        R54,
        '(NOT (("migrants" > 1000) AND ("migrants" < 5000)))',
        lambda p: not 1000 < p["migrants"] < 5000,
    ),
    (
        "baladiyas",
        {},
        "CASEI(name_en) LIKE CASEI('%ZAWY%')",
        lambda p: "zawy" in p["name_en"].lower(),
    ),
    ("mantikas", {}, "name_en <> 'O''Brien'", lambda p: True),
    # AND binds tighter than OR (pygeofilter's grammar read this as (a OR b) AND c)
    (
        "stats-admin2",
        R54,
        "migrants > 20000 OR pcode = 'nowhere' AND migrants < 0",
        lambda p: p["migrants"] > 20000,
    ),
    (
        "flows",
        {},
        "individuals >= 1000 AND origin_pcode <> destination_pcode",
        lambda p: p["individuals"] >= 1000 and p["origin_pcode"] != p["destination_pcode"],
    ),
]


@pytest.mark.parametrize(("collection", "params", "cql", "keep"), CASES)
def test_cql2_text_filters_match_the_layer_filtered_in_python(
    client, collection, params, cql, keep
):
    everything = features(client, collection, **params)
    expected = sorted(f["id"] for f in everything if keep(f["properties"]))
    found = features(client, collection, filter=cql, **params)
    assert sorted(f["id"] for f in found) == expected
    assert expected or collection == "hotspots"


def test_spatial_filters_in_each_crs_and_cql2_json(client):
    everything = features(client, "baladiyas")
    box = shapely.box(22, 32, 23, 33)
    inside = {
        f["properties"]["pcode"]
        for f in everything
        if box.intersects(shapely.Point(f["geometry"]["coordinates"]))
    }
    assert inside
    ways = [
        {"filter": "S_INTERSECTS(geometry, BBOX(22, 32, 23, 33))"},
        {"filter": "S_INTERSECTS(geometry, BBOX(32, 22, 33, 23))", "filter-crs": "EPSG:4326"},
        {
            "filter": "S_WITHIN(geometry, POLYGON((22 32, 23 32, 23 33, 22 33, 22 32)))",
        },
        {
            "filter": '{"op": "s_intersects", "args": [{"property": "geometry"}, '
            '{"bbox": [22, 32, 23, 33]}]}',
            "filter-lang": "cql2-json",
        },
    ]
    for params in ways:
        assert pcodes(features(client, "baladiyas", **params)) == inside, params
    # the same box in EPSG:3857: PostGIS transforms the query geometry, never the column
    to_web = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    (x1, x2), (y1, y2) = to_web.transform([22, 23], [32, 33])
    web = features(
        client,
        "baladiyas",
        **{
            "filter": f"S_INTERSECTS(geometry, BBOX({x1}, {y1}, {x2}, {y2}))",
            "filter-crs": "EPSG:3857",
        },
    )
    assert pcodes(web) == inside
    derna = features(client, "mantikas", filter="S_INTERSECTS(geometry, POINT(22.64 32.76))")
    assert pcodes(derna) == {"LY0101"}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"filter": "migrants > 'many'"}, "not a value of type integer"),
        ({"filter": "migrnts > 5"}, "unknown property 'migrnts'"),
        ({"filter": "migrants >"}, "not valid CQL2-text at column"),
        ({"filter": "migrants + 1 > 2"}, "needs a property"),
        ({"filter": "T_AFTER(reporting_date, DATE('2020-01-01'))"}, "temporal operators"),
        ({"filter": "name_en LIKE 5"}, "LIKE takes a text pattern"),
        ({"filter": "migrants = name_en"}, "cannot compare"),
        ({"filter": "reporting_date = 'soon'"}, "type date"),
        ({"filter": "S_INTERSECTS(geometry, BBOX(23, 32, 22, 33))"}, "lower corner first"),
        ({"filter": "S_INTERSECTS(pcode, POINT(1 2))"}, "compare the property 'geometry'"),
        ({"filter": "migrants > 1e400"}, "not a value of type integer"),
        ({"filter": "x" * 20_001}, "longer than"),
        ({"filter": "pcode = 'a'", "filter-lang": "sql"}, "filter-lang"),
        ({"filter": "{", "filter-lang": "cql2-json"}, "not valid JSON"),
        ({"filter": '{"op": "zz", "args": []}', "filter-lang": "cql2-json"}, "CQL2-JSON"),
        ({"filter": "pcode = 'a'", "filter-crs": "EPSG:9"}, "filter-crs"),
        # found by fuzzing and review: each was a 500
        ({"filter": "migrants = CASEI('a')"}, "CASEI"),
        ({"filter": "reporting_date = CASEI(name_en)"}, "CASEI"),
        (
            {
                "filter": '{"op": "=", "args": [{"property": "name_en"}, "a\\u0000"]}',
                "filter-lang": "cql2-json",
            },
            "NUL",
        ),
        ({"filter": "name_en LIKE '%\\'"}, "lone escape"),
        (
            {"filter": '{"op": "=", "args": [{"property": ["x"]}, 1]}', "filter-lang": "cql2-json"},
            "named by text",
        ),
        (
            {
                "filter": '{"op": "in", "args": [{"property": "idps"}, 5]}',
                "filter-lang": "cql2-json",
            },
            "IN needs a list",
        ),
        # what cql2-rs parses and this server refuses, each with its reason
        ({"filter": "T_DURING(reporting_date, INTERVAL('2020-01-01', '..'))"}, "temporal"),
        (
            {
                "filter": '{"op": "t_after", "args": [{"property": "reporting_date"}, '
                '{"date": "2020-01-01"}]}',
                "filter-lang": "cql2-json",
            },
            "temporal operators",
        ),
        ({"filter": "migrants > 1 + 2"}, "arithmetic"),
        ({"filter": "S_WITHIN(geometry, POLYGON((22 32, 23 32 0)))"}, "not valid WKT"),
        ({"filter": "A_CONTAINS(name_en, ('a'))"}, "array operator"),
        ({"filter": '{"op": "=", "args": [1]}', "filter-lang": "cql2-json"}, "takes 2 arguments"),
        # deep nesting would overflow the parser's stack (a crash of the whole process),
        # and an error inside nested parentheses costs it time exponential in their depth
        ({"filter": "(" * 2000 + "migrants > 1" + ")" * 2000}, "more than 10 deep"),
        ({"filter": "migrants = " + "(" * 25 + "1"}, "parentheses nested more than 10 deep"),
        ({"filter": "(" * 11 + "migrants > " + ")" * 11}, "parentheses nested more than 10"),
        ({"filter": "NOT " * 3000 + "migrants > 1"}, "nested more than 100 deep"),
        ({"filter": "migrants > " + "-" * 6000 + "1"}, "nested more than 100 deep"),
    ],
)
def test_bad_filters_are_400_saying_what_is_wrong(client, params, fragment):
    response = client.get("/ogc/collections/stats-admin2/items", params=params)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail.startswith(("filter", "filter-lang", "filter-crs")) and fragment in detail


def test_property_parameters_are_exact_and_area_takes_what_lies_within(client):
    assert pcodes(features(client, "stats-admin2", pcode="LY0101")) == set()
    assert pcodes(features(client, "stats-admin2", pcode="LY010102")) == {"LY010102"}
    within = pcodes(features(client, "stats-admin2", area="LY0101"))
    assert within == {f"LY01010{i}" for i in range(1, 6)}


def test_gdal_filters_on_properties_and_dates_give_what_the_server_holds(live_server):
    """GDAL's OAPIF driver turns `pcode = ...` into ?pcode= and a date comparison into
    ?datetime=2024-01-01T/..; both must mean what the filter says."""
    url = f"OAPIF:{live_server}/ogc"
    exact = pyogrio.read_dataframe(url, layer="stats-admin2", where="pcode = 'LY0101'")
    assert len(exact) == 0
    one = pyogrio.read_dataframe(url, layer="stats-admin2", where="pcode = 'LY010102'")
    assert list(one["pcode"]) == ["LY010102"]
    dated = pyogrio.read_dataframe(
        url, layer="stats-admin2", where="reporting_date >= '2000-01-01'"
    )
    assert len(dated) == 100


def test_cql2_json_between_as_the_standard_writes_it(client):
    standard = '{"op": "between", "args": [{"property": "migrants"}, 100, 200]}'
    found = features(client, "stats-admin2", filter=standard, **{"filter-lang": "cql2-json"})
    text = features(client, "stats-admin2", filter="migrants BETWEEN 100 AND 200")
    assert found and pcodes(found) == pcodes(text)


def test_datetime_is_taken_by_collections_without_dates(client):
    # OGC API - Features defines datetime for every collection; boundaries have no dates
    assert len(features(client, "mantikas", datetime="2024-01-01")) == 22


TYPES = {
    "migrants": cql2.INTEGER,
    "z": cql2.NUMBER,
    "name_en": cql2.STRING,
    "reporting_date": cql2.DATE,
    cql2.GEOMETRY: "geometry",
}


def sql(text: str, lang: str = "cql2-text", **crs) -> tuple[str, dict]:
    return cql2.to_sql(cql2.parse(text, lang), TYPES, **crs)


def test_the_former_grammar_gaps_are_read_as_cql2_writes_them():
    """CQL2 1.0 allows NOT before any condition, one-letter names and '' in a string;
    pygeofilter 0.4's grammar did not (it was mended with regular expressions)."""
    assert sql("NOT name_en = 'x'") == ('(NOT (c."name_en" = :cql_0))', {"cql_0": "x"})
    assert sql("NOT (z > 1 AND z < 5)") == (
        '(NOT ((c."z" > :cql_0) AND (c."z" < :cql_1)))',
        {"cql_0": 1, "cql_1": 5},
    )
    assert sql("z > 2") == ('(c."z" > :cql_0)', {"cql_0": 2})
    assert sql("name_en = 'O''Brien'")[1] == {"cql_0": "O'Brien"}
    assert sql("name_en LIKE '''%' OR name_en = ''''")[1] == {"cql_0": "'%", "cql_1": "'"}


def test_numbers_are_bound_as_written():
    # cql2-rs reads every number as a float; whole numbers are bound as integers
    _, params = sql("migrants > 1000 AND z < 2.5")
    assert params == {"cql_0": 1000, "cql_1": 2.5}
    assert type(params["cql_0"]) is int


def test_and_binds_tighter_than_or():
    assert sql("migrants = 1 OR migrants = 2 AND z = 3")[0] == (
        '((c."migrants" = :cql_0) OR ((c."migrants" = :cql_1) AND (c."z" = :cql_2)))'
    )
    assert sql("migrants = 1 AND z = 2 AND z = 3")[0] == (
        '(((c."migrants" = :cql_0) AND (c."z" = :cql_1)) AND (c."z" = :cql_2))'
    )


SAME_FILTER = [
    (
        "migrants BETWEEN 100 AND 200 AND NOT name_en LIKE 'B%'",
        {
            "op": "and",
            "args": [
                {"op": "between", "args": [{"property": "migrants"}, 100, 200]},
                {"op": "not", "args": [{"op": "like", "args": [{"property": "name_en"}, "B%"]}]},
            ],
        },
    ),
    (
        "migrants IN (1, 2) OR migrants IS NOT NULL",
        {
            "op": "or",
            "args": [
                {"op": "in", "args": [{"property": "migrants"}, [1, 2]]},
                {"op": "not", "args": [{"op": "isNull", "args": [{"property": "migrants"}]}]},
            ],
        },
    ),
    (
        "CASEI(name_en) LIKE CASEI('%ZAWY%') AND reporting_date >= DATE('2024-01-01')",
        {
            "op": "and",
            "args": [
                {
                    "op": "like",
                    "args": [
                        {"op": "casei", "args": [{"property": "name_en"}]},
                        {"op": "casei", "args": ["%ZAWY%"]},
                    ],
                },
                {"op": ">=", "args": [{"property": "reporting_date"}, {"date": "2024-01-01"}]},
            ],
        },
    ),
    (
        "S_INTERSECTS(geometry, BBOX(22, 32, 23, 33))",
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [22, 32, 23, 33]}]},
    ),
    (
        "S_WITHIN(POLYGON((22 32, 23 32, 23 33, 22 33, 22 32)), geometry)",
        {
            "op": "s_within",
            "args": [
                {
                    "type": "Polygon",
                    "coordinates": [[[22, 32], [23, 32], [23, 33], [22, 33], [22, 32]]],
                },
                {"property": "geometry"},
            ],
        },
    ),
]


@pytest.mark.parametrize(("text", "document"), SAME_FILTER)
def test_cql2_text_and_cql2_json_of_one_filter_give_the_same_sql(text, document):
    as_json = orjson.dumps(document).decode()
    for crs in ({}, {"srid": 3857}, {"lat_lon": True}):
        assert sql(text, **crs) == sql(as_json, "cql2-json", **crs)


def test_cql2_text_and_cql2_json_of_one_filter_give_the_same_features(client):
    text = "migrants > 20000 OR S_INTERSECTS(geometry, BBOX(22, 32, 23, 33))"
    document = {
        "op": "or",
        "args": [
            {"op": ">", "args": [{"property": "migrants"}, 20000]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [22, 32, 23, 33]}]},
        ],
    }
    by_text = features(client, "stats-admin2", filter=text, **R54)
    by_json = features(
        client,
        "stats-admin2",
        filter=orjson.dumps(document).decode(),
        **{"filter-lang": "cql2-json"},
        **R54,
    )
    assert by_text and pcodes(by_text) == pcodes(by_json)


def test_nesting_as_deep_as_any_filter_needs_is_read():
    text = "(" * 10 + "NOT " * 80 + "z > -1" + ")" * 10
    assert sql(text) == ("(NOT " * 80 + '(c."z" > :cql_0)' + ")" * 80, {"cql_0": -1})
    geometry = "MULTIPOLYGON(((22 32, 23 32, 23 33, 22 32)))"
    assert sql(f"(NOT ((S_INTERSECTS(geometry, {geometry})) AND (z > 1)))")[0].startswith(
        "(NOT (ST_Intersects(c.geom"
    )


def test_a_syntax_error_deep_in_parentheses_is_answered_at_once():
    # cql2-rs backtracks: each nested parenthesis around an error multiplies its work by
    # about 4; at the limit of 10 this is milliseconds (20 would be seconds)
    started = time.perf_counter()
    for text in ("(" * 10 + "z > ?" + ")" * 10, "z = " + "(" * 10 + "1", "NOT (" * 10 + "z"):
        with pytest.raises(cql2.FilterError, match="not valid CQL2-text"):
            sql(text)
    assert time.perf_counter() - started < 1
