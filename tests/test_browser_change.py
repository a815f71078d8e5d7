"""The change and needs views in a real browser (Debian's headless Chromium against the
live service): the drawn values are the API's, the movers its top movers, a failed
request a message in the panel, and Arabic reads right to left."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.test_browser import api, browser, no_console_errors, open_page, text, wait_for
from tests.test_browser_operations import settle, wait_drawn

__all__ = ["api", "browser"]  # fixtures, shared with test_browser

FILLS = ["stats-fill", "stats-fill-multi"]
CHANGE = "/api/v1/stats/change?population_type=idp&top=5&format=geojson"


def drawn(driver, layers: list[str], keys: list[str]) -> dict[str, dict]:
    """pcode -> the drawn feature's `keys` (null where MapLibre has no value) and colour."""
    return driver.execute_script(
        "const out = {}, [layers, keys] = arguments;"
        "for (const f of window.dtmMap.queryRenderedFeatures({layers})) {"
        "  const row = {}; for (const k of keys) row[k] = f.properties[k] ?? null;"
        "  const paint = f.layer.paint || {};"
        "  const c = paint['fill-color'] || paint['circle-color'];"
        "  row.colour = c && c.toString ? c.toString() : null;"
        "  out[f.properties.pcode] = row; } return out",
        layers,
        keys,
    )


def open_view(driver, base: str, query: str, ready: str) -> None:
    open_page(driver, base, query)
    wait_drawn(driver, ready)


