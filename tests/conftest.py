"""Test fixtures: a real PostGIS, brought up the same way as `make run`.

Tests use their own databases on the configured server (the embedded cluster when
DATABASE_URL is unset): `<name>_test` for the migrated and loaded data set shared by
the session, and `<name>_scratch` for tests that need an empty database of their own.
The schema always comes from the Alembic migrations.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from app import db
from app.loaders.default_data import LoadReport, load_default_data
from app.main import create_app
from app.settings import Settings


def _sibling(url: str, suffix: str) -> str:
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def server_url(settings: Settings) -> str:
    """URL of the configured database; its server hosts the test databases."""
    if settings.uses_local_db:
        from app.localdb import LocalCluster

        LocalCluster(settings, say=lambda _: None).ensure_running()
    return settings.effective_database_url


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir(settings: Settings) -> Path:
    """DATA_DIR (as `make test` sets it); with DATA_DIR unset and the project's data/ not
    fetched, the developers' copy in ../shared/data, so that single test files run as
    `.venv/bin/python -m pytest tests/test_x.py` on a developer's machine too."""
    path = settings.data_dir
    fetched = (path / "ocha_cod_ab_lby").is_dir()
    if "DATA_DIR" not in os.environ and not fetched and (SHARED_DATA / "ocha_cod_ab_lby").is_dir():
        path = SHARED_DATA
    if not (path / "ocha_cod_ab_lby").is_dir():
        pytest.fail(
            f"DATA_DIR {path} does not hold the source data: run `dtm-geo data fetch` (as "
            "`make test` does) or set DATA_DIR (see data/boundaries/README.md)"
        )
    return path


@pytest.fixture(scope="session")
def db_url(server_url: str) -> str:
    """A freshly created and migrated test database."""
    url = _sibling(server_url, "test")
    db.create_database(url, drop_first=True)
    db.migrate(url)
    return url


@pytest.fixture(scope="session")
def first_load(db_url: str, data_dir: Path) -> Iterator[LoadReport]:
    report = load_default_data(db_url, data_dir)
    # a copy of the loaded database, taken while nobody is connected to it, for tests that
    # need the default data in a database of their own (loading takes close to a minute)
    db.dispose_engines()
    db.create_database(_sibling(db_url, "loaded"), drop_first=True, template=db_url)
    yield report
    db.drop_database(_sibling(db_url, "loaded"))


def loaded_copy(db_url: str, url: str) -> None:
    """`url`'s database as a fresh copy of the loaded default data (see first_load)."""
    db.create_database(url, drop_first=True, template=_sibling(db_url, "loaded"))


@pytest.fixture(scope="session")
def engine(db_url: str, first_load: LoadReport) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def client(db_url: str, first_load: LoadReport) -> Iterator[TestClient]:
    # No version TTL: a test that changes the data sees it at once.
    app = create_app(Settings(database_url=db_url, data_version_ttl=0))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def scratch_url(server_url: str) -> Iterator[str]:
    """An empty database (no schema) for a single test."""
    url = _sibling(server_url, "scratch")
    db.create_database(url, drop_first=True)
    yield url
    db.drop_database(url)


@pytest.fixture(scope="module")
def scratch_rounds(engine) -> Iterator[None]:
    """Test rounds (codes starting 'T-') written by a module are removed after it, so the
    default data set looks the same to every other module."""
    yield
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM submissions WHERE round_code LIKE 'T-%'"))
        conn.execute(text("DELETE FROM rounds WHERE code LIKE 'T-%'"))
        conn.execute(text("UPDATE data_version SET version = version + 1"))


def serve(db_url: str, **env: str) -> Iterator[str]:
    """`dtm-geo serve` in its own process on a free loopback port, reading `db_url` with
    the extra environment `env`; yields its base URL and stops it afterwards."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": db_url, "DATA_VERSION_TTL": "0", "WORKERS": "1", **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("TEST_SERVER_LOGS") else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
    try:
        yield base
    finally:  # also when the test using it failed (the generator is closed)
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(db_url, first_load):
    """The service in its own process, reading the test database.

    A separate process, because GDAL's HTTP client (used through pyogrio) holds the
    interpreter while it waits for answers from a server in the same process.
    """
    yield from serve(db_url)
