"""Reads from a streaming replica (DATABASE_REPLICA_URL), never older than what was seen.

Writes, keys and the data-version check go to the primary. A read session is opened on
the replica only when the replica has replayed the data version the primary had (read
at most every DATA_VERSION_TTL seconds: with 0, at every read) and every version this
process has answered with; otherwise, and while the replica cannot be reached, the read
goes to the primary. So a client never sees an older version after a newer one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

VERSION = text("SELECT version FROM data_version")


class ReadSessions:
    """A session factory for reads: the replica's when it is current, else the primary's."""

    def __init__(
        self,
        primary: sessionmaker[Session],
        replica: sessionmaker[Session],
        ttl: float,
        retry_seconds: float = 2.0,
    ):
        self.primary, self.replica, self.ttl, self.retry_seconds = (
            primary,
            replica,
            ttl,
            retry_seconds,
        )
        self._floor = 0  # the newest data version this process knows of
        self._checked = float("-inf")
        self._replica_down_until = 0.0
        self._lock = threading.Lock()
        self.served: Counter[str] = Counter()  # which database answered, for tests

    def _raise_floor(self, version: int) -> None:
        with self._lock:
            self._floor = max(self._floor, version)

    def _wanted(self) -> int:
        now = time.monotonic()
        if now - self._checked >= self.ttl:
            with self.primary() as session:
                self._raise_floor(session.execute(VERSION).scalar_one())
            self._checked = now
        return self._floor

    def __call__(self) -> Session:
        wanted = self._wanted()
        if time.monotonic() >= self._replica_down_until:
            session = self.replica()
            try:
                version = session.execute(VERSION).scalar_one()
            except OperationalError:
                session.close()
                self._replica_down_until = time.monotonic() + self.retry_seconds
            else:
                if version >= wanted:
                    self._raise_floor(version)
                    self.served["replica"] += 1
                    return session
                session.close()  # still replaying: the primary answers this one
        self.served["primary"] += 1
        return self.primary()
