"""The page never shows part of the picture as the whole: a round with figures for three
baladiyas is labelled partial on the map, in the area panel, in the downloads and in the
national figures, in English and Arabic; the default round follows the service's rule."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By

from app.auth import create_key
from app.db import session_scope
from tests.chromium import make_driver
from tests.test_browser import open_page, wait_for

pytestmark = pytest.mark.usefixtures("scratch_rounds")

PARTIAL = "T-PAGE3"
ROWS = [
    {"pcode": "LY010102", "population_type": "idp", "individuals": 1200},
    {"pcode": "LY010101", "population_type": "idp", "individuals": 300},
    {"pcode": "LY010304", "population_type": "idp", "individuals": 50},
]


@pytest.fixture(scope="module")
def partial_round(live_server, db_url):
    with session_scope(db_url) as session:
        key = create_key(session, "test-page-partial", ["ingest"])
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=live_server, timeout=30) as client:
        meta = {
            "kind": "mobility_tracking",
            "number": 98,
            "title": "test: three baladiyas",
            "collection_start": "2030-02-01",
            "collection_end": "2030-02-28",
            "reporting_date": "2030-02-28",
            "source": "IOM DTM Libya (test)",
        }
        client.put(f"/api/v1/rounds/{PARTIAL}", json=meta, headers=headers).raise_for_status()
        client.post(
            f"/api/v1/rounds/{PARTIAL}/observations",
            json={"source": "IOM DTM Libya (test)", "rows": ROWS},
            headers=headers,
        ).raise_for_status()
    return PARTIAL


@pytest.fixture(scope="module")
def browser():
    driver = make_driver(1280, 800)
    yield driver
    driver.quit()


def _text(driver, selector: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, selector).text


def test_the_default_round_is_the_services_latest_not_the_partial_one(
    browser, live_server, partial_round
):
    open_page(browser, live_server, "lang=en&type=idp")
    assert browser.execute_script("return new URLSearchParams(location.search).get('round')") == (
        "R39"
    )


def test_a_partial_round_is_labelled_everywhere_in_english(browser, live_server, partial_round):
    open_page(browser, live_server, f"lang=en&type=idp&round={PARTIAL}&area=LY010102")
    wait_for(browser, "document.querySelector('[data-testid=legend-partial]')")
    assert _text(browser, "[data-testid=legend-partial]").startswith("Partial: 3 of 100 baladiyas")
    wait_for(browser, "document.querySelector('[data-testid=area-partial]')")
    assert "Partial: 3 of 100 baladiyas" in _text(browser, "[data-testid=area-partial]")
    # the national figure is not the partial sum (1,550)
    national = browser.find_element(By.CSS_SELECTOR, "[data-testid=national-idp]")
    assert national.get_attribute("data-value") == ""
    assert "No national total" in _text(browser, "[data-testid=national-partial-idp]")
    option = browser.find_element(By.CSS_SELECTOR, f"#round option[value='{PARTIAL}']")
    assert "Partial: 3 of 100 baladiyas" in option.text
    browser.find_element(By.CSS_SELECTOR, "[data-view=downloads]").click()
    wait_for(browser, "document.querySelector('[data-testid=dl-partial]')")
    assert "Partial: 3 of 100" in _text(browser, "[data-testid=dl-partial]")


def test_a_partial_round_is_labelled_in_arabic(browser, live_server, partial_round):
    open_page(browser, live_server, f"lang=ar&type=idp&round={PARTIAL}")
    wait_for(browser, "document.querySelector('[data-testid=legend-partial]')")
    label = _text(browser, "[data-testid=legend-partial]")
    assert label.startswith("جزئية: 3 من 100 بلديات"), label  # ar-LY writes Latin digits


def test_hotspots_say_how_many_areas_they_need(browser, live_server, partial_round):
    open_page(browser, live_server, f"lang=en&type=idp&round={PARTIAL}&view=hotspots")
    wait_for(browser, "document.querySelector('[data-testid=hs-none]')")
    message = _text(browser, "[data-testid=hs-none]")
    assert "(3; at least 8 are needed)" in message
