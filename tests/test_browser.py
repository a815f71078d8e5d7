"""The web map in a real browser: Debian's headless Chromium against the live service.

Chromium and chromium-driver are installed by the set-up when missing (as root); these
tests fail, never skip, when that is not possible."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.chromium import make_driver, viewport

DERNA = "LY010102"
BENGHAZI, BENGHAZI_AT = "LY010304", [20.07, 32.12]
LIBYA_EXTENT = (9.39, 19.51, 25.15, 33.17)  # COD-AB outline, west south east north


@pytest.fixture(scope="module")
def browser():
    driver = make_driver(1280, 800)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def api(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield lambda path: client.get(path).raise_for_status().json()


def wait_for(driver, script: str, timeout: float = 20):
    """Poll a JS expression until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script("return " + script)
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for: {script}"
        time.sleep(0.1)


def idle(driver, timeout: float = 90) -> None:
    """Wait until MapLibre has drawn everything it was asked to.

    Polled from here rather than awaited in one async script: on a loaded machine (CI runs
    the browser beside the service and the database) a first map can take longer than the
    driver's script timeout, and a poll says what it waited for when it gives up.
    """
    ready = (
        "(() => { const m = window.dtmMap;"
        " return !!m && m.loaded() && m.areTilesLoaded() && !m.isMoving(); })()"
    )
    deadline = time.monotonic() + timeout
    settled = 0
    while settled < 2:  # twice in a row: a source given new data is not loaded at once
        settled = settled + 1 if driver.execute_script("return " + ready) else 0
        assert time.monotonic() < deadline, "timed out waiting for the map to finish drawing"
        time.sleep(0.1)


def open_page(driver, base: str, query: str = "lang=en") -> None:
    driver.get(f"{base}/?{query}")
    wait_for(driver, "document.body.dataset.ready === '1'")
    idle(driver)


def no_console_errors(driver) -> None:
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


def text(driver, selector: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, selector).text


def rendered(driver, *layers: str) -> list:
    return driver.execute_script(
        "return window.dtmMap.queryRenderedFeatures({layers: arguments[0]})"
        ".map(f => f.properties.pcode || f.properties.origin_pcode || f.layer.id)",
        list(layers),
    )


def search(driver, query: str) -> None:
    box = driver.find_element(By.ID, "search")
    box.clear()
    box.send_keys(query, Keys.ENTER)


def test_loads_without_console_errors_or_foreign_requests(browser, live_server):
    browser.get_log("browser")
    browser.get_log("performance")
    open_page(browser, live_server)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    host = urlsplit(live_server).netloc
    requested = [
        json.loads(e["message"])["message"]["params"]["request"]["url"]
        for e in browser.get_log("performance")
        if '"Network.requestWillBeSent"' in e["message"]
    ]
    assert any("/ogc/tiles/mantikas/" in u for u in requested)
    foreign = [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    foreign = [u for u in foreign if urlsplit(u).netloc != host]
    assert foreign == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)"
    )
    assert all(urlsplit(u).netloc == host for u in resources if u.startswith("http"))


def test_map_renders_features_from_the_service(browser, live_server, api):
    open_page(browser, live_server)
    pcodes = set(rendered(browser, "stats-fill", "stats-fill-multi"))
    baladiyas = {a["pcode"] for a in api("/api/v1/areas?level=2")["data"]}
    assert len(pcodes) > 50 and pcodes <= baladiyas
    assert rendered(browser, "admin1-line")
    legend = text(browser, "#legend")
    assert "approximate" in legend and "Published" in legend and "OCHA" in legend


def test_libya_and_derna_figures_equal_the_api(browser, live_server, api):
    open_page(browser, live_server, "lang=en&round=R54&type=migrant")
    libya = api("/api/v1/stats?level=0&round=R54&population_type=migrant")["data"]
    national = next(r["individuals"] for r in libya if r["displacement_reason"] is None)
    assert text(browser, "[data-testid=national-migrant]") == f"{national:,}"
    search(browser, "Derna")
    wait_for(browser, f"document.getElementById('area').dataset.pcode === '{DERNA}'")
    derna = api(f"/api/v1/stats?level=2&round=R54&pcode={DERNA}&format=geojson")
    figures = derna["features"][0]["properties"]
    assert text(browser, "[data-testid=area-migrant]") == f"{figures['migrants']:,}"
    assert text(browser, "#area-name") == "Derna"
    assert "Egypt" in text(browser, "#area")  # migrants by nationality


