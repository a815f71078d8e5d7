"""Peak memory of a worker answering the uploads that used to take one down.

Usage: .venv/bin/python bench/upload_memory.py [--rows 1000000] [--problems 2300000]

A scratch database with the default data; for each upload a fresh `dtm-geo serve
--workers 1` (so each peak is its own), the upload posted to
/api/v1/rounds/{round}/files, then the worker's peak resident set (VmHWM) read from /proc:
- the 2.3 MB zip bomb of tests/zipbomb.py (a sheet inflating to ~660 MB);
- a migrant baseline workbook whose Nationalities sheet has `--rows` rows (the layout of
  bench/import_memory.py), imported for real into R54;
- a long CSV of `--problems` rows that all fail (unknown pcodes): the 422 lists 1,000.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import scratch_database, serve
from bench.import_memory import write_workbook
from tests.zipbomb import bomb

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def worker_pid(base: str) -> int:
    port = base.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-ltnp", f"sport = :{port}"], capture_output=True, text=True)
    master = int(out.stdout.split("pid=")[1].split(",")[0])
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout.split()
    workers = [int(p) for p in children]
    return workers[0] if workers else master


def peak_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of `pid`, MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def post(url: str, body: bytes, kind: str, key: str) -> tuple[int, int, float]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": kind, "X-API-Key": key}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=1800) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read()
    return status, len(answer), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--problems", type=int, default=2_300_000)
    parser.add_argument("--cases", default="bomb,workbook,csv", help="which of them")
    args = parser.parse_args()

    from sqlalchemy import text

    from app import db
    from app.auth import create_key

    with scratch_database() as url, tempfile.TemporaryDirectory() as scratch:
        with db.get_engine(url).begin() as conn:
            baladiyas = list(
                conn.execute(
                    text("SELECT pcode FROM admin_areas WHERE level = 2 ORDER BY pcode")
                ).scalars()
            )
            conn.execute(
                text(
                    "INSERT INTO rounds (code, kind, title, source) "
                    "VALUES ('R-MEM', 'mobility_tracking', 'memory bench', 'bench')"
                )
            )
        from sqlalchemy.orm import Session

        with Session(db.get_engine(url)) as session:
            key = create_key(session, "bench-memory", ["admin"])
            session.commit()
        workbook = Path(scratch) / "rows.xlsx"
        write_workbook(workbook, args.rows, baladiyas)
        lines = ["pcode,population_type,individuals"]
        lines += [f"LY9{n:07d},idp,1" for n in range(args.problems)]
        csv_body = ("\r\n".join(lines) + "\r\n").encode()
        cases = [
            ("bomb", "zip bomb (2.3 MB, sheet ~660 MB)", bomb(2_300_000), XLSX, "R-MEM"),
            ("workbook", f"workbook, {args.rows:,} rows ({workbook.stat().st_size / 1e6:.1f} MB)",
             workbook.read_bytes(), XLSX, "R54"),
            ("csv", f"CSV, {args.problems:,} bad rows ({len(csv_body) / 1e6:.1f} MB)", csv_body,
             "text/csv", "R-MEM"),
        ]  # fmt: skip
        cases = [c for c in cases if c[0] in args.cases.split(",")]
        print(f"{'upload':44} {'status':>6} {'answer':>9} {'seconds':>8} {'idle MB':>8} "
              f"{'peak MB':>8}")  # fmt: skip
        for _, label, body, kind, code in cases:
            with serve(url, 1, {"MAX_UPLOAD_BYTES": str(200 * 1024 * 1024)}) as base:
                pid = worker_pid(base)
                urllib.request.urlopen(base + "/api/v1/rounds", timeout=30).read()
                idle, _ = peak_mb(pid)
                status, size, seconds = post(
                    f"{base}/api/v1/rounds/{code}/files?source=bench", body, kind, key
                )
                _, peak = peak_mb(pid)
                print(
                    f"{label:44} {status:>6} {size:>9,} {seconds:>8.1f} {idle:>8.0f} {peak:>8.0f}"
                )


if __name__ == "__main__":
    main()
