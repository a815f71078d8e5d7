"""Which failures mean "the database cannot be reached right now" (answered 503).

During an outage, and while PostgreSQL starts or stops, a request can fail in several
ways: SQLAlchemy's OperationalError, InterfaceError or DisconnectionError, a pool
checkout that times out, or psycopg2's own errors from code that uses the driver's
cursor directly (prepared statements, COPY), which SQLAlchemy never wraps. All of them
are the same event for a client: retry shortly.
"""

from __future__ import annotations

import psycopg2
from sqlalchemy import exc as sa

from app.errors import DatabaseError

RETRY_AFTER = 2  # seconds a client is asked to wait when the database is unavailable

_TYPES = (
    sa.OperationalError,
    sa.InterfaceError,
    sa.DisconnectionError,
    sa.TimeoutError,  # QueuePool limit reached: the pool waits for connections that hang
    psycopg2.OperationalError,  # AdminShutdown, CannotConnectNow, a lost connection
    psycopg2.InterfaceError,  # "connection already closed"
)
_MESSAGES = (
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "terminating connection due to administrator command",
    "server closed the connection unexpectedly",
    "connection already closed",
    "could not connect to server",
    "connection refused",
    "can't reconnect until invalid transaction is rolled back",
)


def is_outage(error: BaseException | None) -> bool:
    """True when `error`, or an error it was raised from, is a lost or refused database
    connection (not a bad statement or a constraint)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, (*_TYPES, DatabaseError)):
            return True
        if isinstance(error, sa.DBAPIError) and isinstance(error.orig, _TYPES):
            return True
        message = str(error).lower()
        if isinstance(error, sa.SQLAlchemyError | psycopg2.Error) and any(
            m in message for m in _MESSAGES
        ):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
