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
    """Not a terminal (a log): one line per step, no bar drawing, no control characters."""
    result = run_cli("load", "--data-dir", str(data_dir), DATABASE_URL=db_url)
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert [s[:5] for s in steps] == [f"[{n}/6]" for n in range(1, 7)]
    assert "\x1b" not in result.stderr and "\r" not in result.stderr
    assert "no changes" in result.stdout


def test_load_draws_a_progress_bar_on_a_terminal():
    """On a terminal (a pseudo-terminal here) the load's progress is rich's bar of its
    steps, as `dtm-geo load` and `run` draw it (the steps come from the loader)."""
    import pty

    script = (
        "from app.cli import load_progress\n"
        "from app.loaders.default_data import STEPS\n"
        "import time\n"
        "with load_progress() as step:\n"
        "    for n in range(1, STEPS + 1):\n"
        "        step(n, f'step {n}'); time.sleep(0.15)\n"
        "    step(0, 'a note')\n"
    )
    parent, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    process = subprocess.Popen([sys.executable, "-c", script], stderr=child, env=env)
    os.close(child)
    drawn = b""
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    process.wait(timeout=60)
    os.close(parent)
    assert process.returncode == 0
    screen = drawn.decode("utf-8", "replace")
    assert "loading" in screen and "\x1b[" in screen  # a bar drawn with terminal controls
    assert "━" in screen and "/6" in screen and "step 3" in screen


def test_every_command_reads_the_projects_settings_from_any_folder(db_url, first_load, tmp_path):
    """The CLI's commands and the server read one configuration: the project's .env is
    found whatever the working directory, so `db`, `keys`, `import` and `serve` started
    from elsewhere all reach the same database."""
    from app.settings import PROJECT_ROOT

    dotenv = PROJECT_ROOT / ".env"
    if dotenv.exists():
        pytest.skip("this checkout has its own .env")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LOCAL_DB_PORT")}
    dotenv.write_text(f"DATABASE_URL={db_url}\n", encoding="utf-8")

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )

    try:
        status = cli("db", "status")
        assert status.returncode == 0, status.stderr
        assert db_url.rsplit("/", 1)[1] in status.stdout
        created = cli("keys", "create", "t-settings-check", "--scope", "read")
        assert created.returncode == 0, created.stderr
        listed = cli("keys", "list")
        assert "t-settings-check" in listed.stdout
        revoked = cli("keys", "revoke", "t-settings-check")
        assert revoked.returncode == 0, revoked.stderr
        rows = tmp_path / "r.csv"
        rows.write_text("pcode,population_type,individuals\nLY010102,migrant,10\n")
        dry = cli("import", str(rows), "--round", "R54", "--dry-run")
        assert dry.returncode == 0 and "round R54" in dry.stdout, dry.stderr
    finally:
        dotenv.unlink()
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.begin() as conn:
        found = conn.execute(
            text("DELETE FROM api_keys WHERE name = 't-settings-check' RETURNING revoked_at")
        ).all()
    engine.dispose()
    assert len(found) == 1 and found[0].revoked_at is not None


def test_local_db_port_is_the_port_every_command_uses(tmp_path):
    """Without DATABASE_URL, LOCAL_DB_PORT names the embedded cluster for each command."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    for args in (["db", "status"],):
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            capture_output=True,
            text=True,
            env={**env, "LOCAL_DB_PORT": str(port), "LOCAL_DB_DIR": str(tmp_path / "pg")},
            timeout=300,
        )
        assert result.returncode == 1, (args, result.stderr)
        assert str(port) in result.stderr, (args, result.stderr)


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
    assert result.stdout.count("ok ") == 13  # Libya's 5 files, Iraq's 8
    empty = run_cli("data", "check", "--data-dir", str(tmp_path))
    assert_one_line_error(empty, "13 expected file(s) missing")


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
