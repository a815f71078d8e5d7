"""Iraq's reads: a district's time series and the district map of any round (DTM Geo only).

Usage: .venv/bin/python bench/iraq_reads.py [--seconds 5] [--connections 16] [--workers 1]

Brings the database up (DATABASE_URL or the embedded cluster), loads the default data
(Libya and Iraq), starts `dtm-geo serve` as the other scripts do (bench.common.serve, one
worker) and drives each case with wrk (2 threads, gzip accepted). tipg has no equivalent
of these answers, so there is nothing beside them. Cases:

- time series of one district (IQG01Q01, population type idp), the same URL: cached;
- time series, first answers: the district rotates over Iraq's districts (as listed by
  /api/v1/areas?operation=IRQ&level=2) and `round_to` varies above every round's number
  (every value keeps the whole series), so no URL is asked twice;
- the GeoJSON district map of a round (/api/v1/stats?operation=IRQ&level=2&round=...
  &format=geojson&population_type=idp), rotating over every Iraq round: each map fetched
  once before (the first pass, timed), then served from the response cache;
- the same maps, first answers: a varying `limit` (every value above the 101 districts)
  makes every URL new.

Goal: the district map of any round under 50 ms p99 with 16 clients.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.common import Result, drive, serve, warm  # noqa: E402

GOAL_MS = 50.0
SERIES = "/api/v1/stats/timeseries?operation=IRQ&population_type=idp&pcode="
MAP = "/api/v1/stats?operation=IRQ&level=2&format=geojson&population_type=idp&round="

# Request n of thread t (n * 2 + t, never repeated across wrk's two threads) asks for
# paths[n % #paths]; with a varied parameter, its value counts the passes over the paths
# from 1,000 up (and `offset` the passes beyond 9,000 of them, for `limit`).
LUA = """
local paths = {%(paths)s}
local param = "%(param)s"
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads - 1)
end
request = function()
  counter = counter + 1
  local n = counter * 2 + id
  local path = paths[(n %% #paths) + 1]
  if param ~= "" then
    local pass = math.floor(n / #paths)
    path = path .. "&" .. param .. "=" .. tostring(1000 + (pass %% 9000))
    if param == "limit" then
      path = path .. "&offset=" .. tostring(math.floor(pass / 9000))
    end
  end
  return wrk.format("GET", path)
end
"""


def drive_paths(base: str, paths: list[str], param: str, connections: int, seconds: int) -> Result:
    """wrk over `paths` in turn; `param` (if any) given a new value on every pass."""
    lua = LUA % {"paths": ", ".join(json.dumps(p) for p in paths), "param": param}
    return drive(base, connections, seconds, lua=lua)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)


def _line(label: str, r: Result) -> bool:
    met = r.p99_ms < GOAL_MS
    errors = f" ({r.errors} errors)" if r.errors else ""
    print(
        f"{label:<44} {r.rps:>8.0f} {r.p50_ms:>7.2f} {r.p99_ms:>8.2f} "
        f"{'yes' if met else 'no':>9}{errors}",
        flush=True,
    )
    return met and not r.errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=1, help="service workers (make run's: one per core)"
    )
    args = parser.parse_args()

    from app.cli import database_up
    from app.loaders.default_data import load_default_data
    from app.settings import get_settings

    settings = get_settings()
    url = database_up(settings)
    load_default_data(url, settings.data_dir)

    workers = args.workers  # 1: bench.common.serve's default, as the other scripts run it
    with serve(url, workers=workers) as base:
        pcodes = [
            a["pcode"] for a in _get(base + "/api/v1/areas?operation=IRQ&level=2&limit=200")["data"]
        ]
        codes = [r["code"] for r in _get(base + "/api/v1/rounds?operation=IRQ&limit=500")["data"]]
        series = _get(base + SERIES + "IQG01Q01")["data"]
        points = len(series[0]["points"]) if series else 0
        print(
            f"DTM Geo, {workers} worker(s); wrk 2 threads, "
            f"c={args.connections}, {args.seconds} s, gzip accepted"
        )
        print(
            f"Iraq: {len(pcodes)} districts listed, {len(codes)} rounds "
            f"({codes[0]} ... {codes[-1]}), IQG01Q01's idp series {points} points"
        )

        # the first pass over the round maps: each rendered once, into the cache
        first = [warm(base + MAP + code) for code in codes]
        times = [ms for _, ms in first]
        print(
            f"district maps, first pass (one client, {len(codes)} rounds): median "
            f"{statistics.median(times):.1f} ms, max {max(times):.1f} ms, "
            f"{statistics.median(size for size, _ in first) / 1024:.1f} KiB gzipped (median)"
        )
        print(f"{'case':<44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>8} {'p99<50ms':>9}")

        warm(base + SERIES + "IQG01Q01")
        _line(
            f"time series IQG01Q01, {points} rounds (cached)",
            drive(base + SERIES + "IQG01Q01", args.connections, args.seconds),
        )
        warm(base + SERIES + pcodes[0] + "&round_to=999")
        _line(
            f"time series, {len(pcodes)} districts, first answers",
            drive_paths(
                base,
                [SERIES + p for p in pcodes],
                "round_to",
                args.connections,
                args.seconds,
            ),
        )
        cached = _line(
            f"district map, {len(codes)} rounds in turn (cached)",
            drive_paths(base, [MAP + c for c in codes], "", args.connections, args.seconds),
        )
        fresh = _line(
            f"district map, {len(codes)} rounds, first answers",
            drive_paths(base, [MAP + c for c in codes], "limit", args.connections, args.seconds),
        )
        verdict = {True: "met", False: "not met"}
        print(
            f"goal: district map of any round under {GOAL_MS:.0f} ms p99 with "
            f"{args.connections} clients: {verdict[cached]} cached, {verdict[fresh]} "
            f"for first answers"
        )


if __name__ == "__main__":
    main()
