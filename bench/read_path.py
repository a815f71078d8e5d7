"""First answers: every request a new URL, DTM Geo beside tipg on the same PostGIS.

Usage: .venv/bin/python bench/read_path.py [--seconds 8] [--connections 16] [--workers N]

Each request varies `limit` (items, statistics) or the tile column (tiles), so no answer
is ever served from a response cache: this measures the per-request work. Tiles walk an
operation's tiles at one zoom (Libya's mantikas at z11, Iraq's districts and sub-districts
at z10); the one z6 tile holding Baghdad is asked again and again with a varying `limit`,
which DTM Geo's tiles ignore and tipg's take as the most features a tile holds (every
value above the tile's count). The "new filter"
case varies `round_to` instead (every value keeps all of Round 54), so no two requests share
a filter either. tipg
(developmentseed's OGC server, installed in `.venv-bench`, see bench/ogc_vs_tipg.py) serves
views of the same tables. One uvicorn worker each; then DTM Geo again with `--workers`
(default: the machine's cores). wrk: 2 threads, gzip accepted.
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.common import beside_tipg, drive, serve, warm  # noqa: E402

# tiles walk (z, first x, columns, first y, rows), then the same extent at z + 1, z + 2...
LIBYA_Z11 = (11, 1078, 90, 812, 100)

# (label, DTM Geo path, tipg path or None, how a request varies: "limit" or a tile walk)
CASES = [
    (
        "OGC items, 22 mantika polygons",
        "/ogc/collections/mantikas/items?limit=",
        "/collections/tipg_bench.mantikas/items?limit=",
        "limit",
    ),
    (
        "OGC items, 100 baladiya points",
        "/ogc/collections/baladiyas/items?limit=",
        "/collections/tipg_bench.baladiyas/items?limit=",
        "limit",
    ),
    (
        "tiles, mantikas z11, new tiles",
        "/ogc/tiles/mantikas/11/{x}/{y}.pbf",
        "/collections/tipg_bench.mantikas/tiles/WebMercatorQuad/11/{x}/{y}",
        LIBYA_Z11,
    ),
    (
        "OGC items, 101 irq districts",
        "/ogc/collections/irq-districts/items?limit=",
        "/collections/tipg_bench.irq_districts/items?limit=",
        "limit",
    ),
    (
        "OGC items, 294 irq sub-districts",
        "/ogc/collections/irq-subdistricts/items?limit=",
        "/collections/tipg_bench.irq_subdistricts/items?limit=",
        "limit",
    ),
    # the tile holding Baghdad (lon 44.4, lat 33.3) at z6, `limit` varied: the same
    # polygons cut again each time (DTM Geo's tiles ignore `limit`, tipg's take it as the
    # most features a tile holds, always above the count here)
    (
        "tile irq-districts z6 (Baghdad)",
        "/ogc/tiles/irq-districts/6/39/25.pbf?limit=",
        "/collections/tipg_bench.irq_districts/tiles/WebMercatorQuad/6/39/25?limit=",
        "limit",
    ),
    # new tiles: Iraq's z10 tiles (x 622-651, y 397-425), then z11's
    (
        "tiles, irq-districts z10, new tiles",
        "/ogc/tiles/irq-districts/10/{x}/{y}.pbf",
        "/collections/tipg_bench.irq_districts/tiles/WebMercatorQuad/10/{x}/{y}",
        (10, 622, 30, 397, 29),
    ),
    (
        "tiles, irq-subdistricts z10, new",
        "/ogc/tiles/irq-subdistricts/10/{x}/{y}.pbf",
        "/collections/tipg_bench.irq_subdistricts/tiles/WebMercatorQuad/10/{x}/{y}",
        (10, 622, 30, 397, 29),
    ),
    (
        "stats GeoJSON, 100 baladiyas R54",
        "/api/v1/stats?level=2&round=R54&format=geojson&limit=",
        None,
        "limit",
    ),
    ("stats JSON, 22 mantikas R54", "/api/v1/stats?level=1&round=R54&limit=", None, "limit"),
    ("stats JSON, 100 baladiyas R54", "/api/v1/stats?level=2&round=R54&limit=", None, "limit"),
    (
        "stats JSON, 100 baladiyas, new filter",
        "/api/v1/stats?level=2&round=R54&limit=1000&round_to=",
        None,
        "limit",
    ),
    ("stats JSON, 663 muhallas R39", "/api/v1/stats?level=3&round=R39&limit=", None, "limit"),
    (
        "stats GeoJSON, 663 muhallas R39",
        "/api/v1/stats?level=3&round=R39&format=geojson&limit=",
        None,
        "limit",
    ),
    (
        "OGC items, 663 muhalla points R39",
        "/ogc/collections/stats-admin3/items?limit=",
        None,
        "limit",
    ),
]

# A new URL per request, never repeated across wrk's threads: request n of thread t asks
# for n * 2 + t. Pages vary `limit` from 1,000 to 9,999 (every page still holds every
# feature), then `offset`; tiles walk their case's tiles (Libya: the z11 tiles over its
# extent, x 1078-1167, y 812-911, most holding land), then the same extent at each next
# zoom in turn (never a tile twice: a server fast enough to walk past the next zoom's
# tiles was answering repeated tiles from its cache).
LUA = """
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads - 1)
end
request = function()
  counter = counter + 1
  local n = counter * 2 + id
  local path = "%s"
  if path:find("{x}") then
    local z, x0, nx, y0, ny = %d, %d, %d, %d, %d
    local zoom = z
    while n >= nx * ny do
      n = n - nx * ny
      zoom, x0, nx, y0, ny = zoom + 1, 2 * x0, 2 * nx, 2 * y0, 2 * ny
    end
    local x, y = x0 + (n %% nx), y0 + math.floor(n / nx)
    path = path:gsub("/" .. z .. "/", "/" .. zoom .. "/")
    path = path:gsub("{x}", tostring(x)):gsub("{y}", tostring(y))
  else
    path = path .. tostring(1000 + (n %% 9000)) .. "&offset=" .. tostring(math.floor(n / 9000))
  end
  return wrk.format("GET", path)
