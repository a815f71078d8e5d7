"""Server CPU per request: steadier than requests/s on a shared or noisy machine.

Usage: .venv/bin/python bench/server_cpu.py PATH [--seconds 6] [--runs 2] [--app-dir DIR]

Serves the app with one uvicorn worker (from DIR, default this checkout: point it at a
`git worktree` of another commit to compare two versions in alternation), drives PATH
with wrk (2 threads, 16 connections, gzip accepted) where every request is a new URL, as
bench/read_path.py makes them (`limit=` paths get a limit and offset, `{x}/{y}` paths a
new tile), and prints requests/s and the server process's CPU time per request, read
from /proc around each run.

    .venv/bin/python bench/server_cpu.py "/ogc/tiles/mantikas/11/{x}/{y}.pbf"
    .venv/bin/python bench/server_cpu.py "/api/v1/stats?level=2&round=R54&limit="

With `--cached`, PATH itself is asked every time: a cached answer, the response cache's
own cost per request.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.common import ensure_wrk, free_port, wait_until_up  # noqa: E402
from bench.read_path import LUA  # noqa: E402


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _script(path: str, start: int) -> str:
    """wrk's Lua for `path`, its request counter starting at `start` (so that no run asks
    for a URL an earlier one cached)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write((LUA % path).replace("local counter = 0", f"local counter = {start}"))
    return script.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--app-dir", default=ROOT)
    parser.add_argument("--cached", action="store_true", help="ask PATH itself every time")
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "ACCESS_LOG": "false", "PYTHONPATH": args.app_dir}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port",
         str(port), "--log-level", "warning", "--no-access-log"],
        cwd=args.app_dir,
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/healthz")
        wrk = [ensure_wrk(), "-t2", "-c16", "-H", "Accept-Encoding: gzip"]

        def target(start: int) -> list[str]:
            if args.cached:
                return [base + args.path]
            return ["-s", _script(args.path, start), base]

        subprocess.run([*wrk, "-d2s", *target(0)], capture_output=True)
        for run in range(args.runs):
            before = _cpu_seconds(server.pid)
            asked = target(100_000 * (run + 1))
            out = subprocess.run(
                [*wrk, f"-d{args.seconds}s", *asked], capture_output=True, text=True
            ).stdout
            used = _cpu_seconds(server.pid) - before
            if not args.cached:
                os.unlink(asked[1])
            count = int(re.search(r"(\d+) requests in", out).group(1))
            rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            print(f"{args.path[:60]:<60} {rate:7.0f} req/s  server CPU {1000 * used / count:.3f}"
                  " ms/request", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