def test_arabic_switch_rtl_names_and_persistence(browser, live_server, api):
    open_page(browser, live_server)
    browser.find_element(By.ID, "lang").click()
    html = browser.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    assert text(browser, "label[for=round]") == "الجولة"
    assert "lang=ar" in browser.current_url
    name_ar = api(f"/api/v1/areas/{DERNA}")["data"]["name_ar"]
    search(browser, "درنة")
    wait_for(browser, f"document.getElementById('area').dataset.pcode === '{DERNA}'")
    assert text(browser, "#area-name") == name_ar
    nationalities = api(f"/api/v1/nationalities?level=2&round=R54&pcode={DERNA}")["data"]
    first = nationalities[0]["nationality_ar"]
    wait_for(browser, f"document.getElementById('area').textContent.includes('{first}')")
    browser.get(live_server + "/")  # no ?lang: the choice survives from localStorage
    wait_for(browser, "document.body.dataset.ready === '1'")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "rtl"
    browser.find_element(By.ID, "lang").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("dir") == "ltr"


def test_search_by_transliteration_opens_derna(browser, live_server):
    open_page(browser, live_server)
    search(browser, "Darnah")
    wait_for(browser, f"document.getElementById('area').dataset.pcode === '{DERNA}'")
    assert text(browser, "#area-name") == "Derna"


def test_choosing_a_round_changes_the_figures(browser, live_server, api):
    open_page(browser, live_server, "lang=en&round=R54")
    before = text(browser, "[data-testid=national-idp]")
    Select(browser.find_element(By.ID, "round")).select_by_value("R50")
    wait_for(browser, "document.getElementById('national-h').textContent.includes('R50')")
    r50 = api("/api/v1/stats?level=0&round=R50")["data"]
    for population_type in ("idp", "returnee", "migrant"):
        value = next(
            r["individuals"]
            for r in r50
            if r["population_type"] == population_type and r["displacement_reason"] is None
        )
        assert text(browser, f"[data-testid=national-{population_type}]") == f"{value:,}"
    assert text(browser, "[data-testid=national-idp]") != before
    assert "round=R50" in browser.current_url


def test_every_round_type_and_layout_draws_without_errors(browser, live_server, api):
    open_page(browser, live_server, "lang=en&level=1")
    browser.get_log("browser")
    rounds = [r["code"] for r in api("/api/v1/rounds")["data"]]
    select = Select(browser.find_element(By.ID, "round"))
    for code in rounds:
        select.select_by_value(code)
        label = browser.execute_script(
            "return document.querySelector('#round option:checked').textContent"
        )
        assert label
    Select(browser.find_element(By.ID, "measure")).select_by_value("per_1000")
    for level in ("2p", "1"):
        Select(browser.find_element(By.ID, "level")).select_by_value(level)
    for view in ("hotspots", "downloads", "map"):
        browser.find_element(By.CSS_SELECTOR, f"[data-view={view}]").click()
    idle(browser)
    time.sleep(0.5)  # let the last answers arrive
    no_console_errors(browser)
    assert "/ogc/download.gpkg?round=" in browser.page_source


def test_storm_daniel_view_shows_44862_and_its_flows(browser, live_server):
    open_page(browser, live_server)
    browser.find_element(By.CSS_SELECTOR, "[data-view=storm]").click()
    wait_for(browser, "document.querySelector('[data-testid=storm-total]')")
    assert text(browser, "[data-testid=storm-total]") == "44,862"
    wait_for(browser, "Number(document.body.dataset.flows) > 0")
    idle(browser)
    flows = rendered(browser, "flows-line")
    assert flows and DERNA in flows
    assert "modelled" in text(browser, "#legend")
    assert "published figures" in text(browser, "#view-storm").lower()
    no_console_errors(browser)


