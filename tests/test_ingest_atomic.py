"""A process killed in the middle of a large import leaves no partial round.

The test holds a lock on the observations table so that a real `dtm-geo import` process
gets as far as writing (staged, validated, audit row inserted) and then waits; the test
kills it with SIGKILL there, releases the lock, and finds nothing of the import stored.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from app.ingest.specs import DISPLACEMENT_REASONS

REASONS = ("", *DISPLACEMENT_REASONS)

pytestmark = pytest.mark.usefixtures("scratch_rounds")


def _big_csv(path, pcodes) -> int:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["pcode", "population_type", "reason", "individuals", "households"])
        count = 0
        for pcode in pcodes:
            for population_type in ("idp", "returnee", "migrant"):
                for reason in REASONS:
                    writer.writerow([pcode, population_type, reason, 100 + count, 20])
                    count += 1
    return count


def test_killed_import_leaves_nothing(db_url, first_load, tmp_path, engine):
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO rounds (operation, code, kind, title, source)
                             VALUES ('LBY', 'T-KILL', 'mobility_tracking', 'kill test', 'test')""")
        )
        pcodes = conn.execute(
            text(
                "SELECT pcode FROM admin_areas WHERE level < 3 AND ancestry[1] = 'LBY' "
                "ORDER BY pcode"
            )
        ).scalars()
        rows = _big_csv(tmp_path / "big.csv", list(pcodes))
    assert rows == 123 * 3 * len(REASONS)

    blocker = create_engine(db_url).connect()
    blocker.execute(text("LOCK TABLE observations IN EXCLUSIVE MODE"))  # reads pass, writes wait
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "import", str(tmp_path / "big.csv"), "--round", "T-KILL"],
        env={**os.environ, "DATABASE_URL": db_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until the import is blocked writing its rows
            with engine.connect() as conn:
                waiting = conn.execute(
                    text("""
                    SELECT count(*) FROM pg_stat_activity
                    WHERE wait_event_type = 'Lock' AND query ~* '(INSERT INTO|UPDATE) observations'
                """)
                ).scalar()
                audit = conn.execute(
                    text("SELECT count(*) FROM submissions WHERE round_code = 'T-KILL'")
                ).scalar()
            if waiting:
                break
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the import never reached the write"
            time.sleep(0.05)
        assert audit == 0  # its audit row exists only inside its open transaction
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()
    deadline = time.monotonic() + 30
    with engine.connect() as conn:
        while conn.execute(
            text("""SELECT count(*) FROM pg_stat_activity
                                   WHERE query ~* 'observations' AND state <> 'idle'
                                   AND pid <> pg_backend_pid()""")
        ).scalar():
            assert time.monotonic() < deadline
            time.sleep(0.05)
            conn.rollback()
        stored = conn.execute(
            text("""SELECT count(*) FROM observations o JOIN rounds r
                                      ON r.id = o.round_id WHERE r.code = 'T-KILL'""")
        ).scalar()
        audited = conn.execute(
            text("SELECT count(*) FROM submissions WHERE round_code = 'T-KILL'")
        ).scalar()
        revision = conn.execute(text("SELECT revision FROM rounds WHERE code = 'T-KILL'")).scalar()
    assert (stored, audited, revision) == (0, 0, 1)


def test_the_same_import_completes_when_not_killed(db_url, first_load, tmp_path, engine):
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO rounds (operation, code, kind, title, source)
                             VALUES ('LBY', 'T-WHOLE', 'mobility_tracking', 'whole', 'test')""")
        )
        pcodes = list(
            conn.execute(
                text("SELECT pcode FROM admin_areas WHERE ancestry[1] = 'LBY' ORDER BY pcode")
            ).scalars()
        )
    rows = _big_csv(tmp_path / "big.csv", pcodes)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "import",
            str(tmp_path / "big.csv"),
            "--round",
            "T-WHOLE",
        ],
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert f"{rows} rows" in result.stdout and f"{rows} inserted" in result.stdout
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("""SELECT count(*) FROM observations o JOIN rounds r
                                    ON r.id = o.round_id WHERE r.code = 'T-WHOLE'""")
            ).scalar()
            == rows
        )
