"""Shared benchmark plumbing: a real server on loopback and wrk to drive it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
        return shutil.which("wrk") or sys.exit("wrk did not install")
    sys.exit("the benchmark needs wrk: sudo apt-get install wrk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def scratch_database():
    """A database of its own beside the one `make run` uses (its name plus `_bench`),
    migrated and holding the default data; dropped when the block ends. Yields its URL."""
    from sqlalchemy.engine import make_url

    from app import db
    from app.cli import database_up
    from app.loaders.default_data import load_default_data
    from app.settings import get_settings

    settings = get_settings()
    server = make_url(database_up(settings, migrate=False))
    url = server.set(database=f"{server.database}_bench").render_as_string(hide_password=False)
    db.create_database(url, drop_first=True)
    try:
        db.migrate(url)
        load_default_data(url, settings.data_dir)
        yield url
    finally:
        db.drop_database(url)


def wait_until_up(url: str, seconds: float = 15) -> None:
    """Poll `url` until a starting server answers it; RuntimeError after `seconds`."""
    for _ in range(int(seconds * 10)):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no server answered {url} within {seconds:.0f} s")


@contextmanager
def serve(database_url: str, workers: int = 1, extra_env: dict | None = None):
    """Run `dtm-geo serve` on a free loopback port until the block ends."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ACCESS_LOG": "false",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/healthz")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * _UNITS[unit]


def drive(
    url: str, connections: int, seconds: int = 5, gzip: bool = True, lua: str | None = None
) -> Result:
    """wrk with `connections` concurrent clients on 2 threads; latency percentiles.
    `lua`: a wrk script choosing each request's path (a new URL per request, say)."""
    command = [
        ensure_wrk(),
        "-t",
        str(min(2, connections)),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
    ]
    if gzip:
        command += ["-H", "Accept-Encoding: gzip"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if lua is not None:
            script.write(lua)
            script.flush()
            command += ["-s", script.name]
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(rps, p50, p99, int(errors.group(1)) if errors else 0)


def warm(url: str) -> tuple[int, float]:
    """Fetch once (the render that fills the cache): (gzipped bytes, milliseconds)."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        size = len(response.read())
    return size, (time.perf_counter() - started) * 1000


def start_tipg(url: str) -> tuple[subprocess.Popen, str]:
    """tipg (installed in .venv-bench) on a free loopback port, serving schema tipg_bench."""
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
    wait_until_up(base + "/collections", seconds=30)
    return process, base


# tipg serves these views of the same tables (schema tipg_bench, dropped afterwards); each
# of one operation's areas (ancestry[1], its country), as DTM Geo's collections are
_COLUMNS = "SELECT pcode, name_en, name_ar, parent_pcode, region_pcode, "
VIEWS = {
    "mantikas": _COLUMNS + "geom::geometry(MultiPolygon, 4326) AS geom FROM public.admin_areas "
    "WHERE level = 1 AND ancestry[1] = 'LBY'",
    "baladiyas": _COLUMNS + "geom::geometry(Point, 4326) AS geom FROM public.admin_areas "
    "WHERE level = 2 AND ancestry[1] = 'LBY'",
    "irq_districts": _COLUMNS + "geom::geometry(MultiPolygon, 4326) AS geom "
    "FROM public.admin_areas WHERE level = 2 AND ancestry[1] = 'IRQ'",
    "irq_subdistricts": _COLUMNS + "geom::geometry(MultiPolygon, 4326) AS geom "
    "FROM public.admin_areas WHERE level = 3 AND ancestry[1] = 'IRQ'",
}


@contextmanager
def beside_tipg():
    """The database up with the default data, and tipg serving views of its tables:
    yields (database URL, tipg's base URL); stops tipg and drops its views afterwards."""
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
    tipg, base = start_tipg(url)
    try:
        yield url, base
    finally:
        tipg.terminate()
        tipg.wait(timeout=10)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS tipg_bench CASCADE"))