def test_hotspots_view_states_the_method(browser, live_server):
    open_page(browser, live_server, "lang=en&round=R54&type=migrant")
    browser.find_element(By.CSS_SELECTOR, "[data-view=hotspots]").click()
    wait_for(browser, "document.querySelector('[data-testid=hs-method]')")
    legend = text(browser, "#legend")
    assert "Getis-Ord Gi*" in legend and "permutations" in legend and "Hot spot 99%" in legend
    idle(browser)
    assert len(rendered(browser, "points-circle")) > 50
    no_console_errors(browser)


def test_keyboard_reaches_round_search_and_language(browser, live_server):
    open_page(browser, live_server)
    browser.find_element(By.TAG_NAME, "body").click()
    browser.execute_script("document.activeElement.blur()")
    reached = []
    body = browser.switch_to.active_element
    for _ in range(25):
        body.send_keys(Keys.TAB)
        body = browser.switch_to.active_element
        reached.append(body.get_attribute("id") or body.tag_name)
        if {"round", "search", "lang"} <= set(reached):
            break
    assert {"round", "search", "lang"} <= set(reached), reached
    # and the language switch works from the keyboard
    browser.find_element(By.ID, "lang").send_keys(Keys.ENTER)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ar"
    browser.find_element(By.ID, "lang").send_keys(Keys.ENTER)


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/docs", "document.querySelectorAll('.opblock').length > 10"),
        ("/redoc", "document.querySelectorAll('[data-section-id]').length > 10"),
        ("/ogc/collections", "document.querySelectorAll('tbody tr').length > 5"),
    ],
)
def test_docs_and_ogc_pages_render_offline(browser, live_server, path, ready):
    browser.get_log("performance")
    browser.get_log("browser")
    browser.get(live_server + path)
    wait_for(browser, ready)
    host = urlsplit(live_server).netloc
    requested = [
        json.loads(e["message"])["message"]["params"]["request"]["url"]
        for e in browser.get_log("performance")
        if '"Network.requestWillBeSent"' in e["message"]
    ]
    assert [u for u in requested if u.startswith("http") and urlsplit(u).netloc != host] == []
    no_console_errors(browser)


# --- muhallas (admin 3): points close up, for the rounds that have them ---------------------


def zoom_to(driver, center, zoom: float) -> None:
    driver.execute_script(
        "window.dtmMap.jumpTo({center: arguments[0], zoom: arguments[1]})", center, zoom
    )
    idle(driver)


def muhalla_features(driver) -> list[dict]:
    """Rendered muhalla circles: properties, evaluated radius and colour, and position."""
    return driver.execute_script(
        "return window.dtmMap.queryRenderedFeatures({layers: ['muhalla-circle']}).map(f => ({"
        "  props: f.properties, radius: f.layer.paint['circle-radius'],"
        "  colour: f.layer.paint['circle-color'].toString(), at: f.geometry.coordinates}))"
    )


