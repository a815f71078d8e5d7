"""The operation switch: the page draws any operation GET /api/v1/operations lists (Libya,
Iraq), kept in the URL as `?op=`; its rounds, figures, outline, bounds and level names all
come from the API. Debian's headless Chromium against the live service."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.test_browser import (
    api,
    browser,
    no_console_errors,
    open_page,
    rendered,
    text,
    wait_for,
)

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


def operation(api, iso3: str) -> dict:
    return next(o for o in api("/api/v1/operations")["data"] if o["operation"] == iso3)


def drawn_figures(driver, key: str) -> dict[str, float | None]:
    return driver.execute_script(
        "const out = {}; for (const f of window.dtmMap.queryRenderedFeatures("
        "{layers: ['stats-fill', 'stats-fill-multi']})) out[f.properties.pcode] ="
        " f.properties[arguments[0]] ?? null; return out",
        key,
    )


def centre(driver) -> list[float]:
    return driver.execute_script("const c = window.dtmMap.getCenter(); return [c.lng, c.lat]")


def inside(point, bounds) -> bool:
    return bounds[0] < point[0] < bounds[2] and bounds[1] < point[1] < bounds[3]


def test_operations_say_where_and_how_the_map_draws_them(client):
    ops = {o["operation"]: o for o in client.get("/api/v1/operations").json()["data"]}
    assert ops["LBY"]["default"] and not ops["IRQ"]["default"]
    assert ops["LBY"]["bounds"] == [9.3, 19.4, 25.2, 33.3]
    assert ops["IRQ"]["bounds"] == [38.6, 28.9, 48.9, 37.5]
    assert ops["LBY"]["map"] == {"outline": "mantikas", "approximate_level": 2}
    assert ops["IRQ"]["map"] == {"outline": "irq-governorates", "approximate_level": None}
    assert ops["IRQ"]["map_credit"]["ar"] and "OCHA" in ops["IRQ"]["map_credit"]["en"]


def test_iraq_in_the_url_draws_its_districts_with_the_apis_figures(browser, live_server, api):
    browser.get_log("browser")
    open_page(browser, live_server, "lang=en&op=IRQ")
    iraq = operation(api, "IRQ")
    assert browser.execute_script("return document.body.dataset.op") == "IRQ"
    assert inside(centre(browser), iraq["bounds"])
    # the latest round by the service's rule, its figures by district as the API gives them
    latest = api("/api/v1/rounds?operation=IRQ")["meta"]["latest"]["idp"]["2"]
    assert (
        Select(browser.find_element(By.ID, "round")).first_selected_option.get_attribute("value")
        == latest
    )
    rows = api(
        f"/api/v1/stats?level=2&round={latest}&operation=IRQ&population_type=idp&limit=1000"
    )["data"]
    expected = {r["pcode"]: r["individuals"] for r in rows}
    districts = {a["pcode"] for a in api("/api/v1/areas?level=2&operation=IRQ")["data"]}
    drawn = drawn_figures(browser, "idps")
    assert len(drawn) > 80 and set(drawn) <= districts
    assert {p: v for p, v in drawn.items() if v is not None} == {
        p: v for p, v in expected.items() if p in drawn
    }
    # Iraq's levels name the choices, its governorates are the outline and the first names
    options = [o.text for o in Select(browser.find_element(By.ID, "level")).options]
    assert options == [
        "Governorates (official polygons)",
        "Districts (official polygons)",
        "Sub-districts (official polygons)",
    ]
    # no population denominators for Iraq: people only, no rate
    measures = Select(browser.find_element(By.ID, "measure")).options
    assert [o.get_attribute("value") for o in measures] == ["absolute"]
    governorates = {a["pcode"]: a for a in api("/api/v1/areas?level=1&operation=IRQ")["data"]}
    assert set(rendered(browser, "admin1-line")) <= set(governorates) | {"admin1-line"}
    wait_drawn(browser, "window.dtmMap.queryRenderedFeatures({layers: ['label-admin1']}).length")
    names = browser.execute_script(
        "return window.dtmMap.queryRenderedFeatures({layers: ['label-admin1']})"
        ".map(f => [f.properties.pcode, f.layer.layout['text-field'].sections[0].text])"
    )
    assert len(names) >= 10
    assert all(governorates[p]["name_en"] == shown for p, shown in names)
    national = api(f"/api/v1/stats?level=0&round={latest}&operation=IRQ&population_type=idp")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=national-idp]").get_attribute(
        "data-value"
    ) == str(national["data"][0]["individuals"])
    assert "Iraq" in text(browser, "h1") and "IOM DTM Iraq" in text(browser, "#legend")
    assert not browser.find_element(By.CSS_SELECTOR, "[data-view=storm]").is_displayed()
    no_console_errors(browser)


def test_switching_operations_in_the_page_and_back(browser, live_server, api):
    browser.get_log("browser")
    open_page(browser, live_server, "lang=ar")
    libya, iraq = operation(api, "LBY"), operation(api, "IRQ")
    assert inside(centre(browser), libya["bounds"])
    Select(browser.find_element(By.ID, "op")).select_by_value("IRQ")
    wait_for(browser, "document.body.dataset.op === 'IRQ'")
    wait_for(browser, "location.search.includes('op=IRQ')")
    settle(browser)
    assert inside(centre(browser), iraq["bounds"])
    districts = {a["pcode"] for a in api("/api/v1/areas?level=2&operation=IRQ")["data"]}
    wait_drawn(
        browser,
        "window.dtmMap.queryRenderedFeatures({layers: ['stats-fill', 'stats-fill-multi']})"
        ".some(f => f.properties.pcode.startsWith('IQ'))",
    )
    settle(browser)
    assert set(drawn_figures(browser, "idps")) <= districts
    assert "العراق" in text(browser, "h1")
    # names in Arabic, Iraq's
    governorates = {a["pcode"]: a for a in api("/api/v1/areas?level=1&operation=IRQ")["data"]}
    wait_drawn(
        browser,
        "window.dtmMap.queryRenderedFeatures({layers: ['label-admin1']})"
        ".some(f => f.properties.pcode.startsWith('IQ'))",
    )
    settle(browser)
    names = browser.execute_script(
        "return window.dtmMap.queryRenderedFeatures({layers: ['label-admin1']})"
        ".map(f => [f.properties.pcode, f.layer.layout['text-field'].sections[0].text])"
    )
    assert names and all(governorates[p]["name_ar"] == shown for p, shown in names)
    # and back: Libya, no op in the URL
    Select(browser.find_element(By.ID, "op")).select_by_value("LBY")
    wait_for(browser, "document.body.dataset.op === 'LBY'")
    wait_for(browser, "!location.search.includes('op=')")
    wait_drawn(
        browser,
        "window.dtmMap.queryRenderedFeatures({layers: ['stats-fill', 'stats-fill-multi']})"
        ".some(f => f.properties.pcode.startsWith('LY'))",
    )
    settle(browser)
    baladiyas = {a["pcode"] for a in api("/api/v1/areas?level=2")["data"]}
    assert set(drawn_figures(browser, "idps")) <= baladiyas
    assert inside(centre(browser), libya["bounds"])
    no_console_errors(browser)
    browser.find_element(By.ID, "lang").click()  # back to English for the next tests


@pytest.mark.parametrize("asked", ["iraq", "IRQ", "irq"])
def test_an_operation_by_code_or_slug_any_case(browser, live_server, asked):
    open_page(browser, live_server, f"lang=en&op={asked}&view=storm")
    assert browser.execute_script("return document.body.dataset.op") == "IRQ"
    assert "op=IRQ" in browser.current_url
    # Storm Daniel is Libya's: Iraq's page opens on the map instead
    assert browser.execute_script("return document.body.dataset.mode") == "map"


def test_an_unknown_operation_opens_the_default(browser, live_server):
    open_page(browser, live_server, "lang=en&op=XYZ")
    assert browser.execute_script("return document.body.dataset.op") == "LBY"
    assert "op=" not in browser.current_url


@pytest.mark.parametrize(("query", "iso3"), [("lang=en", "LBY"), ("lang=ar&op=IRQ", "IRQ")])
def test_data_as_of_from_the_sources(browser, live_server, api, query, iso3):
    open_page(browser, live_server, query)
    as_of = api(f"/api/v1/sources?operation={iso3}")["data_as_of"][iso3]
    wait_for(browser, "document.getElementById('as-of').dataset.date")
    box = browser.find_element(By.ID, "as-of")
    assert box.get_attribute("data-date") == as_of["date"]
    assert as_of["source"] in box.text
    assert box.text.startswith("البيانات حتى" if "lang=ar" in query else "Data as of")


def test_an_iraq_district_panel_has_no_approximate_boundary_note(browser, live_server):
    """Iraq's districts are official polygons: the panel says nothing of approximate ones
    (Libya's baladiyas are the operation's approximate level, and say so)."""
    for query, pcode, approximate in (
        ("lang=en&op=IRQ", "IQG01Q01", False),
        ("lang=en", "LY010102", True),
    ):
        browser.get(f"{live_server}/?{query}&area={pcode}")
        wait_for(browser, f"document.getElementById('area').dataset.pcode === '{pcode}'", 60)
        panel = browser.find_element(By.ID, "area").text
        assert ("approximate" in panel) is approximate, panel
