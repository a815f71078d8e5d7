"""Peak memory of `dtm-geo import` on a large DTM Libya workbook.

Usage: .venv/bin/python bench/import_memory.py [--rows 1000000] [--keep FILE]

Writes a migrant baseline workbook (the R54 layout: its 'Baladiya Main ' sheet, and a
'Nationalities' sheet of `--rows` muhalla x nationality rows), then imports it with the CLI
into round R54 of a scratch database (`<name>_bench`: created, migrated, loaded, dropped),
as a child process whose peak resident set size is reported.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import scratch_database

NATIONALITIES = [f"Nationality {n:02d}" for n in range(40)]


def write_workbook(path: Path, rows: int, baladiyas: list[str]) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    main = book.create_sheet("Baladiya Main ")
    main.append(["DTM Libya, migrants baseline (synthetic)"])
    main.append(["Baladiya PCode", "AssessmentRound", "Migrants (IND)"])
    for n, pcode in enumerate(baladiyas):
        main.append([pcode, 54, 1000 + n])
    sheet = book.create_sheet("Nationalities")
    sheet.append(["Muhalla P Code", "Migrant Nationality", "Migrant Individuals"])
    for n in range(rows):
        pcode = baladiyas[n % len(baladiyas)]
        sheet.append([f"{pcode}{n % 97:02d}", NATIONALITIES[n % len(NATIONALITIES)], n % 50])
    book.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the workbook here and keep it")
    args = parser.parse_args()

    from sqlalchemy import text

    from app import db

    with scratch_database() as url:
        with db.get_engine(url).connect() as conn:
            baladiyas = list(
                conn.execute(
                    text("SELECT pcode FROM admin_areas WHERE level = 2 ORDER BY pcode")
                ).scalars()
            )
        with tempfile.TemporaryDirectory() as scratch:
            path = args.keep or Path(scratch) / "workbook.xlsx"
            if not path.exists():
                started = time.perf_counter()
                write_workbook(path, args.rows, baladiyas)
                print(
                    f"workbook: {args.rows:,} nationality rows, "
                    f"{path.stat().st_size / 1e6:.1f} MB, written in "
                    f"{time.perf_counter() - started:.0f} s"
                )
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "app.cli", "import", str(path), "--round", "R54"],
                env={**os.environ, "DATABASE_URL": url},
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(done.stdout.strip().splitlines()[-1] if done.returncode == 0 else done.stderr)
            print(
                f"dtm-geo import: exit {done.returncode}, {seconds:.1f} s, peak RSS {peak:.0f} MB"
            )


if __name__ == "__main__":
    main()