def test_muhalla_points_close_up_carry_the_apis_figures(browser, live_server, api):
    open_page(browser, live_server, "lang=en&round=R39&type=idp")
    wait_for(browser, "Number(document.body.dataset.muhallas) > 600")
    assert rendered(browser, "muhalla-circle") == []  # the whole country: too far out
    assert "drawn from zoom 8" in text(browser, "#legend")
    zoom_to(browser, BENGHAZI_AT, 10)
    shown = {f["props"]["pcode"]: f for f in muhalla_features(browser)}
    in_benghazi = {a["pcode"] for a in api(f"/api/v1/areas?parent={BENGHAZI}&level=3")["data"]}
    assert len(shown.keys() & in_benghazi) >= 20
    assert all(len(pcode) == 10 and pcode.startswith("LY") for pcode in shown)
    # each point's figures are those the statistics API gives for that muhalla alone
    for pcode, feature in list(shown.items())[:12]:
        (row,) = api(f"/api/v1/stats?level=3&round=R39&pcode={pcode}&format=geojson")["features"]
        figures = row["properties"]
        assert feature["props"]["idps"] == figures["idps"]
        assert feature["props"]["returnees"] == figures["returnees"]
        assert feature["props"]["parent_pcode"] == figures["parent_pcode"]
        assert feature["at"] == pytest.approx(row["geometry"]["coordinates"], abs=1e-4)
    # circle area grows with the IDPs; people, not zero, in the IDP colour
    by_value = sorted(shown.values(), key=lambda f: f["props"]["idps"])
    assert by_value[0]["radius"] < by_value[-1]["radius"]
    radii = [f["radius"] for f in by_value]
    assert radii == sorted(radii)
    assert "rgba(230,159,0" in by_value[-1]["colour"].replace(" ", "")
    legend = text(browser, "#legend")
    assert "Muhallas, IDPs, R39" in legend and "without a published location" in legend
    # the same points sized by returnees when the population changes
    Select(browser.find_element(By.ID, "ptype")).select_by_value("returnee")
    wait_for(browser, "document.getElementById('legend').textContent.includes('Muhallas, Ret')")
    idle(browser)
    by_returnees = sorted(muhalla_features(browser), key=lambda f: f["props"]["returnees"])
    radii = [f["radius"] for f in by_returnees]
    assert radii[0] < radii[-1] and radii == sorted(radii)
    assert "rgba(0,114,178" in by_returnees[-1]["colour"].replace(" ", "")
    no_console_errors(browser)


def test_clicking_a_muhalla_opens_its_figures_and_parent(browser, live_server, api):
    open_page(browser, live_server, "lang=en&round=R39&type=idp")
    wait_for(browser, "Number(document.body.dataset.muhallas) > 600")
    zoom_to(browser, BENGHAZI_AT, 10)
    biggest = max(muhalla_features(browser), key=lambda f: f["props"]["idps"])
    x, y = browser.execute_script(
        "const p = window.dtmMap.project(arguments[0]); return [p.x, p.y]", biggest["at"]
    )
    # the muhalla drawn on top at that pixel (a larger circle may overlap a smaller one)
    pcode = browser.execute_script(
        "return window.dtmMap.queryRenderedFeatures([arguments[0], arguments[1]],"
        " {layers: ['muhalla-circle']})[0].properties.pcode",
        x,
        y,
    )
    canvas = browser.find_element(By.CSS_SELECTOR, "#map canvas")
    size = canvas.size
    ActionChains(browser).move_to_element_with_offset(
        canvas, int(x - size["width"] / 2), int(y - size["height"] / 2)
    ).click().perform()
    wait_for(browser, f"document.getElementById('area').dataset.pcode === '{pcode}'")
    area = api(f"/api/v1/areas/{pcode}")["data"]
    (row,) = api(f"/api/v1/stats?level=3&round=R39&pcode={pcode}&format=geojson")["features"]
    assert area["level"] == 3 and area["parent_pcode"] == BENGHAZI
    assert text(browser, "#area-name") == area["name_en"]
    assert text(browser, "[data-testid=area-idp]") == f"{row['properties']['idps']:,}"
    assert text(browser, "[data-testid=area-returnee]") == f"{row['properties']['returnees']:,}"
    assert text(browser, "[data-testid=area-parent]") == "Benghazi (baladiya)"
    assert "drawn at the point DTM publishes" in text(browser, "#area")
    # the parent: Benghazi, with its muhallas listed
    browser.find_element(By.CSS_SELECTOR, "[data-testid=area-parent]").click()
    wait_for(browser, f"document.getElementById('area').dataset.pcode === '{BENGHAZI}'")
    n = len(api(f"/api/v1/areas?parent={BENGHAZI}&level=3")["data"])
    assert f"Muhallas within ({n})" in text(browser, "#area")
    no_console_errors(browser)


