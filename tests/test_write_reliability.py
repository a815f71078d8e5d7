"""Writes under load: off the event loop, bounded lock waits, timeouts, disconnects, limits.

These run the service in its own process (real uvicorn, real sockets), because what they
check (a blocked event loop, a client that hangs up, a body that is never sent) cannot be
seen through the in-process test client.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text

from app.api.writes import WRITING_SWITCH_INTERVAL, run_write, short_slices
from app.auth import create_key
from app.db import get_engine, session_scope, timeouts
from app.ingest import service
from app.ingest.pipeline import RoundBusy, Submission
from app.ingest.specs import SPECS
from app.settings import Settings
from tests.conftest import serve

pytestmark = pytest.mark.usefixtures("scratch_rounds")

ROWS = [{"pcode": "LY010102", "population_type": "idp", "individuals": 10}]
ROUND = {"kind": "mobility_tracking", "title": "reliability", "source": "IOM DTM Libya"}


@pytest.fixture(scope="module")
def key(db_url, first_load):
    with session_scope(db_url) as session:
        return create_key(session, "rel-admin", ["admin"])


@pytest.fixture(scope="module")
def server(db_url, first_load):
    """Write lock waits of 3 s, small bodies (64 KB)."""
    yield from serve(db_url, WRITE_LOCK_TIMEOUT="3", MAX_UPLOAD_BYTES="65536")


@pytest.fixture(scope="module")
def patient_server(db_url, first_load):
    """Writes wait a minute for their round's lock: only a disconnect ends the wait early."""
    yield from serve(db_url, WRITE_LOCK_TIMEOUT="60")


def wait_for(condition, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def lock_waiters(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND wait_event = 'advisory' AND datname = current_database()"
            )
        ).scalar_one()


def put_round(base, key, code):
    response = httpx.put(f"{base}/api/v1/rounds/{code}", json=ROUND, headers={"X-API-Key": key})
    assert response.status_code in (200, 201), response.text


def held(engine, code):
    """A connection holding the round's lock (until it is closed), as a long write would."""
    conn = engine.connect()
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": f"dtm-geo-round:{code}"})
    return conn


def test_reads_answer_while_a_write_waits_for_its_round_and_the_write_gets_409(server, engine, key):
    put_round(server, key, "T-LOCK")
    holder = held(engine, "T-LOCK")
    answer = {}
    try:
        writer = threading.Thread(
            target=lambda: answer.update(
                post=httpx.post(
                    f"{server}/api/v1/rounds/T-LOCK/observations",
                    json={"source": "s", "rows": ROWS},
                    headers={"X-API-Key": key},
                    timeout=60,
                )
            )
        )
        writer.start()
        wait_for(lambda: lock_waiters(engine) == 1, "the write to wait for the lock")
        # the same 2 s budget the probes had; the write is still waiting after them
        for path in ("/healthz", "/readyz", "/api/v1/rounds"):
            assert httpx.get(server + path, timeout=2).status_code == 200, path
        assert writer.is_alive() and lock_waiters(engine) == 1
        writer.join()
    finally:
        holder.close()
    response = answer["post"]
    assert response.status_code == 409, response.text
    assert response.headers["Retry-After"] == "3"
    assert "T-LOCK" in response.json()["detail"]
    with engine.connect() as conn:
        written = conn.execute(
            text("SELECT count(*) FROM submissions WHERE round_code = 'T-LOCK'")
        ).scalar_one()
    assert written == 1  # the round's creation only


def test_metadata_and_delete_also_give_up_on_a_held_round(server, engine, key):
    put_round(server, key, "T-LOCK2")
    holder = held(engine, "T-LOCK2")
    try:
        headers = {"X-API-Key": key}
        put = httpx.put(f"{server}/api/v1/rounds/T-LOCK2", json=ROUND, headers=headers)
        delete = httpx.delete(f"{server}/api/v1/rounds/T-LOCK2", headers=headers)
    finally:
        holder.close()
    for response in (put, delete):
        assert response.status_code == 409 and response.headers["Retry-After"] == "3"


def raw_request(base: str, head: str, body: bytes = b"") -> socket.socket:
    where = urlsplit(base)
    conn = socket.create_connection((where.hostname, where.port), timeout=10)
    conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    return conn


