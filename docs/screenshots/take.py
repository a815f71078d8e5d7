"""Screenshots of the web map for the README, from a running server.

Usage: .venv/bin/python docs/screenshots/take.py [--url http://127.0.0.1:8000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.chromium import make_driver, viewport  # noqa: E402

# name, width, height, query, and where to move the map after it has loaded (or None)
SHOTS = [
    ("map-en-1280x800.png", 1280, 800, "lang=en&area=LY010102", None),
    ("map-ar-1280x800.png", 1280, 800, "lang=ar&area=LY010102", None),
    ("storm-en-1280x800.png", 1280, 800, "lang=en&view=storm", None),
    # muhalla points close up: Benghazi at R39, its muhalla with the most IDPs open
    (
        "muhallas-en-1280x800.png",
        1280,
        800,
        "lang=en&round=R39&type=idp&area=LY01030409",
        {"center": [20.0, 32.06], "zoom": 10.2},
    ),
    ("map-en-390x844.png", 390, 844, "lang=en", None),
    ("map-ar-390x844.png", 390, 844, "lang=ar&view=hotspots", None),
    # place names close up: Tripoli's baladiyas and muhallas, in Arabic
    (
        "names-ar-1280x800.png",
        1280,
        800,
        "lang=ar&round=R39&type=idp",
        {"center": [13.2, 32.8], "zoom": 8.6},
    ),
    # the operation switch: Iraq's districts and names, desktop and phone
    ("iraq-en-1280x800.png", 1280, 800, "lang=en&op=IRQ", None),
    ("iraq-ar-1280x800.png", 1280, 800, "lang=ar&op=IRQ", None),
    ("iraq-ar-390x844.png", 390, 844, "lang=ar&op=IRQ", None),
    # the change between two rounds (Iraq's last two) and a published indicator (Libya R39)
    ("change-en-1280x800.png", 1280, 800, "lang=en&op=IRQ&view=change&area=IQG15Q05", None),
    ("change-ar-390x844.png", 390, 844, "lang=ar&op=IRQ&view=change", None),
    ("needs-en-1280x800.png", 1280, 800, "lang=en&view=needs", None),
    ("needs-ar-390x844.png", 390, 844, "lang=ar&view=needs", None),
    # the round slider, played to Iraq's round 62 (January 2017), the series' fixed
    # classes; on a phone the panel scrolled to it, under the map
    ("slider-en-1280x800.png", 1280, 800, "lang=en&op=IRQ&round=IRQ-R62&classes=series", None),
    (
        "slider-ar-390x844.png",
        390,
        844,
        "lang=ar&op=IRQ&round=IRQ-R62&classes=series",
        {"scroll": "timeline"},
    ),
]
# the page in a browser without WebGL: the static SVG map of the same view
NO_WEBGL_SHOTS = [
    ("nowebgl-en-1280x800.png", 1280, 800, "lang=en&round=R39&type=idp&area=LY010102"),
    ("nowebgl-ar-1280x800.png", 1280, 800, "lang=ar&round=R39&type=idp&area=LY010102"),
    ("nowebgl-en-390x844.png", 390, 844, "lang=en&round=R39&type=idp"),
]
IDLE = (
    "const done = arguments[0], m = window.dtmMap;"
    "const ok = () => setTimeout(done, 400);"
    "if (m.loaded() && m.areTilesLoaded()) ok(); else m.once('idle', ok);"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--only", help="take only the shots whose names contain this")
    args = parser.parse_args()
    driver = make_driver()
    try:
        for name, width, height, query, camera in SHOTS:
            if args.only and args.only not in name:
                continue
            viewport(driver, width, height)
            driver.get(f"{args.url.rstrip('/')}/?{query}")
            deadline = time.monotonic() + 30
            while driver.execute_script("return document.body.dataset.ready") != "1":
                assert time.monotonic() < deadline, "the page did not load"
                time.sleep(0.1)
            driver.execute_async_script(IDLE)
            if camera and "scroll" in camera:  # an element of the page into view
                driver.execute_script(
                    "document.getElementById(arguments[0]).scrollIntoView({block: 'center'})",
                    camera["scroll"],
                )
            elif camera:
                driver.execute_script("window.dtmMap.jumpTo(arguments[0])", camera)
                driver.execute_async_script(IDLE)
            time.sleep(0.6)
            _save(driver, name)
    finally:
        driver.quit()
    driver = make_driver(webgl=False)
    try:
        for name, width, height, query in NO_WEBGL_SHOTS:
            if args.only and args.only not in name:
                continue
            viewport(driver, width, height)
            driver.get(f"{args.url.rstrip('/')}/?{query}")
            deadline = time.monotonic() + 30
            while not driver.execute_script("return document.body.dataset.staticAreas"):
                assert time.monotonic() < deadline, "the static map did not load"
                time.sleep(0.1)
            time.sleep(0.6)
            _save(driver, name)
    finally:
        driver.quit()


def _save(driver, name: str) -> None:
    path = Path(__file__).parent / name
    driver.save_screenshot(str(path))
    print(f"{path.relative_to(ROOT)} {os.path.getsize(path) // 1024} KB")


if __name__ == "__main__":
    main()
