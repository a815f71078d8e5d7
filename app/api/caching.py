"""Conditional GETs and a response cache keyed by the data version.

Every data response is a pure function of (data version, path, query), so its body is
rendered once per data version and reused; ETag and Last-Modified come from the same
version, `If-None-Match` answers 304 without rendering, and gzip is done once per body.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime

from fastapi import Request, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.rendered import Rendered

GZIP_MIN_BYTES = 1024
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"


class ResponseCache:
    """A small thread-safe LRU of rendered bodies, bounded by total bytes."""

    def __init__(self, max_bytes: int = 128 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, Rendered] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Rendered | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple, item: Rendered) -> None:
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key).size
            self._items[key] = item
            self._bytes += item.size
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


def data_version(session: Session) -> tuple[int, datetime]:
    row = session.execute(text("SELECT version, changed_at FROM data_version")).one()
    return row[0], row[1]


def _etag(version: int, request: Request) -> str:
    query = "&".join(sorted(request.url.query.split("&"))) if request.url.query else ""
    digest = hashlib.blake2b(f"{request.url.path}?{query}".encode(), digest_size=8).hexdigest()
    return f'"v{version}-{digest}"'


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or etag in candidates


def cached_response(request: Request, session: Session, render: Callable[[], Rendered]) -> Response:
    """Serve `render()`'s output through the cache with validators and gzip."""
    version, changed_at = data_version(session)
    etag = _etag(version, request)
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(changed_at, usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    cache: ResponseCache = request.app.state.response_cache
    key = (version, etag)
    item = cache.get(key)
    if item is None:
        item = render()
        cache.put(key, item)
    headers.update(item.headers)
    body = item.body
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = item.gzipped()
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=item.media_type, headers=headers)