def status_of(conn: socket.socket) -> int:
    reply = b""
    while b"\r\n" not in reply:
        chunk = conn.recv(4096)
        assert chunk, "the server closed the connection without answering"
        reply += chunk
    return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize(
    ("method", "path", "media"),
    [
        ("PUT", "T-BIG", "application/json"),
        ("POST", "T-BIG/observations", "application/json"),
        ("POST", "T-BIG/files?source=s", "text/csv"),
    ],
)
def test_a_huge_declared_body_is_refused_before_it_is_read(server, key, method, path, media):
    head = (
        f"{method} /api/v1/rounds/{path} HTTP/1.1\nHost: test\n"
        f"Content-Type: {media}\nContent-Length: 200000000000\n{{auth}}\n"
    )
    # nothing of the 200 GB is ever sent: an answer proves the body was not waited for
    with raw_request(server, head.format(auth="")) as conn:
        assert status_of(conn) == 401
    with raw_request(server, head.format(auth=f"X-API-Key: {key}\n")) as conn:
        assert status_of(conn) == 413


def test_a_chunked_body_is_cut_off_once_over_the_limit(server, key):
    head = (
        "PUT /api/v1/rounds/T-BIG HTTP/1.1\nHost: test\nContent-Type: application/json\n"
        f"Transfer-Encoding: chunked\nX-API-Key: {key}\n"
    )
    chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
    with raw_request(server, head, chunk * 5) as conn:  # 80 KB, then the stream stalls
        assert status_of(conn) == 413


def test_metadata_body_errors_name_the_field(server, key):
    response = httpx.put(
        f"{server}/api/v1/rounds/T-BAD",
        json={**ROUND, "number": "many"},
        headers={"X-API-Key": key},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "number"
    response = httpx.put(
        f"{server}/api/v1/rounds/T-BAD",
        content=b"{",
        headers={"X-API-Key": key, "Content-Type": "application/json"},
    )
    assert response.status_code == 422


def test_a_client_that_hangs_up_before_the_commit_writes_nothing(patient_server, engine, key):
    base = patient_server
    put_round(base, key, "T-GONE")
    body = httpx.Request(
        "POST", "http://x", json={"source": "s", "rows": ROWS}
    ).content  # the JSON bytes as httpx would send them
    head = (
        "POST /api/v1/rounds/T-GONE/observations HTTP/1.1\nHost: test\n"
        f"Content-Type: application/json\nContent-Length: {len(body)}\n"
        f"X-API-Key: {key}\nIdempotency-Key: gone-1\n"
    )
    holder = held(engine, "T-GONE")
    try:
        conn = raw_request(base, head, body)
        wait_for(lambda: lock_waiters(engine) == 1, "the write to wait for the lock")
        conn.close()
        # the server cancels the waiting statement long before its 60 s lock wait ends
        wait_for(lambda: lock_waiters(engine) == 0, "the write to be cancelled", seconds=20)
    finally:
        holder.close()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT count(*) FROM observations o JOIN rounds r ON r.id = o.round_id "
                "WHERE r.code = 'T-GONE'"
            )
        ).scalar_one()
    assert rows == 0
    # the retry with the same Idempotency-Key is a first write, not a replay
    retry = httpx.post(
        f"{base}/api/v1/rounds/T-GONE/observations",
        content=body,
        headers={
            "X-API-Key": key,
            "Idempotency-Key": "gone-1",
            "Content-Type": "application/json",
        },
    )
    assert retry.status_code == 200 and retry.json()["inserted"] == 1, retry.text


# --- server-side timeouts ------------------------------------------------------------------


def test_every_session_has_server_side_timeouts(client, db_url):
    app = client.app
    for sessions, statement in (
        (app.state.sessionmaker, "30s"),
        (app.state.write_sessionmaker, "15min"),
    ):
        with sessions() as session:
            shown = [
                session.execute(text(f"SHOW {name}")).scalar_one()
                for name in (
                    "statement_timeout",
                    "lock_timeout",
                    "idle_in_transaction_session_timeout",
                )
            ]
        assert shown == [statement, "30s", "1min"]


def test_a_statement_over_its_timeout_is_cancelled(db_url, engine):
    from sqlalchemy.exc import OperationalError

    short = get_engine(db_url, timeouts(Settings(statement_timeout=0.1), write=False))
    with pytest.raises(OperationalError, match="statement timeout"), short.connect() as conn:
        conn.execute(text("SELECT pg_sleep(30)"))


