"""First answers: every request a new URL, DTM Geo beside tipg on the same PostGIS.

Usage: .venv/bin/python bench/read_path.py [--seconds 8] [--connections 16] [--workers N]

Each request varies `limit` (items, statistics) or the tile column (tiles), so no answer
is ever served from a response cache: this measures the per-request work. tipg
(developmentseed's OGC server, installed in `.venv-bench`, see bench/ogc_vs_tipg.py) serves
views of the same tables. One uvicorn worker each; then DTM Geo again with `--workers`
(default: the machine's cores). wrk: 2 threads, gzip accepted.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.common import _ms, ensure_wrk, free_port, serve, warm  # noqa: E402
from bench.ogc_vs_tipg import VIEWS  # noqa: E402

# (label, DTM Geo path, tipg path or None, how a request varies: "limit" or "tile")
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
        "tile",
    ),
    (
        "stats GeoJSON, 100 baladiyas R54",
        "/api/v1/stats?level=2&round=R54&format=geojson&limit=",
        None,
        "limit",
    ),
    ("stats JSON, 22 mantikas R54", "/api/v1/stats?level=1&round=R54&limit=", None, "limit"),
    ("stats JSON, 100 baladiyas R54", "/api/v1/stats?level=2&round=R54&limit=", None, "limit"),
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

# A new URL per request: limit counts up from 1,000 (every page still holds every
# feature); tiles walk z11 columns and rows over Libya (x 1090-1171, y 775-866).
LUA = """
local counter = 0
local thread_offset = 0
function setup(thread) thread:set("thread_offset", math.random(0, 1000000)) end
request = function()
  counter = counter + 1
  local n = thread_offset + counter
  local path = "%s"
  if path:find("{x}") then
    local x = 1090 + (n %% 82)
    local y = 775 + (math.floor(n / 82) %% 92)
    path = path:gsub("{x}", tostring(x)):gsub("{y}", tostring(y))
  else
    path = path .. tostring(1000 + n)
  end
  return wrk.format("GET", path)
end
"""


def drive_distinct(base: str, path: str, connections: int, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % path)
    command = [
        ensure_wrk(),
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        "Accept-Encoding: gzip",
        "-s",
        script.name,
        base,
    ]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def _start_tipg(url: str) -> tuple[subprocess.Popen, str]:
    from sqlalchemy.engine import make_url

    python = os.path.join(ROOT, ".venv-bench", "bin", "python")
    if not os.path.exists(python):
        sys.exit(
            "install tipg first: python3 -m venv .venv-bench && "
            ".venv-bench/bin/pip install tipg uvicorn"
        )
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    port = free_port()
    process = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            "tipg.main:app",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        env={**os.environ, "DATABASE_URL": plain, "TIPG_DB_SCHEMAS": '["tipg_bench"]'},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/collections", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return process, base


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
    args = parser.parse_args()

    from sqlalchemy import text

    from app.cli import database_up
    from app.db import get_engine
    from app.loaders.default_data import load_default_data
    from app.settings import get_settings

    settings = get_settings()
    url = database_up(settings)
    load_default_data(url, settings.data_dir)
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS tipg_bench CASCADE; CREATE SCHEMA tipg_bench"))
        for name, sql in VIEWS.items():
            conn.execute(text(f"CREATE VIEW tipg_bench.{name} AS {sql}"))
    tipg, tipg_base = _start_tipg(url)
    print(
        f"{'case (a new URL each request)':<34} {'server':<14} {'req/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>8}   c={args.connections}, {args.seconds} s"
    )
    try:
        with serve(url) as one, serve(url, workers=args.workers) as many:
            tipg_rates: dict[str, float] = {}
            for label, ours, theirs, _ in CASES:
                first = ours.replace("{x}", "1131").replace("{y}", "820")
                warm(one + (first if "{x}" in ours else first + "999"))
                if theirs:
                    sample = theirs.replace("{x}", "1131").replace("{y}", "820")
                    warm(tipg_base + (sample if "{x}" in theirs else sample + "999"))
                    r = drive_distinct(tipg_base, theirs, args.connections, args.seconds)
                    tipg_rates[label] = r["rps"]
                    _line(label, "tipg, 1 worker", r)
                r = drive_distinct(one, ours, args.connections, args.seconds)
                reference = tipg_rates.get(label) or tipg_rates.get(
                    "OGC items, 100 baladiya points"
                )
                ratio = f"  {r['rps'] / reference:.1f}x tipg" if reference else ""
                if not theirs and reference:
                    ratio += " (baladiya items)"
                _line(label, "DTM Geo, 1", r, ratio)
                r = drive_distinct(many, ours, args.connections, args.seconds)
                ratio = f"  {r['rps'] / reference:.1f}x tipg" if reference else ""
                _line(label, f"DTM Geo, {args.workers}", r, ratio)
    finally:
        tipg.terminate()
        tipg.wait(timeout=10)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS tipg_bench CASCADE"))


if __name__ == "__main__":
    main()
