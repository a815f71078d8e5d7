"""The service against its own OpenAPI description: schemathesis with every check.

A real server on loopback, reading a database of its own (schemathesis posts, replaces
and deletes rounds with an admin key), with the default data loaded. It generates
requests from /openapi.json for every operation and checks status codes, content types,
response schemas, server errors and the rest; the run must end with no failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app import db
from app.auth import create_key
from tests.conftest import _sibling, loaded_copy, serve

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
def conformance_db(server_url: str, db_url: str, first_load):
    url = _sibling(server_url, "conformance")
    loaded_copy(db_url, url)
    with Session(db.get_engine(url)) as session:
        key = create_key(session, "schemathesis", ["admin"])
        session.commit()
    yield url, key
    db.get_engine(url).dispose()
    db.drop_database(url)


def test_every_operation_answers_as_its_description_says(conformance_db):
    url, key = conformance_db
    cli = shutil.which("schemathesis", path=os.path.dirname(sys.executable))
    assert cli, "schemathesis is a dev dependency (pyproject.toml)"
    for base in serve(url):
        result = subprocess.run(
            [cli, "--config-file", str(CONFIG), "run", f"{base}/openapi.json",
             "--checks", "all", "--max-examples", "12", "--workers", "1", "--seed", "1",
             "-H", f"X-API-Key: {key}", "--no-color"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
