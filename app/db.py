"""Engines, sessions and database-level helpers (create, drop, check, migrate)."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.errors import DatabaseError
from app.settings import PROJECT_ROOT, Settings, get_settings


def timeouts(settings: Settings, write: bool = True) -> str:
    """libpq `options` setting the server-side timeouts of every session.

    Reads get the short statement timeout; writes and the CLI the long one. The lock and
    idle-in-transaction timeouts hold for both: a killed or stalled client never keeps a
    round's lock for long.
    """
    statement = settings.ingest_statement_timeout if write else settings.statement_timeout
    values = {
        "statement_timeout": statement,
        "lock_timeout": settings.lock_timeout,
        "idle_in_transaction_session_timeout": settings.idle_in_transaction_timeout,
    }
    return " ".join(f"-c {name}={int(seconds * 1000)}" for name, seconds in values.items())


READ_POOL = 16  # connections a read engine keeps per process (and 4 more at a peak)


@lru_cache(maxsize=8)
def get_engine(url: str, options: str | None = None, reads: bool = False) -> Engine:
    """One pooled engine per database URL (and session options) for the life of the process.

    Without `options`, the environment's timeouts for writes and the CLI apply. `reads`:
    the read API's engine (see `get_sessionmaker`): connections in autocommit from the
    start, so a checkout and a return cost no isolation-level change, and a pool as large
    as the requests a worker runs at once, so busy moments do not open and close overflow
    connections.
    """
    if options is None:
        options = timeouts(get_settings())
    pool = {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}
    if reads:
        pool = {"pool_size": READ_POOL, "max_overflow": 4, "pool_pre_ping": False}
        pool |= {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
    engine = create_engine(url, connect_args={"options": options}, **pool)
    event.listen(engine, "connect", _check_client)
    event.listen(engine, "checkout", _refuse_closed)
    _engines.add(engine)
    return engine


_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def dispose_engines() -> None:
    """Close every pooled connection of this process's engines (after the server was
    restarted, say): the next checkout connects afresh."""
    for engine in list(_engines):
        engine.dispose()


def _refuse_closed(dbapi_connection, _record, _proxy) -> None:
    """A pooled connection that psycopg2 knows is closed (it failed while SQLAlchemy was
    not looking: prepared statements and COPY use the driver's cursor) is replaced by a
    new one at checkout instead of failing the next request (the pool retries on
    DisconnectionError). Costs an attribute read."""
    if dbapi_connection.closed:
        raise DisconnectionError("connection closed")


def _check_client(dbapi_connection, _record) -> None:
    """Have the server check every second that the client is still there while it runs a
    statement (PostgreSQL 14+): a killed importer's statement stops within a second instead
    of running to its end while holding the round's lock."""
    if dbapi_connection.server_version >= 140000:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET client_connection_check_interval = 1000")
        dbapi_connection.commit()


@lru_cache(maxsize=8)
def get_sessionmaker(
    url: str,
    options: str | None = None,
    round_lock_wait: float | None = None,
    reads: bool = False,
) -> sessionmaker[Session]:
    """Sessions on `get_engine(url, options)`; `round_lock_wait` bounds how long a write
    waits for a round's lock (seconds; the session's lock_timeout when unset).

    `reads`: sessions of the read API, which never write. Each statement runs on its own
    (autocommit: no BEGIN, no ROLLBACK round trip), and a pooled connection is not pinged
    before use: after an outage the first statement on a dead connection fails (503) and
    empties the pool, and the next request connects afresh. Each answer is built from
    values that each come from one statement, keyed by the data version (app.memo), so
    it needs no snapshot across statements. Saves two of a tile's three round trips."""
    engine = get_engine(url, options, reads)
    return sessionmaker(
        bind=engine,
        expire_on_commit=False,
        info={"round_lock_wait": round_lock_wait},
    )


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _server_url(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    return parsed.set(database="postgres").render_as_string(hide_password=False), parsed.database


def database_exists(url: str) -> bool:
    server, name = _server_url(url)
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            return found.scalar() is not None
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot reach PostgreSQL at {make_url(url).host}: {exc.orig}"
        ) from None
    finally:
        engine.dispose()


def create_database(url: str, drop_first: bool = False, template: str | None = None) -> None:
    """Create the URL's database (dropping it first on request), empty or as a copy of
    the database of URL `template` (which nobody may be connected to meanwhile)."""
    server, name = _server_url(url)
    if drop_first:
        drop_database(url)
    if database_exists(url):
        return
    source = "template0" if template is None else f'"{_server_url(template)[1]}"'
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE {source}"))
    finally:
        engine.dispose()


def drop_database(url: str) -> None:
    server, name = _server_url(url)
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def require_postgis(url: str) -> None:
    """Fail with a clear message when the server has no PostGIS to offer."""
    try:
        with get_engine(url).connect() as conn:
            available = conn.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar()
    except OperationalError as exc:
        raise DatabaseError(f"cannot connect to the database: {exc.orig}".strip()) from None
    if not available:
        raise DatabaseError(
            "the PostGIS extension is not available on this PostgreSQL server: install PostGIS "
            "(e.g. the postgresql-<version>-postgis-3 package) or point DATABASE_URL elsewhere"
        )


def alembic_config(url: str):
    """Alembic configuration for the project's migrations, bound to a database URL."""
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade to `revision`; when that changed the schema of a database holding figures,
    rebuild the derived tables (the stored roll-up) with the code of the schema reached.

    Migrations never call the application's code: code written for the head schema would
    fail on the schema of an intermediate revision."""
    from alembic import command

    require_postgis(url)
    before = migration_state(url)[0]
    command.upgrade(alembic_config(url), revision)
    if before != migration_state(url)[0]:
        _rebuild_derived(url)


def _rebuild_derived(url: str) -> None:
    from app.geo import tile_geometries
    from app.services import rollup

    with session_scope(url) as session:
        if session.execute(text("SELECT EXISTS (SELECT 1 FROM observations)")).scalar():
            rollup.data_changed(session)
        # the polygons of the low-zoom tiles, from the boundaries stored (none when empty),
        # once the schema has their table
        if session.execute(text("SELECT to_regclass('tile_geometries') IS NOT NULL")).scalar():
            tile_geometries.refresh(session)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def migration_state(url: str) -> tuple[str | None, str | None]:
    """(current revision of the database, head revision of the code)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with get_engine(url).connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head