def test_rounds_without_muhallas_draw_none_and_fail_nothing(browser, live_server):
    browser.get_log("performance")
    open_page(browser, live_server, "lang=en&round=R39&type=idp")
    wait_for(browser, "Number(document.body.dataset.muhallas) > 600")
    zoom_to(browser, BENGHAZI_AT, 10)
    assert rendered(browser, "muhalla-circle")
    Select(browser.find_element(By.ID, "round")).select_by_value("R54")
    wait_for(browser, "document.getElementById('national-h').textContent.includes('R54')")
    wait_for(browser, "document.body.dataset.muhallas === '0'")
    idle(browser)
    assert browser.execute_script("return window.dtmMap.getZoom()") >= 8
    assert rendered(browser, "muhalla-circle") == []
    assert "Muhallas" not in text(browser, "#legend")
    assert rendered(browser, "stats-fill", "stats-fill-multi")  # the baladiyas still are
    # straight to R54 migrants close up: nothing asked for muhallas, nothing drawn
    browser.get_log("performance")
    open_page(browser, live_server, "lang=en&round=R54&type=migrant")
    zoom_to(browser, BENGHAZI_AT, 10)
    requested = [
        json.loads(e["message"])["message"]["params"]["request"]["url"]
        for e in browser.get_log("performance")
        if '"Network.requestWillBeSent"' in e["message"]
    ]
    assert not [u for u in requested if "level=3&round" in u]
    assert rendered(browser, "muhalla-circle") == []
    no_console_errors(browser)


def test_downloads_offer_muhallas_in_rounds_that_have_them(browser, live_server, api):
    open_page(browser, live_server, "lang=en&round=R39&type=idp")
    browser.find_element(By.CSS_SELECTOR, "[data-view=downloads]").click()
    links = browser.find_elements(By.CSS_SELECTOR, "#dl-muhallas a")
    assert [a.text for a in links] == ["CSV (HXL)", "GeoJSON"]
    fetched = browser.execute_async_script(
        "fetch(arguments[0]).then(r => r.json()).then(j => arguments[1](j.features.length))",
        links[1].get_attribute("href"),
    )
    assert fetched == api("/api/v1/stats?level=3&round=R39&format=geojson&limit=10000")["total"]
    assert fetched == 663
    Select(browser.find_element(By.ID, "round")).select_by_value("R54")
    wait_for(browser, "!document.getElementById('dl-muhallas')")
    no_console_errors(browser)


def test_search_finds_muhallas_and_still_derna_first(browser, live_server, api):
    count = {level: len(api(f"/api/v1/areas?level={level}")["data"]) for level in (1, 2, 3)}
    options = "return document.querySelectorAll('#area-names option').length"
    open_page(browser, live_server)
    assert browser.execute_script(options) == count[1] + count[2]
    for query in ("Derna", "Darnah", "درنة"):  # the baladiya, not a muhalla or the mantika
        search(browser, query)
        wait_for(browser, f"document.getElementById('area').dataset.pcode === '{DERNA}'")
        browser.find_element(By.CSS_SELECTOR, "#area .close").click()
    # the muhallas' names arrived with the first search
    assert browser.execute_script(options) == count[1] + count[2] + count[3]
    search(browser, "Abu Mansour")  # a muhalla of Derna
    wait_for(browser, "document.getElementById('area').dataset.pcode === 'LY01010201'")
    assert text(browser, "[data-testid=area-parent]") == "Derna (baladiya)"
    search(browser, "Ghat")  # a baladiya, a mantika and a muhalla: the baladiya
    wait_for(browser, "document.getElementById('area-name').textContent === 'Ghat'")
    assert len(browser.execute_script("return document.getElementById('area').dataset.pcode")) == 8
    search(browser, "Ghat (Ghat)")  # the muhalla, as the list offers it
    wait_for(browser, "document.getElementById('area').dataset.pcode.length === 10")


# --- the whole country in view, the legend clear of it ----------------------------------------

