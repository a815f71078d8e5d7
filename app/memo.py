"""Values computed from the data, remembered per database and data version.

Every write raises the data version, so a value keyed by it can never be stale: a new
version simply misses. Bounded least-recently-used caches (cachetools), safe across the
threads of one process; two threads missing the same key may both compute it, and the
values are equal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from cachetools import LRUCache
from sqlalchemy import text
from sqlalchemy.orm import Session

V = TypeVar("V")


class Lru:
    """A bounded least-recently-used cache (for values that depend on their key alone)."""

    def __init__(self, size: int):
        self._items: LRUCache = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        with self._lock:
            found = self._items.get(key)
        if found is not None:
            return found
        value = compute()  # outside the lock: computing may take a while
        with self._lock:
            self._items[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Memo(Lru):
    """An LRU of at most `size` values, keyed by the session's database and data version."""

    def get(self, session: Session, key: Hashable, compute: Callable[[], V]) -> V:
        full = (database_key(session), data_version(session), key)
        return self.get_or_compute(full, compute)


def database_key(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=True)


def data_version(session: Session) -> int:
    """The data version this session works with: as the web layer observed it for the
    request (`session.info`), else read once and remembered for the session."""
    found = session.info.get("data_version")
    if found is None:
        found = session.info["data_version"] = session.execute(
            text("SELECT version FROM data_version")
        ).scalar_one()
    return found


def version_and_time(session: Session) -> tuple[int, datetime]:
    """The data version and when it last changed."""
    row = session.execute(text("SELECT version, changed_at FROM data_version")).one()
    return row[0], row[1]
