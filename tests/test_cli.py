"""The `dtm-geo` command: real processes, one-line errors, progress on long work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app import db
from app.localdb import LocalCluster


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


def assert_one_line_error(result, fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_load_shows_progress_and_a_summary(db_url, first_load, data_dir):
    result = run_cli("load", "--data-dir", str(data_dir), DATABASE_URL=db_url)
    assert result.returncode == 0, result.stderr
    assert "[1/5]" in result.stderr and "[5/5]" in result.stderr
    assert "no changes" in result.stdout


def test_missing_data_directory_is_one_line(db_url, tmp_path):
    result = run_cli("load", "--data-dir", str(tmp_path / "nowhere"), DATABASE_URL=db_url)
    assert_one_line_error(result, "data directory not found")


def test_non_postgres_url_is_one_line():
    result = run_cli("db", "status", DATABASE_URL="mysql://someone@localhost/db")
    assert result.returncode == 1
    assert "invalid configuration" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_database_is_one_line():
    result = run_cli("db", "up", DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    assert_one_line_error(result, "cannot connect to the database")


def test_status_of_an_unreachable_database_is_one_line():
    result = run_cli("db", "status", DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    assert_one_line_error(result, "cannot connect to the database")
    assert "Connection refused" in result.stderr


def test_db_status_reports_head(db_url):
    result = run_cli("db", "status", DATABASE_URL=db_url)
    assert result.returncode == 0, result.stderr
    _, head = db.migration_state(db_url)
    assert f"revision: {head} (head: {head})" in result.stdout


def test_local_cluster_is_reused_on_the_next_run(settings):
    if not settings.uses_local_db:
        pytest.skip("DATABASE_URL is set: the embedded cluster is not in use")
    messages: list[str] = []
    cluster = LocalCluster(settings, say=messages.append)
    cluster.ensure_running()  # already up from the session fixtures
    assert messages == []  # no install, no initdb, no start: reused as is
    assert (settings.local_db_dir / "cluster" / "PG_VERSION").exists()


def test_data_check_against_the_manifest(data_dir, tmp_path):
    result = run_cli("data", "check", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == 9
    empty = run_cli("data", "check", "--data-dir", str(tmp_path))
    assert_one_line_error(empty, "9 expected file(s) missing")


def test_import_errors_are_one_line_and_round_numbers_work(db_url, tmp_path):
    missing = run_cli("import", str(tmp_path / "nope.csv"), "--round", "R54", DATABASE_URL=db_url)
    assert_one_line_error(missing, "no such file")
    unknown = tmp_path / "r.csv"
    unknown.write_text("pcode,population_type,individuals\nLY010102,migrant,10000\n")
    no_round = run_cli("import", str(unknown), "--round", "9999", DATABASE_URL=db_url)
    assert_one_line_error(no_round, "number 9999")
    dry = run_cli("import", str(unknown), "--round", "54", "--dry-run", DATABASE_URL=db_url)
    assert dry.returncode == 0, dry.stderr
    assert "round R54" in dry.stdout
    huge = tmp_path / "huge.csv"
    huge.write_text("pcode,population_type,individuals\nLY010102,idp," + "9" * 200_000 + "\n")
    result = run_cli("import", str(huge), "--round", "R54", "--dry-run", DATABASE_URL=db_url)
    assert_one_line_error(result, "CSV line")
