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
    names = style["layers"][-1]
    assert names["type"] == "symbol" and names["layout"]["text-field"] == ["get", "name_en"]
    glyphs = style["glyphs"].replace("http://testserver", "")
    font = names["layout"]["text-font"][0]
    answer = client.get(glyphs.replace("{fontstack}", font).replace("{range}", "0-255"))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-protobuf"
    arabic = client.get("/ogc/collections/stats-admin1/styles/migrant?f=mapbox&lang=ar").json()
    assert arabic["layers"][-1]["layout"]["text-field"] == ["get", "name_ar"]
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


QGIS_OPENS = """
from qgis.core import (QgsMapRendererParallelJob, QgsMapSettings, QgsProject,
                       QgsRectangle)
from qgis.PyQt.QtCore import QSize
project = QgsProject.instance()
assert project.read(sys.argv[1]), "the project did not open"
layers = []
for layer in project.mapLayers().values():
    renderer = layer.renderer()
    layers.append({
        "id": layer.id(), "name": layer.name(), "valid": layer.isValid(),
        "features": layer.featureCount(), "renderer": renderer.type(),
        "classes": len(renderer.ranges()) if renderer.type() == "graduatedSymbol" else 0,
        "attr": getattr(renderer, "classAttribute", lambda: None)(),
        "labels": layer.labelsEnabled(),
        "label_field": layer.labeling().settings().fieldName if layer.labeling() else None,
        "attribution": layer.attribution(),
        "with_value": sum(
            1 for f in layer.getFeatures()
            if renderer.type() == "graduatedSymbol"
            and f[renderer.classAttribute()] not in (None, "")
            and str(f[renderer.classAttribute()]) != "NULL"
        ),
    })
order = [l.layerId() for l in project.layerTreeRoot().findLayers() if l.isVisible()]
settings = QgsMapSettings()
settings.setLayers([project.mapLayer(i) for i in order])
settings.setDestinationCrs(project.crs())
settings.setExtent(QgsRectangle(*[float(v) for v in sys.argv[3].split(",")]))
settings.setOutputSize(QSize(900, 700))
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
job.renderedImage().save(sys.argv[2], "PNG")
print(json.dumps({"title": project.title(), "layers": layers, "order": order}))
"""


@pytest.mark.parametrize(
    ("operation", "lang", "bounds"),
    [("IRQ", "ar", "38.6,28.9,48.9,37.5"), ("LBY", "en", "9.3,19.4,25.2,33.3")],
)
def test_the_qgis_project_opens_styled_and_renders(
    live_server, client, tmp_path, operation, lang, bounds
):
    import urllib.request
    import zipfile

    url = f"{live_server}/ogc/project.qgz?operation={operation}&lang={lang}"
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.headers["Content-Type"] == "application/x-qgis-project+zip"
        body = response.read()
    again = urllib.request.urlopen(url, timeout=60).read()
    assert again == body  # deterministic
    path = tmp_path / "project.qgz"
    path.write_bytes(body)
    assert len(zipfile.ZipFile(path).namelist()) == 1
    image = tmp_path / f"qgis-{operation}-{lang}.png"
    found = qgis.run(QGIS_OPENS, str(path), str(image), bounds)
    layers = {layer["id"]: layer for layer in found["layers"]}
    assert found["layers"] and all(layer["valid"] for layer in found["layers"]), found
    # every layer: the figures of a level, graduated and named in the page's language
    for layer in found["layers"]:
        assert layer["renderer"] == "graduatedSymbol" and layer["classes"] >= 2, layer
        assert layer["attr"] in ("idps", "returnees", "migrants"), layer
        assert layer["labels"] and layer["label_field"] == f"name_{lang}", layer
        credit = "مصفوفة تتبع النزوح" if lang == "ar" else "IOM DTM"
        assert layer["with_value"] > 0 and credit in layer["attribution"], layer
    # shown on top, as the page opens: the finest level's figures, on Libya's approximate
    # baladiya polygons (joined to the baladiyas' figures by pcode)
    assert len(found["order"]) == 1, found
    top = layers[found["order"][0]]
    wanted = "baladiyas_approximate" if operation == "LBY" else "irq_stats_admin2"
    assert top["id"].endswith(wanted), found
    # the same classes as the web map's, for the districts / baladiyas figures
    level2 = next(c for c in layers if c.endswith("stats_admin2"))
    kind = {"idps": "idp", "returnees": "returnee", "migrants": "migrant"}[layers[level2]["attr"]]
    collection = level2.removeprefix("dtm_geo_").replace("_", "-")
    style = client.get(f"/ogc/collections/{collection}/styles/{kind}?f=mapbox").json()
    cuts = style["layers"][0]["paint"].get(
        "fill-color", style["layers"][0]["paint"].get("circle-color")
    )[3][3::2]
    assert layers[level2]["classes"] == len(cuts) + 1, (layers[level2], style)
    assert image.stat().st_size > 10_000  # a drawn map, not an empty canvas
    import shutil
    from pathlib import Path

    docs = Path(__file__).parent.parent / "docs" / "screenshots"
    if docs.is_dir():  # kept for people to look at, as the browser tests' screenshots are
        shutil.copy(image, docs / image.name)
