"""Reads from a real streaming replica, started here from the embedded cluster.

`pg_basebackup -R` copies the cluster (as the `postgres` user when run as root) and the
copy runs on another loopback port, replaying the primary's WAL.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.auth import create_key
from app.db import session_scope
from app.localdb import LocalCluster, find_binaries
from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.usefixtures("scratch_rounds")


def wait_for(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def replica_url(settings, db_url, first_load):
    binaries = find_binaries()
    if not settings.uses_local_db or binaries is None:
        pytest.skip("the replica tests copy the embedded cluster")
    cluster = LocalCluster(settings, say=lambda _: None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="dtm-geo-replica-"))
    datadir = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    primary = make_url(db_url)

    def run(*args: str) -> None:
        done = subprocess.run(cluster._as_owner(list(args)), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    run(
        binaries["pg_basebackup"],
        *("-h", "127.0.0.1", "-p", str(primary.port), "-U", primary.username),
        *("-D", str(datadir), "-R", "-X", "stream", "-c", "fast"),
    )
    start = [binaries["pg_ctl"], "start", "-w", "-D", str(datadir), "-l", str(folder / "log")]
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    run(*start, "-o", options)
    url = primary.set(port=port).render_as_string(hide_password=False)
    yield url, lambda: run(binaries["pg_ctl"], "stop", "-m", "fast", "-D", str(datadir))
    subprocess.run(
        cluster._as_owner([binaries["pg_ctl"], "stop", "-m", "immediate", "-D", str(datadir)]),
        capture_output=True,
    )
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def app_and_key(db_url, replica_url):
    with session_scope(db_url) as session:
        key = create_key(session, "replica-writer", ["admin"])
    app = create_app(
        Settings(database_url=db_url, database_replica_url=replica_url[0], data_version_ttl=0)
    )
    with TestClient(app) as client:
        yield client, key


def served(client) -> dict:
    return dict(client.app.state.sessionmaker.served)


def replayed(replica: str, code: str) -> bool:
    engine = create_engine(replica)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(text("SELECT 1 FROM rounds WHERE code = :c"), {"c": code}).first()
            )
    finally:
        engine.dispose()


def test_reads_are_served_by_the_replica(app_and_key):
    client, _ = app_and_key
    with client.app.state.sessionmaker() as session:
        assert session.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True
    before = served(client).get("replica", 0)
    assert client.get("/api/v1/rounds").status_code == 200
    assert served(client)["replica"] == before + 1


def test_a_write_is_read_back_at_once_and_from_the_replica_after_replay(app_and_key, replica_url):
    client, key = app_and_key
    body = {"kind": "mobility_tracking", "title": "replica", "source": "s"}
    put = client.put("/api/v1/rounds/T-REPLICA", json=body, headers={"X-API-Key": key})
    assert put.status_code == 201, put.text
    # the next read shows the new round, whichever database answers it: never older
    assert client.get("/api/v1/rounds/T-REPLICA").status_code == 200
    wait_for(lambda: replayed(replica_url[0], "T-REPLICA"), "the replica to replay the write")
    before = served(client).get("replica", 0)
    codes = [r["code"] for r in client.get("/api/v1/rounds").json()["data"]]
    assert "T-REPLICA" in codes and served(client)["replica"] == before + 1


def test_reads_fall_back_to_the_primary_when_the_replica_stops(app_and_key, replica_url):
    client, _ = app_and_key
    replica_url[1]()  # pg_ctl stop
    before = served(client).get("primary", 0)
    response = client.get("/api/v1/rounds", params={"kind": "flash_update"})
    assert response.status_code == 200
    assert served(client)["primary"] > before
    with client.app.state.sessionmaker() as session:
        assert session.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is False
