"""Page load of the web map in headless Chromium: time to first rendered map and bytes.

Usage: .venv/bin/python bench/page_load.py [--url http://127.0.0.1:8000] [--repeats 3]
       [--query lang=ar&op=IRQ]

Against a running server (`make run`). Cold: a new browser profile (empty cache) per
run. Warm: the same page reloaded in that browser (cached vendor files, revalidated
page and app files). Time to first map is from navigation start to the first MapLibre
'idle' with data features rendered (`window.dtmFirstMap`, set by
app/static/js/views/map.js). Bytes are Chromium's own count from its performance log
(DevTools Network events: bytes on the wire, headers and the map worker's tile requests
included; cache hits cost nothing), beside the 1 MB budget (issue 23: fonts and RTL plugin in).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.chromium import make_driver

BUDGET = 1_000_000
MEASURE = "return [window.dtmFirstMap, location.host]"


def network(driver) -> dict:
    """Requests, hosts and bytes on the wire (headers included; workers' tile requests
    too) from Chromium's performance log since it was last read."""
    urls, wire, body = [], 0, 0
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls.append(params["request"]["url"])
        elif message["method"] == "Network.loadingFinished":
            wire += params.get("encodedDataLength", 0)
        elif message["method"] == "Network.dataReceived":
            body += params.get("dataLength", 0)
    hosts = sorted({urlsplit(u).netloc for u in urls if u.startswith("http")})
    return {"requests": len(urls), "hosts": hosts, "transferred": wire, "decoded": body}


def load(driver, url: str, timeout: float = 60) -> dict:
    driver.get_log("performance")
    driver.get(url)
    deadline = time.monotonic() + timeout
    while not driver.execute_script("return window.dtmFirstMap"):
        if time.monotonic() > deadline:
            raise RuntimeError("the map did not render")
        time.sleep(0.05)
    time.sleep(1)  # let late tiles finish so that the byte count is complete
    first_map, _ = driver.execute_script(MEASURE)
    return {"first_map_ms": first_map, **network(driver)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--repeats", type=int, default=3)
    # lang=ar: the RTL text plugin and the Arabic glyph ranges load too
    parser.add_argument("--query", default="lang=en", help="the page's query string")
    args = parser.parse_args()
    page = args.url.rstrip("/") + "/?" + args.query
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
        raw = statistics.median(r["decoded"] for r in runs)
        print(
            f"{label:5} first map {ms:7.0f} ms   transferred {tx / 1e6:6.3f} MB"
            f" (uncompressed {raw / 1e6:5.2f} MB)   requests {runs[0]['requests']}"
            f"   hosts {runs[0]['hosts']}"
        )

    print(f"{page}  medians of {args.repeats} runs, headless Chromium 1280x800 (SwiftShader)")
    row("cold", cold)
    row("warm", warm)
    first = statistics.median(r["transferred"] for r in cold)
    verdict = "within" if first <= BUDGET else "OVER"
    print(f"first load {first / 1e6:.2f} MB transferred; budget {BUDGET / 1e6:.1f} MB: {verdict}")


if __name__ == "__main__":
    main()
