"""OGC API - Styles: each collection's style as SLD 1.1 and as a MapLibre style, with the
web map's classes, read by headless QGIS."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests import qgis

NS = {
    "sld": "http://www.opengis.net/sld",
    "se": "http://www.opengis.net/se",
    "ogc": "http://www.opengis.net/ogc",
}


def _classes(client, round_code: str, level: int, kind: str, operation: str) -> dict:
    response = client.get(
        f"/api/v1/maps/{round_code}/classes",
        params={"level": level, "population_type": kind, "operation": operation},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_statistics_collection_has_a_style_per_population_type_it_holds(client):
    libya = client.get("/ogc/collections/stats-admin1/styles").json()
    assert [s["id"] for s in libya["styles"]] == ["idp", "returnee", "migrant"]
    assert libya["default"] == "idp"
    iraq = client.get("/ogc/collections/irq-stats-admin2/styles").json()
    assert [s["id"] for s in iraq["styles"]] == ["idp"]  # Iraq's figures are IDPs only
    (link_sld, link_maplibre) = iraq["styles"][0]["links"]
    assert link_sld["type"] == "application/vnd.ogc.sld+xml;version=1.1"
    assert link_maplibre["type"] == "application/vnd.mapbox.style+json"
    outlines = client.get("/ogc/collections/irq-districts/styles").json()
    assert [s["id"] for s in outlines["styles"]] == ["default"]


def test_the_sld_classes_are_the_web_maps_and_labels_follow_the_language(client):
    response = client.get("/ogc/collections/irq-stats-admin2/styles/idp?f=sld&lang=ar")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.ogc.sld+xml")
    root = ET.fromstring(response.content)
    assert root.get("version") == "1.1.0"
    rules = root.findall(".//se:Rule", NS)
    lower = [
        float(r.find(".//ogc:PropertyIsGreaterThanOrEqualTo/ogc:Literal", NS).text)
        for r in rules
        if r.find(".//ogc:PropertyIsGreaterThanOrEqualTo", NS) is not None
    ]
    round_code = client.get("/ogc/collections/irq-stats-admin2/items", params={"limit": 1}).json()[
        "features"
    ][0]["properties"]["round"]
    classes = _classes(client, round_code, 2, "idp", "IRQ")
    assert lower == [c["from"] for c in classes["classes"]]
    fills = [
        p.text for p in root.findall(".//se:PolygonSymbolizer//se:SvgParameter[@name='fill']", NS)
    ]
    assert fills == [c["colour"] for c in classes["classes"]] + [classes["no_data"]]
    label = root.find(".//se:TextSymbolizer/se:Label/ogc:PropertyName", NS)
    assert label.text == "name_ar"
    english = client.get("/ogc/collections/irq-stats-admin2/styles/idp?f=sld").content
    assert b"<ogc:PropertyName>name_en</ogc:PropertyName></se:Label>" in english


def test_the_approximate_polygons_are_dashed_as_on_the_page(client):
    approximate = client.get("/ogc/collections/baladiyas-approximate/styles/default")
    root = ET.fromstring(approximate.content)
    dashes = root.findall(".//se:SvgParameter[@name='stroke-dasharray']", NS)
    assert dashes and dashes[0].text == "4 2"
    official = ET.fromstring(client.get("/ogc/collections/mantikas/styles/default").content)
    assert not official.findall(".//se:SvgParameter[@name='stroke-dasharray']", NS)


def test_the_maplibre_style_steps_at_the_classes_cuts_over_the_services_tiles(client):
    style = client.get("/ogc/collections/stats-admin1/styles/migrant?f=mapbox").json()
    assert style["version"] == 8
    fill = style["layers"][0]["paint"]["fill-color"]
    steps = fill[3]
    round_code = style["metadata"]["dtm-geo:round"]
    classes = _classes(client, round_code, 1, "migrant", "LBY")
    assert steps[3::2] == classes["cuts"]
    assert [steps[2], *steps[4::2]] == [c["colour"] for c in classes["classes"]]
    tilejson = style["sources"]["dtm-geo"]["url"].replace("http://testserver", "")
    answer = client.get(tilejson)
    assert answer.status_code == 200 and answer.json()["vector_layers"][0]["id"] == "stats-admin1"


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/ogc/collections/stats-admin1/styles/nope", 404, "styles: idp, returnee, migrant"),
        ("/ogc/collections/irq-stats-admin2/styles/migrant", 404, "styles: idp"),
        ("/ogc/collections/nowhere/styles", 404, "nowhere"),
        ("/ogc/collections/stats-admin1/styles/idp?f=pdf", 400, "'sld' or 'mapbox'"),
        ("/ogc/collections/stats-admin1/styles/idp?lang=fr", 400, "'en' or 'ar'"),
    ],
)
def test_bad_style_requests_say_what_is_expected(client, path, status, says):
    response = client.get(path)
    assert response.status_code == status, response.text
    assert says in response.text


QGIS_LOADS = """
from qgis.core import QgsVectorLayer
layer = QgsVectorLayer(sys.argv[1], "irq-stats-admin2", "ogr")
message, ok = layer.loadSldStyle(sys.argv[2])
renderer = layer.renderer()
rules = renderer.rootRule().children() if renderer.type() == "RuleRenderer" else []
print(json.dumps({
    "valid": layer.isValid(), "features": layer.featureCount(), "ok": ok, "message": message,
    "renderer": renderer.type(), "rules": len(rules), "labels": layer.labelsEnabled(),
    "label_field": layer.labeling().settings().fieldName if layer.labelsEnabled() else None,
}))
"""


def test_qgis_reads_the_sld_as_rules_with_labels(client, tmp_path):
    items = client.get("/ogc/collections/irq-stats-admin2/items", params={"limit": 200})
    (tmp_path / "districts.geojson").write_bytes(items.content)
    sld = client.get("/ogc/collections/irq-stats-admin2/styles/idp?f=sld&lang=ar")
    (tmp_path / "idp.sld").write_bytes(sld.content)
    found = qgis.run(QGIS_LOADS, str(tmp_path / "districts.geojson"), str(tmp_path / "idp.sld"))
    served = items.json()["numberReturned"]
    assert found["valid"] and found["features"] == served and found["ok"], found
    classes = ET.fromstring(sld.content).findall(".//se:PolygonSymbolizer", NS)
    assert found["renderer"] == "RuleRenderer" and found["rules"] == len(classes), found
    assert found["labels"] and found["label_field"] == "name_ar", found
