"""A revoked key stops reading at once in this process, within a second in any other."""

from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient

from app.auth import KeyCache, create_key, revoke_key
from app.db import get_sessionmaker, session_scope
from app.main import create_app
from app.settings import Settings


def test_a_revoked_read_key_is_refused_at_once(db_url, first_load):
    with session_scope(db_url) as session:
        key = create_key(session, "rev-reader", ["read"])
    app = create_app(Settings(database_url=db_url, read_key_required=True, data_version_ttl=0))
    with TestClient(app) as guarded:
        headers = {"X-API-Key": key}
        for _ in range(2):  # the second read is answered from the key and response caches
            assert guarded.get("/api/v1/rounds", headers=headers).status_code == 200
        with session_scope(db_url) as session:  # what `dtm-geo keys revoke` runs
            revoke_key(session, "rev-reader")
        response = guarded.get("/api/v1/rounds", headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "ApiKey"


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_revoked_by_another_process_is_refused_within_a_second(db_url, first_load):
    with session_scope(db_url) as session:
        key = create_key(session, "rev-elsewhere", ["read"])
    clock = Clock()
    cache = KeyCache(get_sessionmaker(db_url), seconds=5, clock=clock)  # capped at 1 s
    assert cache.valid(key)
    revoked = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "revoke", "rev-elsewhere"],
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
    )
    assert revoked.returncode == 0, revoked.stderr
    clock.now += 1.0
    assert not cache.valid(key)


def test_keys_lacking_the_scope_or_unknown_are_never_remembered(db_url, first_load):
    with session_scope(db_url) as session:
        key = create_key(session, "rev-ingest-only", ["ingest"])
    cache = KeyCache(get_sessionmaker(db_url), scope="admin")
    assert not cache.valid(key) and not cache.valid("dtmgeo_nope_nope") and not cache._until
