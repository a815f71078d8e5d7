"""Page load of the web map in headless Chromium: time to first rendered map and bytes.

Usage: .venv/bin/python bench/page_load.py [--url http://127.0.0.1:8000] [--repeats 3]

Against a running server (`make run`). Cold: a new browser profile (empty cache) per
run. Warm: the same page reloaded in that browser (cached vendor files, revalidated
page and app files). Time to first map is from navigation start to the first MapLibre
'idle' with data features rendered (`window.dtmFirstMap`, set by app.js). Bytes are
from the Resource Timing API: transferred (headers included; 0 for memory-cache hits)
and encoded bodies (gzipped where the server compressed), beside the 1.5 MB budget.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.chromium import make_driver

BUDGET = 1_500_000
MEASURE = """
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource');
const all = [nav, ...res];
return {
  first_map_ms: window.dtmFirstMap || null,
  transferred: all.reduce((s, r) => s + r.transferSize, 0),
  encoded: all.reduce((s, r) => s + r.encodedBodySize, 0),
  decoded: all.reduce((s, r) => s + r.decodedBodySize, 0),
  requests: all.length,
  hosts: [...new Set(res.map(r => new URL(r.name).host))],
};
"""


def load(driver, url: str, timeout: float = 60) -> dict:
    driver.get(url)
    deadline = time.monotonic() + timeout
    while not driver.execute_script("return window.dtmFirstMap"):
        if time.monotonic() > deadline:
            raise RuntimeError("the map did not render")
        time.sleep(0.05)
    time.sleep(0.5)  # let late tiles finish so that the byte count is complete
    return driver.execute_script(MEASURE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    page = args.url.rstrip("/") + "/?lang=en"
    cold, warm = [], []
    for _ in range(args.repeats):
        driver = make_driver(1280, 800)
        try:
            cold.append(load(driver, page))
            warm.append(load(driver, page))
        finally:
            driver.quit()

    def row(label: str, runs: list[dict]) -> None:
        ms = statistics.median(r["first_map_ms"] for r in runs)
        tx = statistics.median(r["transferred"] for r in runs)
        enc = statistics.median(r["encoded"] for r in runs)
        dec = statistics.median(r["decoded"] for r in runs)
        print(
            f"{label:5} first map {ms:7.0f} ms   transferred {tx / 1e6:5.2f} MB   "
            f"bodies gz {enc / 1e6:5.2f} MB (raw {dec / 1e6:5.2f} MB)   "
            f"requests {runs[0]['requests']}   hosts {runs[0]['hosts']}"
        )

    print(f"{page}  medians of {args.repeats} runs, headless Chromium 1280x800 (SwiftShader)")
    row("cold", cold)
    row("warm", warm)
    first = statistics.median(r["transferred"] for r in cold)
    verdict = "within" if first <= BUDGET else "OVER"
    print(f"first load {first / 1e6:.2f} MB transferred; budget {BUDGET / 1e6:.1f} MB: {verdict}")


if __name__ == "__main__":
    main()
