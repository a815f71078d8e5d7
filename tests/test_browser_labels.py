"""Place names on the web map: symbol layers write each level's names in the page's
language, from glyphs the service serves itself; Arabic goes through the RTL text plugin
(shaped, right to left). Debian's headless Chromium against the live service."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

import pytest
from selenium.webdriver.common.by import By

from tests.test_browser import api, browser, no_console_errors, open_page, wait_for

__all__ = ["api", "browser"]  # fixtures, shared with test_browser


def wait_drawn(driver, script: str) -> None:
    """Wait until a query of the drawn map is truthy, then until the map is idle. A query
    while a source reloads its tiles (setData) may throw inside MapLibre: asked again."""
    wait_for(driver, f"(() => {{ try {{ return {script}; }} catch (e) {{ return false; }} }})()")
    settle(driver)


def settle(driver) -> None:
    """Wait until the map has loaded every tile and source, polled (a busy machine can
    let MapLibre's 'idle' event come after a script's time limit)."""
    wait_for(driver, "window.dtmMap.loaded() && window.dtmMap.areTilesLoaded()", 60)


FONTSTACK = "Noto Sans Regular"


def labels(driver, layer: str) -> list[dict]:
    """The rendered labels of a layer: pcode, the names it carries and the text drawn."""
    return driver.execute_script(
        "return window.dtmMap.queryRenderedFeatures({layers: [arguments[0]]}).map(f => ({"
        "pcode: f.properties.pcode, name_en: f.properties.name_en, name_ar: f.properties.name_ar,"
        "text: f.layer.layout['text-field'].sections.map(s => s.text).join('')}))",
        layer,
    )


def wait_labels(driver, layer: str, script_test: str) -> list[dict]:
    wait_drawn(
        driver,
        f"window.dtmMap.queryRenderedFeatures({{layers: ['{layer}']}})"
        f".filter(f => {script_test}).length > 0",
    )
    settle(driver)
    return labels(driver, layer)


def by_pcode(rows: list[dict]) -> dict[str, dict]:
    return {r["pcode"]: r for r in rows}


def test_first_level_names_in_english_then_arabic(browser, live_server, api):
    browser.get_log("browser")
    open_page(browser, live_server, "lang=en")
    mantikas = by_pcode(api("/api/v1/areas?level=1")["data"])
    drawn = wait_labels(browser, "label-admin1", "true")
    assert len(drawn) >= 10  # of 22: collisions drop some at the country's zoom
    for label in drawn:
        assert label["text"] == mantikas[label["pcode"]]["name_en"]
    # the language switch writes the Arabic names, shaped by the RTL plugin
    browser.find_element(By.ID, "lang").click()
    drawn = wait_labels(
        browser,
        "label-admin1",
        "f.layer.layout['text-field'].sections[0].text === f.properties.name_ar",
    )
    assert len(drawn) >= 10
    for label in drawn:
        assert label["text"] == mantikas[label["pcode"]]["name_ar"]
        assert any("\u0600" <= c <= "\u06ff" for c in label["text"])
    assert browser.execute_script("return maplibregl.getRTLTextPluginStatus()") == "loaded"
    no_console_errors(browser)
    browser.find_element(By.ID, "lang").click()  # back to English for the next tests


def test_baladiya_and_muhalla_names_close_up(browser, live_server, api):
    open_page(browser, live_server, "lang=ar&round=R39&type=idp")
    baladiyas = by_pcode(api("/api/v1/areas?level=2")["data"])
    muhallas = by_pcode(api("/api/v1/areas?level=3")["data"])
    browser.execute_script("window.dtmMap.jumpTo({center: [13.19, 32.85], zoom: 7})")  # Tripoli
    drawn = wait_labels(browser, "label-admin2", "true")
    assert drawn and all(label["text"] == baladiyas[label["pcode"]]["name_ar"] for label in drawn)
    assert labels(browser, "label-admin3") == []  # muhallas only from zoom 8
    browser.execute_script("window.dtmMap.jumpTo({center: [13.19, 32.85], zoom: 9.5})")
    drawn = wait_labels(browser, "label-admin3", "true")  # their names load as one zooms in
    assert drawn and all(label["text"] == muhallas[label["pcode"]]["name_ar"] for label in drawn)
    assert not labels(browser, "label-admin1")  # the mantikas' names give way close up
    no_console_errors(browser)


def test_glyphs_come_from_the_service_and_nothing_leaves_it(browser, live_server):
    browser.get_log("performance")
    browser.execute_script("localStorage.clear()")
    open_page(browser, live_server, "lang=ar")
    wait_labels(browser, "label-admin1", "true")
    host = urlsplit(live_server).netloc
    events = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    requested = [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]
    web = [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    assert [u for u in web if urlsplit(u).netloc != host] == []
    glyphs = {
        unquote(e["params"]["response"]["url"]): e["params"]["response"]
        for e in events
        if e["method"] == "Network.responseReceived"
        and "/glyphs/" in e["params"]["response"]["url"]
    }
    ranges = {urlsplit(u).path.rsplit("/", 1)[1] for u in glyphs}
    assert {"0-255.pbf", "65024-65279.pbf"} <= ranges  # Latin, Arabic presentation forms B
    assert all(f"/glyphs/{FONTSTACK}/" in u for u in glyphs)
    for response in glyphs.values():
        assert response["status"] == 200 and response["mimeType"] == "application/x-protobuf"
    # the RTL plugin runs in the map's workers, from the service (see test_rtl_plugin_...)
    assert browser.execute_script("return maplibregl.getRTLTextPluginStatus()") == "loaded"


def test_rtl_plugin_is_served_with_its_licence(client):
    base = "/static/vendor/mapbox-gl-rtl-text-0.3.0"
    plugin = client.get(f"{base}/mapbox-gl-rtl-text.js")
    assert plugin.status_code == 200 and "javascript" in plugin.headers["content-type"]
    assert "registerRTLTextPlugin" in plugin.text
    assert (
        "BSD" in client.get(f"{base}/LICENSE.md").text
        or "Redistribution" in client.get(f"{base}/LICENSE.md").text
    )


def test_glyph_ranges_over_http(client):
    found = client.get(f"/glyphs/{FONTSTACK}/1536-1791.pbf")  # Arabic
    assert found.status_code == 200
    assert found.headers["content-type"] == "application/x-protobuf"
    assert len(found.content) > 50_000 and FONTSTACK.encode() in found.content[:40]
    again = client.get(
        f"/glyphs/{FONTSTACK}/1536-1791.pbf", headers={"If-None-Match": found.headers["etag"]}
    )
    assert again.status_code == 304
    # a range the fonts have nothing in: an empty range, so the label still draws
    empty = client.get(f"/glyphs/{FONTSTACK}/19968-20223.pbf")
    assert empty.status_code == 200 and b"19968-20223" in empty.content
    assert len(empty.content) < 64


@pytest.mark.parametrize(
    ("path", "status", "parameter"),
    [
        (f"/glyphs/{FONTSTACK}/0-256.pbf", 422, "range"),
        (f"/glyphs/{FONTSTACK}/100-355.pbf", 422, "range"),
        (f"/glyphs/{FONTSTACK}/65536-65791.pbf", 422, "range"),
        (f"/glyphs/{FONTSTACK}/a-b.pbf", 422, "range"),
        ("/glyphs/Arial Unicode MS Regular/0-255.pbf", 404, None),
    ],
)
def test_glyph_requests_that_make_no_sense(client, path, status, parameter):
    answer = client.get(path)
    assert answer.status_code == status
    body = answer.json()
    if parameter:
        assert body["errors"][0]["parameter"] == parameter
    else:
        assert FONTSTACK in body["detail"]  # it names the fontstacks there are
