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

SHOTS = [
    ("map-en-1280x800.png", 1280, 800, "lang=en&area=LY010102"),
    ("map-ar-1280x800.png", 1280, 800, "lang=ar&area=LY010102"),
    ("storm-en-1280x800.png", 1280, 800, "lang=en&view=storm"),
    ("map-en-390x844.png", 390, 844, "lang=en"),
    ("map-ar-390x844.png", 390, 844, "lang=ar&view=hotspots"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    driver = make_driver()
    try:
        for name, width, height, query in SHOTS:
            viewport(driver, width, height)
            driver.get(f"{args.url.rstrip('/')}/?{query}")
            deadline = time.monotonic() + 30
            while driver.execute_script("return document.body.dataset.ready") != "1":
                assert time.monotonic() < deadline, "the page did not load"
                time.sleep(0.1)
            driver.execute_async_script(
                "const done = arguments[0], m = window.dtmMap;"
                "const ok = () => setTimeout(done, 400);"
                "if (m.loaded() && m.areTilesLoaded()) ok(); else m.once('idle', ok);"
            )
            time.sleep(0.6)
            path = Path(__file__).parent / name
            driver.save_screenshot(str(path))
            print(f"{path.relative_to(ROOT)} {os.path.getsize(path) // 1024} KB")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
