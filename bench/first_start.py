"""Time to first start: a clean clone of this checkout, `make run`, until /readyz is 200.

The publishers' files are served by a loopback mirror holding only the manifest's files
(copied from --data-from, e.g. ../shared/data); the clone has no ../shared beside it and
its own DATA_DIR (its data/). The embedded cluster of the clone uses --db-port, which must
be free (stop your own cluster first, or give another port). Prints the seconds to
/readyz and the disk each part takes, then stops the server and its cluster.

Usage: .venv/bin/python bench/first_start.py --data-from ../shared/data --db-port 54342
"""

from __future__ import annotations

import argparse
import csv
import functools
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _du(path: Path) -> str:
    if not path.exists():
        return "-"
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return f"{total / 1e6:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-from", type=Path, required=True)
    parser.add_argument("--db-port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dtm-first-start-"))
    work.chmod(0o755)  # the embedded cluster runs as the postgres user, who must get in
    mirror = work / "mirror"
    with (ROOT / "data/boundaries/manifest.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            target = mirror / row["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(args.data_from / row["path"], target)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(mirror))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = _free_port()
    clone = work / "clone" / "dtm-geo"  # nothing beside it: no ../shared
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATA_DIR")},
        "LOCAL_DB_PORT": str(args.db_port),
        "DATA_MIRROR_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "PORT": str(port),
        "WORKERS": "1",
        "ACCESS_LOG": "false",
    }
    started = time.monotonic()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    log = (work / "make-run.log").open("w")
    process = subprocess.Popen(
        ["make", "run"], cwd=clone, env=env, stdout=log, stderr=log, start_new_session=True
    )
    ready = None
    try:
        while time.monotonic() - started < args.timeout and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                    if r.status == 200:
                        ready = time.monotonic() - started
                        break
            except OSError:
                pass
            time.sleep(1)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        subprocess.run(
            [str(clone / ".venv/bin/dtm-geo"), "db", "stop"], cwd=clone, env=env, check=False
        )
        server.shutdown()
    if ready is None:
        sys.exit(f"no /readyz 200 within {args.timeout:.0f} s; see {work / 'make-run.log'}")
    print(f"first start (clone to /readyz 200): {ready:.0f} s")
    for part in (".venv", ".pgdata", "data"):
        print(f"disk {part}: {_du(clone / part)}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