@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("lang=en&op=IRQ&view=change", "&operation=IRQ&level=2"),
        (
            "lang=en&view=change&type=idp&from=R8&to=R39",
            "&level=2&geometry=approximate&from_round=R8&to_round=R39",
        ),
    ],
    ids=["iraq", "libya"],
)
def test_the_change_map_draws_the_apis_change(browser, live_server, api, query, params):
    open_view(browser, live_server, query, "document.getElementById('view-change').dataset.to")
    box = browser.find_element(By.ID, "view-change")
    rounds = f"&from_round={box.get_attribute('data-from')}&to_round={box.get_attribute('data-to')}"
    if "from_round" not in params:
        # the default: the page's round and the one before it
        latest = api("/api/v1/rounds?operation=IRQ")["meta"]["latest"]["idp"]["2"]
        assert box.get_attribute("data-to") == latest
        params += rounds
    fc = api(CHANGE + params)
    wait_drawn(browser, f"window.dtmMap.queryRenderedFeatures({{layers: {FILLS}}}).length > 20")
    keys = ["change", "change_percent", "no_figure_in"]
    shown = drawn(browser, FILLS, keys)
    expected = {f["id"]: f["properties"] for f in fc["features"]}
    assert len(shown) > 20
    for pcode, row in shown.items():
        assert {k: row[k] for k in keys} == {k: expected[pcode][k] for k in keys}, pcode
    # no figure in one round is drawn apart from zero, and said in the legend
    classes = fc["classes"]["change"]
    if any(r["no_figure_in"] for r in shown.values()):
        colours = {r["colour"] for r in shown.values() if r["no_figure_in"]}
        assert len(colours) == 1 and colours != {
            r["colour"] for r in shown.values() if r["change"] == 0
        }
    assert text(browser, "[data-testid=change-no-figure]") == "No figure in one of the rounds"
    assert classes["no_figure"] != classes["classes"][len(classes["cuts"]) // 2]["colour"]
    no_console_errors(browser)


def test_the_movers_are_the_apis_and_open_their_area(browser, live_server, api):
    open_view(
        browser,
        live_server,
        "lang=en&op=IRQ&view=change&cmeasure=percent",
        "document.getElementById('view-change').dataset.to",
    )
    box = browser.find_element(By.ID, "view-change")
    chosen = f"&from_round={box.get_attribute('data-from')}&to_round={box.get_attribute('data-to')}"
    params = "&operation=IRQ&level=2" + chosen
    fc = api(CHANGE + params)
    for testid, key in (("top-increases", "top_increases"), ("top-decreases", "top_decreases")):
        buttons = browser.find_elements(By.CSS_SELECTOR, f"[data-testid={testid}] button")
        assert [b.get_attribute("data-pcode") for b in buttons] == [r["pcode"] for r in fc[key]]
        assert [int(b.get_attribute("data-change")) for b in buttons] == [
            r["change"] for r in fc[key]
        ]
    assert "Percent" in text(browser, "#legend")
    first = browser.find_element(By.CSS_SELECTOR, "[data-testid=top-decreases] button")
    first.click()
    pcode = fc["top_decreases"][0]["pcode"]
    wait_for(browser, f"document.getElementById('area').dataset.pcode === '{pcode}'")
    assert text(browser, "#area-name") == fc["top_decreases"][0]["name_en"]


def test_the_needs_map_draws_the_apis_indicator_with_unit_and_round(browser, live_server, api):
    open_view(
        browser,
        live_server,
        "lang=en&view=needs",
        "document.getElementById('view-needs').dataset.indicator",
    )
    fc = api(
        "/api/v1/indicators?indicator=in_informal_camp_setting_hh&population_type=idp&level=2&format=geojson&geometry=approximate"
    )
    wait_drawn(browser, f"window.dtmMap.queryRenderedFeatures({{layers: {FILLS}}}).length > 20")
    shown = drawn(browser, FILLS, ["value", "unit", "round_code"])
    expected = {f["id"]: f["properties"] for f in fc["features"]}
    assert len(shown) > 20
    for pcode, row in shown.items():
        assert (row["value"], row["unit"], row["round_code"]) == (
            expected[pcode]["value"],
            "households",
            "R39",
        )
    title = text(browser, "[data-testid=needs-legend-title]")
    assert title.replace("\u2068", "").replace("\u2069", "") == (
        "In informal camp setting (households), R39"
    )
    # a priority need: text answers at the muhallas' points, by category
    Select(browser.find_element(By.ID, "indicator")).select_by_value("priority_need_1|idp")
    wait_drawn(
        browser,
        "document.getElementById('view-needs').dataset.indicator === 'priority_need_1|idp'"
        " && window.dtmMap.queryRenderedFeatures({layers: ['points-circle']}).length > 100",
    )
    needs = api(
        "/api/v1/indicators?indicator=priority_need_1&population_type=idp&level=3&format=geojson"
    )
    expected = {f["id"]: f["properties"]["text_value"] for f in needs["features"]}
    shown = drawn(browser, ["points-circle"], ["text_value"])
    assert {p: r["text_value"] for p, r in shown.items()} == {p: expected[p] for p in shown}
    assert needs["classes"]["categories"][0]["value"] in text(browser, "#legend")
    # the area panel: the area's indicators with unit and round
    open_view(
        browser,
        live_server,
        "lang=en&view=needs&area=LY010304",
        "document.querySelector('[data-testid=area-indicators]')",
    )
    section = browser.find_element(By.CSS_SELECTOR, "[data-testid=area-indicators]")
    assert section.get_attribute("data-round") == "R39" and "R39" in section.text
    row = section.find_element(
        By.CSS_SELECTOR, "[data-indicator='in_informal_camp_setting_hh|idp']"
    )
    value = api(
        "/api/v1/indicators?indicator=in_informal_camp_setting_hh&population_type=idp&level=2&pcode=LY010304"
    )["data"][0]
    assert row.get_attribute("data-unit") == "households"
    assert f"{value['value']:,} households" in row.get_attribute("textContent")


def test_a_failed_request_is_a_message_in_the_panel(browser, live_server):
    open_view(
        browser, live_server, "lang=en&op=IRQ&view=map", "document.body.dataset.ready === '1'"
    )
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/v1/stats/change*"]})
    try:
        browser.find_element(By.CSS_SELECTOR, "[data-view=change]").click()
        wait_for(browser, "document.querySelector('#view-change [data-testid=view-error]')")
        assert browser.find_element(By.ID, "view-change").is_displayed()
        assert "Could not load data" in text(browser, "#view-change [data-testid=view-error]")
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def test_arabic_change_and_needs(browser, live_server):
    open_view(
        browser,
        live_server,
        "lang=ar&op=IRQ&view=change",
        "document.getElementById('view-change').dataset.to",
    )
    html = browser.find_element(By.TAG_NAME, "html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("ar", "rtl")
    assert text(browser, "[data-view=change]") == "التغير"
    assert text(browser, "[data-testid=change-no-figure]") == "لا رقم في إحدى الجولتين"
    assert "أكبر الزيادات" in text(browser, "#view-change")
    Select(browser.find_element(By.ID, "op")).select_by_value("LBY")
    wait_for(browser, "document.body.dataset.op === 'LBY'")
    browser.find_element(By.CSS_SELECTOR, "[data-view=needs]").click()
    wait_for(browser, "document.getElementById('view-needs').dataset.indicator")
    settle(browser)
    assert "R39" in text(browser, "[data-testid=needs-legend-title]")
    assert "أسر" in text(browser, "[data-testid=needs-legend-title]")
    no_console_errors(browser)
