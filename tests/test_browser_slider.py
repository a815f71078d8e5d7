"""The round slider: Iraq's mobility-tracking rounds played and stepped from the keyboard,
the map drawing each round's figures as the API gives them, under one legend whose classes
are the series' own; the URL keeps the round. Debian's headless Chromium against the live
service."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.chromium import make_driver, viewport
from tests.test_browser import api, browser, no_console_errors, open_page, text, wait_for
from tests.test_browser_operations import settle

__all__ = ["api", "browser"]  # fixtures, shared with test_browser

# each drawn district's figure by the page's own rule (its state's while the slider sets
# the values, else its properties'), with the round the figure is of
DRAWN = """
const m = await import('/static/js/mapview.js');
const out = {};
for (const f of window.dtmMap.queryRenderedFeatures({layers: ['stats-fill', 'stats-fill-multi']})) {
  const state = f.state && f.state.round ? f.state.round : f.properties.round_code;
  out[f.properties.pcode] = [m.drawnValue(f), state];
}
return out;
"""


def drawn(driver) -> dict:
    return driver.execute_script(f"return (async () => {{ {DRAWN} }})()")


def url_round(driver) -> str | None:
    query = parse_qs(urlsplit(driver.current_url).query)
    return query.get("round", [None])[0]


def slider(driver):
    return driver.find_element(By.ID, "round-slider")


def shown(driver, code: str) -> None:
    """Wait until the map holds round `code`'s figures, then until it has drawn them."""
    wait_for(driver, f"document.body.dataset.sliderRound === {code!r}")
    wait_for(driver, f"document.body.dataset.drawnRound === {code!r}", 60)
    settle(driver)


def step(driver, key: str, code: str) -> None:
    slider(driver).send_keys(key)
    shown(driver, code)


def legend_classes(driver) -> list[str]:
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#legend ul.classes.cols li")]


def assert_figures(driver, api, code: str) -> None:
    rows = api(f"/api/v1/stats?operation=IRQ&level=2&round={code}&population_type=idp&limit=1000")
    expected = {r["pcode"]: r["individuals"] for r in rows["data"]}
    figures = drawn(driver)
    assert len(figures) > 80
    assert {r for _, r in figures.values()} == {code}  # every district drawn with this round's
    assert {p: v for p, (v, _) in figures.items() if v is not None} == {
        p: v for p, v in expected.items() if p in figures
    }


@pytest.fixture(scope="module")
def series(api) -> list[str]:
    rounds = api("/api/v1/rounds?operation=IRQ&kind=mobility_tracking")["data"]
    return [r["code"] for r in rounds if r["reporting_date"]]


def test_the_slider_steps_and_plays_iraqs_rounds_under_one_legend(
    browser, live_server, api, series
):
    browser.get_log("browser")
    open_page(browser, live_server, "lang=en&op=IRQ")
    assert len(series) >= 79
    box = browser.find_element(By.ID, "timeline")
    assert box.is_displayed() and f"{len(series)} rounds" in box.text
    bar = slider(browser)
    label = browser.find_element(By.CSS_SELECTOR, "label[for=round-slider]")
    assert label.text and bar.get_attribute("max") == str(len(series) - 1)
    # the page opens at the latest round: the slider is there too
    assert bar.get_attribute("value") == str(series.index(url_round(browser)))

    # the keyboard: Home to the first round, then the arrow keys one round at a time
    step(browser, Keys.HOME, series[0])
    assert url_round(browser) == series[0] and "classes=series" in browser.current_url
    assert_figures(browser, api, series[0])
    classes = legend_classes(browser)
    fixed = api("/api/v1/maps/classes?operation=IRQ&level=2&population_type=idp")
    assert len(classes) == len(fixed["classes"]) + 1  # and the no-data swatch
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=legend-fixed]").is_displayed()
    output = browser.find_element(By.ID, "round-slider-out").text
    assert "R1" in output and "2014" in output
    bare = str.maketrans("", "", "\u2068\u2069")  # the isolates around the label and date
    assert bar.get_attribute("aria-valuetext").translate(bare) == output.translate(bare)
    for n in (1, 2):
        step(browser, Keys.ARROW_RIGHT, series[n])
        assert url_round(browser) == series[n]
        assert_figures(browser, api, series[n])
        assert legend_classes(browser) == classes  # fixed across the series
    step(browser, Keys.ARROW_LEFT, series[1])
    # the round select, the national figure and the panel's headline follow
    assert browser.find_element(By.ID, "round").get_attribute("value") == series[1]
    national = api(f"/api/v1/stats?level=0&round={series[1]}&operation=IRQ&population_type=idp")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=national-idp]").get_attribute(
        "data-value"
    ) == str(national["data"][0]["individuals"])

    # Play: a round about every second, then Pause where it is
    play = browser.find_element(By.ID, "round-play")
    assert play.get_attribute("aria-pressed") == "false"
    play.click()
    assert play.get_attribute("aria-pressed") == "true"
    # (by position: a loaded machine can poll less often than once a round)
    wait_for(browser, "+document.getElementById('round-slider').value >= 4", 30)
    play.click()
    assert play.get_attribute("aria-pressed") == "false"
    at = browser.execute_script("return document.body.dataset.sliderRound")
    shown(browser, at)
    assert url_round(browser) == at and series.index(at) >= 4
    assert_figures(browser, api, at)
    assert legend_classes(browser) == classes
    no_console_errors(browser)

    # the round select names one round: its own classes again
    browser.execute_script(
        "const s = document.getElementById('round'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('change'))",
        series[0],
    )
    wait_for(browser, "!location.search.includes('classes=series')")
    wait_for(browser, "!document.querySelector('[data-testid=legend-fixed]')")
    assert slider(browser).get_attribute("value") == "0"


