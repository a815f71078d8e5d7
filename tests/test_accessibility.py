"""Accessibility of the pages people read: axe-core (vendored, tests/vendor/) finds no
serious or critical violation in English and Arabic, desktop and phone, and every control
is reached from the keyboard. Debian's headless Chromium against the live service."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.chromium import viewport
from tests.test_browser import api, browser, open_page

__all__ = ["api", "browser"]  # fixtures, shared with test_browser

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.slice(0, 3).map(n => n.target)}))))
  .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
"""


def violations(driver) -> list[dict]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    found = driver.execute_async_script(RUN_AXE)
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_map_page_has_no_serious_violation(browser, live_server, lang, size):
    viewport(browser, *SIZES[size])
    try:
        views = ("", "&op=IRQ", "&view=hotspots", "&view=storm", "&view=change&op=IRQ")
        for query in (*views, "&view=needs&round=R39"):
            open_page(browser, live_server, f"lang={lang}{query}")
            assert violations(browser) == [], query
    finally:
        viewport(browser, 1280, 800)


def test_every_control_is_reached_from_the_keyboard(browser, live_server):
    open_page(browser, live_server, "lang=en")
    controls = browser.execute_script(
        "return [...document.querySelectorAll('button, select, input, a[href], [tabindex]')]"
        ".filter(e => e.offsetParent !== null && !e.disabled && e.tabIndex >= 0)"
        ".map(e => e.id || e.name || e.textContent.trim().slice(0, 30))"
    )
    body = browser.find_element(By.TAG_NAME, "body")
    body.click()
    reached = []
    for _ in range(len(controls) * 2 + 10):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        reached.append(
            browser.execute_script(
                "const e = document.activeElement;"
                "return e.id || e.name || e.textContent.trim().slice(0, 30)"
            )
        )
    missing = [c for c in controls if c not in reached]
    assert controls and missing == [], missing