end
"""


def drive_distinct(base: str, path: str, connections: int, seconds: int, walk=LIBYA_Z11) -> dict:
    lua = LUA % (path, *(walk if isinstance(walk, tuple) else LIBYA_Z11))
    r = drive(base, connections, seconds, lua=lua)
    return {"rps": r.rps, "p50": r.p50_ms, "p99": r.p99_ms, "errors": r.errors}


def _line(label: str, server: str, r: dict, note: str = "") -> None:
    errors = f" ({r['errors']} errors)" if r["errors"] else ""
    print(
        f"{label:<34} {server:<14} {r['rps']:>8.0f} {r['p50']:>7.2f} {r['p99']:>8.2f}"
        f"{errors}{note}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="", help="run the cases whose label has this text")
    args = parser.parse_args()

    with beside_tipg() as (url, tipg_base):
        print(
            f"{'case (a new URL each request)':<34} {'server':<14} {'req/s':>8} {'p50 ms':>7} "
            f"{'p99 ms':>8}   c={args.connections}, {args.seconds} s"
        )
        with serve(url) as one, serve(url, workers=args.workers) as many:
            tipg_rates: dict[str, float] = {}
            for label, ours, theirs, walk in CASES:
                if args.only not in label:
                    continue
                _, x0, nx, y0, ny = walk if isinstance(walk, tuple) else LIBYA_Z11
                x, y = str(x0 + nx // 2), str(y0 + ny // 2)
                first = ours.replace("{x}", x).replace("{y}", y)
                for server in (one, many):  # both warm: a cold worker answers its first late
                    warm(server + (first if "{x}" in ours else first + "999"))
                if theirs:
                    sample = theirs.replace("{x}", x).replace("{y}", y)
                    warm(tipg_base + (sample if "{x}" in theirs else sample + "999"))
                    r = drive_distinct(tipg_base, theirs, args.connections, args.seconds, walk)
                    tipg_rates[label] = r["rps"]
                    _line(label, "tipg, 1 worker", r)
                r = drive_distinct(one, ours, args.connections, args.seconds, walk)
                reference = tipg_rates.get(label) or tipg_rates.get(
                    "OGC items, 100 baladiya points"
                )
                ratio = f"  {r['rps'] / reference:.1f}x tipg" if reference else ""
                if not theirs and reference:
                    ratio += " (baladiya items)"
                _line(label, "DTM Geo, 1", r, ratio)
                r = drive_distinct(many, ours, args.connections, args.seconds, walk)
                ratio = f"  {r['rps'] / reference:.1f}x tipg" if reference else ""
                _line(label, f"DTM Geo, {args.workers}", r, ratio)


if __name__ == "__main__":
    main()
