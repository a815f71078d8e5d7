"""Memory and load over time: RSS under sustained distinct-URL gzip requests, and 64
connections on cached and distinct URLs with all workers.

Usage: .venv/bin/python bench/soak.py [--minutes 10] [--baseline-minutes M] [--cache-mb 64]
                                      [--seconds 60]

1. One worker, wrk asking for the mantika layer with a new `limit` each request (a new
   280 KB answer each time, gzip accepted) for --minutes, RSS sampled as it goes: first
   with no response cache (the process's baseline under this load: its libraries, the
   values it remembers per data version, the answers in flight), then with
   RESPONSE_CACHE_BYTES = --cache-mb. The bound holds if the second plateau lies within
   the cache size of the first. With no cache nothing accumulates, so its run may be
   shorter (--baseline-minutes, default --minutes).
2. --workers (default: cores) workers; wrk at 64 connections for --seconds on a cached URL,
   then on distinct URLs (stats of 100 baladiyas, a new `limit` each request).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.common import drive, ensure_wrk, free_port, wait_until_up, warm  # noqa: E402
from bench.read_path import LUA, drive_distinct  # noqa: E402


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn's worker), in MB."""
    total = 0
    pids = [pid, *(int(p) for p in _children(pid))]
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def _children(pid: int) -> list[str]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return found.read_text().split() if found.exists() else []


def _serve(url: str, workers: int, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "ACCESS_LOG": "false", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/healthz")
    return process, base


def _rss_under_load(url: str, cache_mb: int, minutes: float) -> float:
    """RSS of one worker with a cache of `cache_mb` under distinct mantika pages (gzip);
    prints the samples and returns the mean of the second half (the plateau)."""
    process, base = _serve(url, 1, {"RESPONSE_CACHE_BYTES": str(cache_mb * 1024 * 1024)})
    path = "/ogc/collections/mantikas/items?limit="
    samples = []
    try:
        warm(base + path + "1")
        print(f"RSS, one worker, cache {cache_mb} MB, distinct mantika pages with gzip")
        print(f"{'minute':>6} {'RSS MB':>8}")
        print(f"{0:>6.1f} {_rss_mb(process.pid):>8.0f}", flush=True)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(LUA % path)
        wrk = subprocess.Popen(
            [ensure_wrk(), "-t2", "-c8", f"-d{int(minutes * 60)}s", "-H",
             "Accept-Encoding: gzip", "-s", script.name, base],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        started = time.monotonic()
        while wrk.poll() is None:
            time.sleep(min(30, minutes * 60 / 4))
            samples.append(_rss_mb(process.pid))
            print(f"{(time.monotonic() - started) / 60:>6.1f} {samples[-1]:>8.0f}", flush=True)
        total = next((x for x in wrk.stdout.read().splitlines() if "requests in" in x), "")
        os.unlink(script.name)
        print(f"wrk: {total.strip()}", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=10)
    late = samples[len(samples) // 2 :] or samples
    return sum(late) / len(late)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--baseline-minutes", type=float, default=None)
    parser.add_argument("--cache-mb", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from app.cli import database_up
    from app.loaders.default_data import load_default_data
    from app.settings import get_settings

    settings = get_settings()
    url = database_up(settings)
    load_default_data(url, settings.data_dir)

    plateaus = {}
    baseline_minutes = args.baseline_minutes or args.minutes
    for cache_mb, minutes in ((0, baseline_minutes), (args.cache_mb, args.minutes)):
        plateaus[cache_mb] = _rss_under_load(url, cache_mb, minutes)
    grown = plateaus[args.cache_mb] - plateaus[0]
    print(
        f"plateau with no cache {plateaus[0]:.0f} MB, with {args.cache_mb} MB "
        f"{plateaus[args.cache_mb]:.0f} MB: the cache holds {grown:.0f} MB of its "
        f"{args.cache_mb} MB bound\n"
    )

    process, base = _serve(url, args.workers, {})
    try:
        cached = "/api/v1/stats?level=2&round=R54&format=geojson"
        warm(base + cached)
        print(f"\n{args.workers} workers, 64 connections, {args.seconds} s")
        r = drive(base + cached, 64, args.seconds)
        print(f"cached URL:    {r.rps:>8.0f} req/s  p50 {r.p50_ms:.2f} ms  p99 {r.p99_ms:.2f} ms"
              f"  errors {r.errors}")  # fmt: skip
        d = drive_distinct(base, "/api/v1/stats?level=2&round=R54&limit=", 64, args.seconds)
        print(f"distinct URLs: {d['rps']:>8.0f} req/s  p50 {d['p50']:.2f} ms  p99 {d['p99']:.2f}"
              f" ms  errors {d['errors']}")  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
