"""Cancelling a write from another thread when its client goes away.

The write runs in a worker thread; the event loop notices the disconnect and calls
`cancel()`, which interrupts the running statement (libpq's cancel request) and makes the
write refuse to commit. A write that has committed already stays committed: the client
retries with the same Idempotency-Key and gets the stored answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.errors import DtmGeoError


class ClientGone(DtmGeoError):
    """The client disconnected before the write committed; it was rolled back."""

    status = 499  # nginx's "client closed request": nobody is left to read it


class CancelToken:
    def __init__(self) -> None:
        self.cancelled = False
        self._lock = threading.Lock()
        self._connection = None  # the psycopg2 connection while the write holds it

    def attach(self, connection) -> None:
        with self._lock:
            self._connection = connection
        self.check()

    def detach(self) -> None:
        with self._lock:
            self._connection = None

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._connection is not None:
                self._connection.cancel()

    def check(self) -> None:
        if self.cancelled:
            raise ClientGone("the client went away before the write committed; rolled back")


@contextmanager
def cancellable(session: Session, token: CancelToken) -> Iterator[None]:
    """Let `token` interrupt the session's statements; ClientGone once it has."""
    token.attach(session.connection().connection.dbapi_connection)
    try:
        yield
    except ClientGone:
        session.invalidate()  # a late cancel request must never reach the next user
        raise
    except OperationalError:
        if token.cancelled:
            session.invalidate()
            raise ClientGone("the client went away; the write was rolled back") from None
        raise
    finally:
        token.detach()