def test_a_stalled_importer_loses_its_session_and_the_rounds_lock(db_url, engine, key):
    """An importer that stops (SIGSTOP: its socket stays open) holding a round's lock."""
    with session_scope(db_url) as session:
        session.execute(
            text(
                "INSERT INTO rounds (operation, code, kind, title, source) "
                "VALUES ('LBY', 'T-STALL', "
                "'mobility_tracking', 'stall', 's')"
            )
        )
    script = (
        "import os, signal\n"
        "from app.db import get_sessionmaker\n"
        "from app.ingest.pipeline import lock_round\n"
        f"session = get_sessionmaker({db_url!r})()\n"
        "lock_round(session, 'T-STALL')\n"
        "print('locked', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGSTOP)\n"
    )
    importer = subprocess.Popen(
        [sys.executable, "-c", script],
        env={**__import__("os").environ, "IDLE_IN_TRANSACTION_TIMEOUT": "1"},
        stdout=subprocess.PIPE,
    )
    try:
        assert importer.stdout.readline().strip() == b"locked"

        def free() -> bool:
            with engine.connect() as conn:
                return conn.execute(
                    text("SELECT pg_try_advisory_xact_lock(hashtext('dtm-geo-round:T-STALL'))")
                ).scalar_one()

        wait_for(free, "PostgreSQL to end the stalled importer's session")
    finally:
        importer.kill()
        importer.wait()


def test_a_killed_importer_mid_statement_frees_the_rounds_lock(db_url, engine):
    """kill -9 during a long statement: the server notices the client is gone within a
    second (client_connection_check_interval) instead of running the statement to its end."""
    with session_scope(db_url) as session:
        session.execute(
            text(
                "INSERT INTO rounds (operation, code, kind, title, source) "
                "VALUES ('LBY', 'T-KILL', "
                "'mobility_tracking', 'kill', 's')"
            )
        )
    script = (
        "from sqlalchemy import text\n"
        "from app.db import get_sessionmaker\n"
        "from app.ingest.pipeline import lock_round\n"
        f"session = get_sessionmaker({db_url!r})()\n"
        "lock_round(session, 'T-KILL')\n"
        "print('locked', flush=True)\n"
        "session.execute(text('SELECT pg_sleep(600)'))\n"
    )
    importer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert importer.stdout.readline().strip() == b"locked"

        def sleeping() -> bool:
            with engine.connect() as conn:
                return bool(
                    conn.execute(
                        text("SELECT 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'")
                    ).first()
                )

        wait_for(sleeping, "the importer's long statement to start")
    finally:
        importer.kill()
        importer.wait()

    def free() -> bool:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT pg_try_advisory_xact_lock(hashtext('dtm-geo-round:T-KILL'))")
            ).scalar_one()

    wait_for(free, "PostgreSQL to end the killed importer's statement", seconds=60)
    assert not sleeping()


def test_the_cli_path_gives_up_on_a_held_round_with_a_clear_error(db_url, engine, key):
    from app.db import get_sessionmaker

    with session_scope(db_url) as session:
        session.execute(
            text(
                "INSERT INTO rounds (operation, code, kind, title, source) VALUES ('LBY', 'T-CLI', "
                "'mobility_tracking', 'cli', 's')"
            )
        )
    holder = held(engine, "T-CLI")
    sessions = get_sessionmaker(db_url, timeouts(Settings()), 0.2)
    sub = Submission(
        spec=SPECS["observations"],
        round_code="T-CLI",
        rows=[{"line": 2, "pcode": "LY010102", "population_type": "idp", "individuals": "1"}],
        source="s",
        payload_sha256="x",
    )
    try:
        with pytest.raises(RoundBusy, match="T-CLI is being written"):
            service.submit(sessions, [sub])
    finally:
        holder.close()


# --- the interpreter's switch interval ---------------------------------------------------------


def _run_write(work):
    """`run_write` as a route calls it, for a client that stays connected."""
    import anyio
    from starlette.requests import Request

    async def receive():
        await anyio.sleep(60)  # no disconnect while the write runs

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    return anyio.run(run_write, request, work)


def test_writes_run_with_short_slices_and_reads_on_the_default():
    before = sys.getswitchinterval()
    assert before == pytest.approx(0.005)  # the interpreter's default: the app leaves it
    assert _run_write(lambda token: sys.getswitchinterval()) == WRITING_SWITCH_INTERVAL
    assert sys.getswitchinterval() == before

    def failing(token):
        raise ValueError("a refused write")

    with pytest.raises(ValueError, match="a refused write"):
        _run_write(failing)
    assert sys.getswitchinterval() == before


def test_slices_stay_short_until_the_last_of_overlapping_writes_ends():
    before = sys.getswitchinterval()
    first_in, second_done, seen = threading.Event(), threading.Event(), []

    def first():
        with short_slices:
            first_in.set()
            second_done.wait(10)
            seen.append(sys.getswitchinterval())

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with short_slices:
        seen.append(sys.getswitchinterval())
    second_done.set()
    thread.join(10)
    assert seen == [WRITING_SWITCH_INTERVAL, WRITING_SWITCH_INTERVAL]
    assert sys.getswitchinterval() == before