LAND_UNDER = """
const m = window.dtmMap, c = m.getContainer().getBoundingClientRect();
const r = arguments[0] ? document.getElementById('legend').getBoundingClientRect() : null;
const w = r ? r.width : 280, h = r ? r.height : 200;
const x = r ? r.left - c.left : (c.width - w) / 2, y = r ? r.top - c.top : (c.height - h) / 2;
return m.queryRenderedFeatures([[x, y], [x + w, y + h]], {layers: ['land']}).length;
"""


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_desktop_legend_leaves_all_of_libya_visible(browser, live_server, lang):
    viewport(browser, 1280, 800)
    try:
        for query in (f"lang={lang}", f"lang={lang}&round=R39", f"lang={lang}&view=hotspots"):
            open_page(browser, live_server, query)
            wait_for(browser, "document.getElementById('legend').offsetHeight > 150")
            idle(browser)
            assert browser.execute_script("return innerWidth") == 1280
            west, south, east, north = browser.execute_script(
                "const b = window.dtmMap.getBounds();"
                "return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]"
            )
            w, s, e, n = LIBYA_EXTENT
            assert west < w and south < s and east > e and north > n, query
            assert browser.execute_script(LAND_UNDER, False) > 0  # land at the map's middle
            assert browser.execute_script(LAND_UNDER, True) == 0, query  # none under the legend
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# --- without WebGL -----------------------------------------------------------------------


def test_the_web_map_legend_uses_the_servers_classes(browser, live_server, api):
    open_page(browser, live_server, "lang=en&round=R39&type=idp&level=2")
    classes = api("/api/v1/maps/R39/classes?level=2&population_type=idp")
    swatches = browser.execute_script(
        "return [...document.querySelectorAll('#legend ul.classes.cols li .sw')]"
        ".map(s => getComputedStyle(s).backgroundColor)"
    )
    hexes = [c["colour"] for c in classes["classes"]] + [classes["no_data"]]
    rgb = [f"rgb({int(h[1:3], 16)}, {int(h[3:5], 16)}, {int(h[5:7], 16)})" for h in hexes]
    assert swatches == rgb
    assert text(browser, "#legend ul.classes.cols li").startswith("0 – 125")


@pytest.fixture(scope="module")
def plain_browser():
    """Chromium with WebGL disabled: old hardware, remote desktops, locked-down machines."""
    driver = make_driver(1280, 800, webgl=False)
    yield driver
    driver.quit()


def open_static(driver, base: str, query: str) -> None:
    driver.get(f"{base}/?{query}")
    wait_for(driver, "document.body.dataset.ready === '1'")
    wait_for(driver, "Number(document.body.dataset.staticAreas) > 0")


def static_areas(driver) -> dict[str, str]:
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll("
        "'#static-map #map-areas [data-pcode]')]"
        ".map(e => [e.dataset.pcode, e.getAttribute('fill')]))"
    )


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_without_webgl_every_control_panel_and_download_works(
    plain_browser, live_server, api, lang
):
    driver = plain_browser
    driver.get_log("browser")
    assert driver.execute_script(
        "const c = document.createElement('canvas');"
        "return !c.getContext('webgl') && !c.getContext('webgl2')"
    )
    open_static(driver, live_server, f"lang={lang}&round=R39&type=idp&level=2")
    assert driver.execute_script("return document.documentElement.lang") == lang
    note = text(driver, "#nowebgl")
    assert "WebGL" in note
    assert ("لا يستطيع" in note) if lang == "ar" else note.startswith("This browser cannot")
    # menus filled
    rounds = api("/api/v1/rounds")["data"]
    assert len(Select(driver.find_element(By.ID, "round")).options) == len(rounds)
    assert len(Select(driver.find_element(By.ID, "ptype")).options) == 3
    assert len(Select(driver.find_element(By.ID, "level")).options) == 3
    # the national figures and the chart
    idps = api("/api/v1/stats?level=0&round=R39&population_type=idp")["data"][0]["individuals"]
    assert driver.find_element(By.ID, "national").text
    assert driver.execute_script("return document.querySelectorAll('#chart canvas').length") >= 1
    # the static map: every baladiya, coloured by the server's classes, bilingual texts
    areas = static_areas(driver)
    assert len(areas) == 100
    classes = api("/api/v1/maps/R39/classes?level=2&population_type=idp")
    assert set(areas.values()) == {c["colour"] for c in classes["classes"]}
    svg_text = driver.execute_script("return document.querySelector('#static-map svg').textContent")
    assert ("النازحون داخلياً" if lang == "ar" else "IDPs, People, R39") in svg_text
    assert "OCHA" in svg_text and "IGO" in svg_text  # the attribution (wrapped)
    # another level redraws: 22 mantikas
    Select(driver.find_element(By.ID, "level")).select_by_value("1")
    wait_for(driver, "Number(document.body.dataset.staticAreas) === 22")
    # the area panel: Derna's figures as the API gives them
    search(driver, "Darnah")
    wait_for(driver, f"document.getElementById('area').dataset.pcode === '{DERNA}'")
    derna = api(f"/api/v1/stats?level=2&round=R39&pcode={DERNA}&population_type=idp")["data"]
    shown = wait_for(driver, "document.querySelector('[data-testid=area-idp]').dataset.value")
    assert int(shown) == next(r["individuals"] for r in derna if r["pcode"] == DERNA)
    assert idps > int(shown) > 0
    # downloads: every link answers, the SVG of the view included
    driver.find_element(By.CSS_SELECTOR, "[data-view=downloads]").click()
    links = driver.execute_script(
        "return [...document.querySelectorAll('#view-downloads a[download]')].map(a => a.href)"
    )
    assert any("format=csv" in u for u in links) and any("download.gpkg" in u for u in links)
    assert any(".svg?" in u for u in links)
    with httpx.Client(timeout=60) as client:
        for url in links:
            response = client.get(url)
            assert response.status_code == 200, url
    # Storm Daniel and hotspots work too
    driver.find_element(By.CSS_SELECTOR, "[data-view=storm]").click()
    wait_for(driver, "document.querySelector('[data-testid=storm-total]')")
    assert text(driver, "[data-testid=storm-total]") in ("44,862", "44.862", "٤٤٬٨٦٢")
    wait_for(driver, "document.querySelector('#static-map').dataset.url.includes('storm-daniel')")
    driver.find_element(By.CSS_SELECTOR, "[data-view=hotspots]").click()
    wait_for(driver, "document.querySelector('[data-testid=hs-method]')")
    no_console_errors(driver)