def test_a_played_round_in_the_url_opens_as_it_was_and_the_panel_follows(
    browser, live_server, api, series
):
    district = "IQG01Q01"
    query = f"lang=en&op=IRQ&round={series[10]}&classes=series&area={district}"
    open_page(browser, live_server, query)
    assert slider(browser).get_attribute("value") == "10"
    fixed = api("/api/v1/maps/classes?operation=IRQ&level=2&population_type=idp")
    assert len(legend_classes(browser)) == len(fixed["classes"]) + 1
    assert text(browser, "#legend li").startswith(str(int(fixed["classes"][0]["from"])))
    # the open area's panel follows the slider: its figure is the next round's
    step(browser, Keys.ARROW_RIGHT, series[11])
    rows = api(f"/api/v1/stats?operation=IRQ&level=2&round={series[11]}&pcode={district}")
    figure = next(r["individuals"] for r in rows["data"] if r["population_type"] == "idp")
    wait_for(
        browser,
        f"document.querySelector('[data-testid=area-idp]').dataset.value === '{figure}'",
    )
    assert url_round(browser) == series[11] and f"area={district}" in browser.current_url


def test_in_arabic_the_slider_runs_right_to_left(live_server, series):
    driver = make_driver(390, 844)
    try:
        viewport(driver, 390, 844)
        open_page(driver, live_server, "lang=ar&op=IRQ")
        box = driver.find_element(By.ID, "timeline")
        label = box.find_element(By.TAG_NAME, "label").text
        assert "الجولات" in label and box.find_element(By.ID, "round-play").text == "تشغيل"
        bar = slider(driver)
        direction = driver.execute_script("return getComputedStyle(arguments[0]).direction", bar)
        assert direction == "rtl"
        step(driver, Keys.HOME, series[0])
        # right to left: the arrow pointing left goes on in time, as the thumb does
        step(driver, Keys.ARROW_LEFT, series[1])
        assert url_round(driver) == series[1]
        no_console_errors(driver)
    finally:
        driver.quit()


@pytest.mark.parametrize("view", ["needs", "change", "storm", "hotspots"])
def test_the_slider_is_the_map_views_alone(browser, live_server, view):
    """Other views have their own rounds (the needs' round, the change's two): the map's
    slider is not shown beside them, hidden attribute or not."""
    shown = "getComputedStyle(document.getElementById('timeline')).display !== 'none'"
    open_page(browser, live_server, "lang=en")
    assert browser.execute_script("return " + shown)
    browser.find_element(By.CSS_SELECTOR, f"[data-view={view}]").click()
    wait_for(browser, f"document.body.dataset.mode === '{view}'")
    assert not browser.execute_script("return " + shown)
    open_page(browser, live_server, f"lang=en&view={view}")
    assert not browser.execute_script("return " + shown)
