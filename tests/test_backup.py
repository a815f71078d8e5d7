"""`dtm-geo backup` and `dtm-geo restore`: a round trip into a scratch database gives
back every table's rows and the same statistics."""

from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import db
from app.main import create_app
from app.settings import Settings


def dtm_geo(*args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=600,
    )


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ).scalars()
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}
    finally:
        engine.dispose()


def statistics(url: str) -> list:
    with TestClient(create_app(Settings(database_url=url, data_version_ttl=0))) as client:
        answers = []
        for query in ("level=2&round=R54", "level=3&round=R39&limit=1000", "level=0"):
            response = client.get(f"/api/v1/stats?{query}")
            assert response.status_code == 200, response.text
            answers.append(response.json()["data"])
        return answers


def test_backup_and_restore_round_trip(db_url, first_load, tmp_path):
    archive = tmp_path / "dtm-geo.dump"
    name = make_url(db_url).database + "_restored"
    target = make_url(db_url).set(database=name).render_as_string(hide_password=False)
    db.drop_database(target)
    try:
        done = dtm_geo("backup", str(archive), url=db_url)
        assert done.returncode == 0, done.stderr
        assert archive.stat().st_size > 100_000 and archive.read_bytes()[:5] == b"PGDMP"
        assert "data version" in done.stderr.splitlines()[-1]

        restored = dtm_geo("restore", str(archive), "--database", name, url=db_url)
        assert restored.returncode == 0, restored.stderr
        line = restored.stderr.strip().splitlines()[-1]
        assert f"into '{name}'" in line and "data version" in line

        original, copy = row_counts(db_url), row_counts(target)
        assert copy == original and original["observations"] > 1000
        assert statistics(target) == statistics(db_url)

        # never over live data: a database with tables is refused, in one line
        again = dtm_geo("restore", str(archive), "--database", name, url=db_url)
        assert again.returncode == 1
        assert again.stderr.strip().count("\n") == 0 and "new or empty" in again.stderr
        missing = dtm_geo("restore", str(tmp_path / "none.dump"), "--database", "x", url=db_url)
        assert missing.returncode == 1 and "no such file" in missing.stderr
    finally:
        db.get_engine.cache_clear()
        db.drop_database(target)