def test_a_stored_script_url_is_never_a_link(browser, live_server, engine):
    """A source_url stored before URLs were checked (or by hand) renders as text."""
    from sqlalchemy import text as sql

    evil = "javascript:document.body.dataset.pwned='1'//https://dtm.iom.int"
    with engine.begin() as conn:
        before = conn.execute(sql("SELECT source_url FROM rounds WHERE code = 'R54'")).scalar()
        conn.execute(sql("UPDATE rounds SET source_url = :u WHERE code = 'R54'"), {"u": evil})
        conn.execute(sql("UPDATE data_version SET version = version + 1"))
    try:
        open_page(browser, live_server, "lang=en&round=R54")
        wait_for(browser, "document.getElementById('round-info').textContent.length > 0")
        hrefs = browser.execute_script(
            "return [...document.querySelectorAll('a')].map(a => a.getAttribute('href') || '')"
        )
        assert hrefs and not [h for h in hrefs if h.lower().startswith("javascript")]
        assert "IOM" in text(browser, "#round-info")  # the source, as text
        no_console_errors(browser)
    finally:
        with engine.begin() as conn:
            conn.execute(sql("UPDATE rounds SET source_url = :u WHERE code = 'R54'"), {"u": before})
            conn.execute(sql("UPDATE data_version SET version = version + 1"))


@pytest.mark.parametrize(
    ("view", "blocked"),
    [("storm", "*/api/v1/events/*"), ("hotspots", "*/api/v1/hotspots*")],
)
def test_a_view_whose_request_fails_says_so_in_its_panel(browser, live_server, view, blocked):
    """A failed request is a message in the view's panel, the same for every view."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": [blocked]})
    try:
        open_page(browser, live_server, "lang=en&round=R54&type=migrant")
        browser.find_element(By.CSS_SELECTOR, f"[data-view={view}]").click()
        wait_for(browser, f"document.querySelector('#view-{view} [data-testid=view-error]')")
        message = text(browser, f"#view-{view} [data-testid=view-error]")
        assert message.startswith("Could not load") or "error" in message.lower(), message
        assert browser.find_element(By.CSS_SELECTOR, f"#view-{view}").is_displayed()
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        browser.get_log("browser")  # the blocked request's console line is this test's own
