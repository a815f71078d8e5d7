"""Cached answers through nginx and direct, beside nginx serving the same bytes as files.

Usage: .venv/bin/python bench/proxy.py [--seconds 8] [--connections 16] [--workers 2]

In one run, on one machine: a scratch database with the default data; the service with
`--workers` workers answering directly (DATA_VERSION_TTL 1, as without a proxy); the
same service behind deploy/nginx/dtm-geo.conf as committed (DATA_VERSION_TTL 0, as the
README asks behind it), nginx with as many workers; and nginx serving each answer's
very gzipped bytes as a static file. wrk drives each with `--connections` clients,
gzip accepted, the three interleaved for `--rounds` rounds (the machine is shared: each
column is the median of its rounds, each ratio the median of the rounds' ratios). The
ratios are requests/s over the static rate (goal for the proxy: 0.8).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import drive, scratch_database, serve
from tests.nginx import free_port, nginx, site

URLS = [
    ("JSON 22 mantikas R54", "/api/v1/stats?level=1&round=R54"),
    ("GeoJSON 100 baladiyas R54", "/api/v1/stats?level=2&round=R54&format=geojson"),
    ("JSON 663 muhallas R39", "/api/v1/stats?level=3&round=R39&limit=2000"),
    ("tile mantikas 6/35/26", "/ogc/tiles/mantikas/6/35/26.pbf"),
]


def fetch(url: str) -> tuple[bytes, str, str | None]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return (
            response.read(),
            response.headers.get("Content-Type", "application/octet-stream"),
            response.headers.get("Content-Encoding"),
        )


def static_server(folder: Path, port: int, answers: list[tuple[bytes, str, str | None]]) -> str:
    """A server block answering /0, /1, ... with the saved bytes and their headers."""
    locations = []
    for n, (body, media, encoding) in enumerate(answers):
        (folder / str(n)).write_bytes(body)
        header = f"add_header Content-Encoding {encoding};" if encoding else ""
        locations.append(
            f"location = /{n} {{ default_type {media!r}; {header} try_files /{n} =404; }}"
        )
    return f"""
    server {{
        listen 127.0.0.1:{port};
        root {folder};
        sendfile on;
        tcp_nopush on;
        keepalive_requests 1000000;
        {" ".join(locations)}
    }}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", type=int, help="only the answer of this index in URLS")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with (
        scratch_database() as database,
        serve(database, args.workers, {"DATA_VERSION_TTL": "1"}) as direct,
        serve(database, args.workers, {"DATA_VERSION_TTL": "0"}) as behind,
        tempfile.TemporaryDirectory() as scratch,
    ):
        folder = Path(scratch)
        (folder / "cache").mkdir()
        (folder / "static").mkdir()
        answers = [fetch(direct + path) for _, path in URLS]
        proxy_port, static_port = free_port(), free_port()
        http = site(behind.removeprefix("http://"), proxy_port, folder / "cache")
        http = http.replace("server {", "server {\n    keepalive_requests 1000000;", 1)
        http += static_server(folder / "static", static_port, answers)
        with nginx(http, workers=args.workers):
            proxy = f"http://127.0.0.1:{proxy_port}"
            static = f"http://127.0.0.1:{static_port}"
            print(
                f"{args.connections} connections, {args.workers} workers each, "
                f"{args.seconds} s per run, gzip accepted"
            )
            print(
                f"{'answer':28} {'bytes':>7} {'static':>9} {'proxy':>9} {'direct':>9} "
                f"{'proxy/static':>13} {'direct/static':>14} {'proxy hit p99':>14}"
            )
            for n, (label, path) in enumerate(URLS):
                if args.only is not None and n != args.only:
                    continue
                fetch(proxy + path)  # stored by nginx
                runs: dict[str, list] = {"static": [], "proxy": [], "direct": []}
                for _ in range(args.rounds):
                    for name, url in (
                        ("static", f"{static}/{n}"),
                        ("proxy", proxy + path),
                        ("direct", direct + path),
                    ):
                        runs[name].append(drive(url, args.connections, args.seconds))
                rps = {k: statistics.median(r.rps for r in v) for k, v in runs.items()}
                ratio = {
                    k: statistics.median(
                        a.rps / b.rps for a, b in zip(runs[k], runs["static"], strict=True)
                    )
                    for k in ("proxy", "direct")
                }
                p99 = statistics.median(r.p99_ms for r in runs["proxy"])
                print(
                    f"{label:28} {len(answers[n][0]):>7} {rps['static']:>9.0f} "
                    f"{rps['proxy']:>9.0f} {rps['direct']:>9.0f} {ratio['proxy']:>13.2f} "
                    f"{ratio['direct']:>14.2f} {p99:>11.2f} ms"
                )
                print(
                    "  proxy/static by round: "
                    + ", ".join(
                        f"{a.rps / b.rps:.2f}"
                        for a, b in zip(runs["proxy"], runs["static"], strict=True)
                    )
                )
                errors = {k: sum(r.errors for r in v) for k, v in runs.items()}
                if any(errors.values()):
                    print(f"  non-2xx/3xx answers: {errors}")


if __name__ == "__main__":
    main()
