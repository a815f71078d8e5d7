"""How long a new worker takes to serve: its imports, a cold start, a replaced worker.

Usage: .venv/bin/python bench/worker_start.py [--compare OTHER_CHECKOUT] [--runs 3]

For this checkout (and, side by side in the same run, another one, e.g. an export of
main), with the configured database (nothing is read from it to answer /healthz):
- import: `import app.main; create_app()` in a fresh interpreter (what a worker does
  before it can accept), and which heavy libraries that loaded;
- cold start: `dtm-geo serve --workers 1` spawned, until the first 200 on /healthz;
- replaced: under `--workers 2` and a light load (4 clients asking a cached answer and
  /healthz), one worker is killed with SIGKILL; the time until uvicorn logs the
  replacement's "Application startup complete" (it accepts from then on).
Medians of `--runs` runs, each in seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("geopandas", "pandas", "esda", "libpysal", "scipy", "openpyxl", "pyogrio", "shapely")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment() -> dict:
    sys.path.insert(0, str(ROOT))
    from app.settings import Settings

    settings = Settings()
    return {**os.environ, "DATABASE_URL": settings.effective_database_url, "ACCESS_LOG": "0"}


def import_time(tree: Path, env: dict) -> tuple[float, list[str]]:
    code = (
        "import sys, time; t = time.perf_counter(); from app.main import create_app; "
        "create_app(); print(time.perf_counter() - t); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    return float(out[0]), [m for m in out[1].split(",") if m]


def serve(tree: Path, env: dict, port: int, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def cold_start(tree: Path, env: dict) -> float:
    port = free_port()
    started = time.perf_counter()
    process = serve(tree, env, port, 1)
    try:
        while not healthy(port):
            if process.poll() is not None or time.perf_counter() - started > 120:
                raise RuntimeError(process.stderr.read()[-2000:])
            time.sleep(0.01)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)


def replaced(tree: Path, env: dict) -> float:
    port = free_port()
    process = serve(tree, env, port, 2)
    ready: list[float] = []
    lines = threading.Thread(target=_read_log, args=(process, ready), daemon=True)
    lines.start()
    stop = threading.Event()
    load = [threading.Thread(target=_load, args=(port, stop), daemon=True) for _ in range(4)]
    try:
        deadline = time.monotonic() + 120
        while len(ready) < 2:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start two workers")
            time.sleep(0.05)
        for thread in load:
            thread.start()
        time.sleep(2)
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(process.pid)], capture_output=True, text=True
        ).stdout.split()
        workers = [int(p) for p in children if _is_worker(int(p))]
        killed_at = time.monotonic()
        os.kill(workers[0], signal.SIGKILL)
        while len(ready) < 3:
            if time.monotonic() - killed_at > 120:
                raise RuntimeError("no replacement worker within 120 s")
            time.sleep(0.01)
        return ready[2] - killed_at
    finally:
        stop.set()
        process.terminate()
        process.wait(timeout=30)


def _is_worker(pid: int) -> bool:
    try:
        return "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


def _read_log(process: subprocess.Popen, ready: list[float]) -> None:
    for line in process.stderr:
        if "Application startup complete" in line:
            ready.append(time.monotonic())


def _load(port: int, stop: threading.Event) -> None:
    while not stop.is_set():
        for path in ("/api/v1/rounds", "/healthz"):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="another checkout, measured alongside")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = environment()
    trees = [("this checkout", ROOT)] + ([("compared", args.compare)] if args.compare else [])
    results = {}
    for _ in range(args.runs):  # interleaved, so both see the same machine
        for label, tree in trees:
            seconds, heavy = import_time(tree, env)
            row = results.setdefault(label, {"import": [], "cold": [], "replaced": []})
            row["import"].append(seconds)
            row["heavy"] = heavy
            row["cold"].append(cold_start(tree, env))
            row["replaced"].append(replaced(tree, env))
    print(
        f"{'':16} {'import+app':>11} {'cold start':>11} {'replaced':>10}  heavy libraries at start"
    )
    for label, row in results.items():
        median = {k: statistics.median(v) for k, v in row.items() if k != "heavy"}
        print(
            f"{label:16} {median['import']:>10.2f}s {median['cold']:>10.2f}s "
            f"{median['replaced']:>9.2f}s  {', '.join(row['heavy']) or 'none'}"
        )
        print(f"{'':16} runs: " + "; ".join(
            f"{k} " + ", ".join(f"{v:.2f}" for v in row[k]) for k in ("import", "cold", "replaced")
        ))  # fmt: skip


if __name__ == "__main__":
    main()
