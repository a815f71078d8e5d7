"""Conditional GETs and a response cache keyed by the data version.

Every data response is a pure function of (data version, path, query). It is rendered
once per data version, kept in memory, and answered from there by `CacheMiddleware`
before routing, parameter parsing or any database work. ETag and Last-Modified derive
from the data version; `If-None-Match` answers 304; gzip is done once per body.

The middleware learns the data version from `VersionClock`, which reads the database at
most every `DATA_VERSION_TTL` seconds (default 1): after a write, other processes serve
the previous version for at most that long. Handlers use the same clock and hand the
version to the services through the session (`session.info`), so one request reads it
at most once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import parse_qsl, unquote_plus

import anyio
from cachetools import LRUCache
from fastapi import Request, Response
from sqlalchemy.orm import Session, sessionmaker

from app.api.rendered import Rendered
from app.memo import version_and_time
from app.outage import is_outage

GZIP_MIN_BYTES = 1024
# Fresh for a second: with DATA_VERSION_TTL (1 s), a shared cache in front (nginx,
# deploy/nginx) and browsers hold no answer more than 2 s after a write; then they
# revalidate with If-None-Match, which is answered 304 from memory. On an error upstream
# they may serve it stale for as long as the service itself would (STALE_IF_ERROR).
CACHE_CONTROL = "public, max-age=1, stale-if-error=300"
CACHED_PREFIXES = ("/api/v1/", "/v2/", "/v3/", "/ogc/")


@dataclass
class Entry:
    rendered: Rendered
    etag: str
    last_modified: str
    key_bytes: int = 0
    created: float = field(default_factory=time.monotonic)
    encoded: dict = field(default_factory=dict)  # (variant, outermost) -> the answer's bytes


# Bytes an entry costs beyond its bodies and key: its objects and headers, and the page
# rounding of its two large buffers (mmapped, see app.main) and the heap its small ones
# leave behind: 8 KB held 62-66 MB in a 64 MB bound, so 16 KB keeps the bound with room.
ENTRY_OVERHEAD = 16384


class ResponseCache:
    """A thread-safe LRU of rendered responses, bounded by the bytes it keeps: each
    entry counts its body, its gzipped copy (made before it is counted), its key and a
    fixed overhead, so the bound holds whatever clients accept."""

    def __init__(self, max_bytes: int = 128 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._items: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=_entry_size)
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Entry | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple, entry: Entry) -> None:
        if len(entry.rendered.body) >= GZIP_MIN_BYTES:
            entry.rendered.gzipped()  # counted now, never added after
        entry.key_bytes = len(key[1]) if len(key) > 1 else 0
        if _entry_size(entry) > self.max_bytes:
            return  # larger than the whole cache: served, not kept
        with self._lock:
            self._items[key] = entry

    @property
    def bytes(self) -> int:
        with self._lock:
            return int(self._items.currsize)


def _entry_size(entry: Entry) -> int:
    return entry.rendered.size + entry.key_bytes + ENTRY_OVERHEAD


class VersionClock:
    """The data version as last read from the database, re-read after `ttl` seconds."""

    def __init__(self, sessions: sessionmaker, ttl: float):
        self._sessions, self.ttl = sessions, ttl
        self._value: tuple[int, datetime] | None = None
        self._read_at = 0.0

    def fresh(self) -> tuple[int, datetime] | None:
        if self._value is not None and time.monotonic() - self._read_at < self.ttl:
            return self._value
        return None

    def read(self) -> tuple[int, datetime]:
        with self._sessions() as session:
            return self.observe(data_version(session))

    def observe(self, value: tuple[int, datetime]) -> tuple[int, datetime]:
        self._value, self._read_at = value, time.monotonic()
        return value

    def last_known(self, within: float) -> tuple[int, datetime] | None:
        """The version last read, if read less than `within` seconds ago (for answering
        from the cache while the database cannot be reached)."""
        if self._value is not None and time.monotonic() - self._read_at < within:
            return self._value
        return None


def data_version(session: Session) -> tuple[int, datetime]:
    return version_and_time(session)


KEY = "dtm_geo.cache_key"  # where the middleware leaves a request's key for the route


def scope_key(scope) -> str:
    """The cache key of an ASGI request: the origin it was asked of (answers carry links
    built from it), the path and the parameters."""
    host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
    if not host and scope.get("server"):
        host = "{}:{}".format(*scope["server"])
    origin = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"
    query = scope.get("query_string", b"").decode("latin-1")
    return origin + request_key(scope["path"], query)


def request_key(path: str, query: str) -> str:
    """The path and its parameters in name order; a repeated parameter keeps the order of
    its values, which can matter (?limit=3&limit=1 is not ?limit=1&limit=3)."""
    if not query:
        return path
    return path + "?" + "&".join(sorted(query.split("&"), key=_parameter_name))


def _parameter_name(pair: str) -> str:
    return unquote_plus(pair.split("=", 1)[0])  # l%69mit is limit


def _etag(version: int, key: str) -> str:
    return f'"v{version}-{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}"'


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or etag in candidates


def _answer(entry: Entry, if_none_match: str | None, accept_encoding: str):
    """(status, headers, body) for a cached entry and the request's headers."""
    headers = {
        "ETag": entry.etag,
        "Last-Modified": entry.last_modified,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    if _matches(if_none_match, entry.etag):
        return 304, headers, b""
    headers.update(entry.rendered.headers)
    headers["Content-Type"] = entry.rendered.media_type
    body = entry.rendered.body
    if len(body) >= GZIP_MIN_BYTES and "gzip" in accept_encoding:
        body = entry.rendered.gzipped()
        headers["Content-Encoding"] = "gzip"
    return entry.rendered.status, headers, body


def cached_response(request: Request, session: Session, render: Callable[[], Rendered]) -> Response:
    """Render (once per data version) and answer with validators and gzip."""
    clock: VersionClock = request.app.state.version_clock
    version, changed_at = clock.fresh() or clock.observe(data_version(session))
    session.info["data_version"] = version  # what the services key their memos by
    key = request.scope.get(KEY) or scope_key(request.scope)
    cache: ResponseCache = request.app.state.response_cache
    entry = cache.get((version, key))
    if entry is None:
        etag = _etag(version, key)
        if _matches(request.headers.get("if-none-match"), etag):
            entry = Entry(Rendered(b"", ""), etag, format_datetime(changed_at, usegmt=True))
        else:
            entry = Entry(render(), etag, format_datetime(changed_at, usegmt=True))
            cache.put((version, key), entry)
    status, headers, body = _answer(
        entry, request.headers.get("if-none-match"), request.headers.get("accept-encoding", "")
    )
    media_type = headers.pop("Content-Type", None)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


async def answer(request: Request, session: Session, render: Callable[[], Rendered]) -> Response:
    """`cached_response` for async handlers: rendering, its SQL and closing the session
    happen in one worker thread, so a request costs one thread hop."""

    def work() -> Response:
        try:
            return cached_response(request, session, render)
        finally:
            session.close()

    return await anyio.to_thread.run_sync(work)


async def answer_in_session(request: Request, render: Callable[[Session], Rendered]) -> Response:
    """`answer` for the busiest routes (statistics, tiles): the session is opened in the
    worker thread too, rather than by a dependency (which costs the request 0.07 ms)."""

    def work() -> Response:
        with request.app.state.sessionmaker() as session:  # cached_response sets its version
            return cached_response(request, session, lambda: render(session))

    return await anyio.to_thread.run_sync(work)


class CacheMiddleware:
    """Answer cached GETs (and HEADs) before routing (pure ASGI, for speed).

    With `outermost` (no CORS, read keys or rate limits configured, see app.main), it runs
    before every other middleware, so it adds what they would have: X-Content-Type-Options
    on every answer, the pages' CSP and frame policy on HTML ones (app.web.headers), and it
    leaves to them the requests they change (a browser redirected to an OGC page's HTML, a
    NUL character). Each entry keeps its headers encoded for its variants, so a hit only
    scans the request's headers once and sends bytes."""

    def __init__(self, app, state, outermost: bool = False):
        self.app, self.state, self.outermost = app, state, outermost

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith(CACHED_PREFIXES)
        ):
            return await self.app(scope, receive, send)
        host = if_none_match = accept_encoding = accept = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"if-none-match":
                if_none_match = value
            elif name == b"accept-encoding":
                accept_encoding = value
            elif name == b"accept":
                accept = value
        if self.outermost and _changed_inside(scope, accept):
            return await self.app(scope, receive, send)
        clock: VersionClock = self.state.version_clock
        stale = False
        try:
            value = clock.fresh() or await anyio.to_thread.run_sync(clock.read)
        except Exception as exc:
            if not is_outage(exc):
                raise
            # The database cannot be reached: answer from the cache of the version last
            # read, marked stale, for up to STALE_IF_ERROR seconds; otherwise the routed
            # request reports the outage (503).
            value = clock.last_known(self.state.settings.stale_if_error)
            if value is None:
                return await self.app(scope, receive, send)
            stale = True
        scope[KEY] = key = _key(scope, host)
        entry = self.state.response_cache.get((value[0], key))
        if entry is None:
            return await self.app(scope, receive, send)
        if stale:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            status, out, body = _answer(
                entry, headers.get("if-none-match"), headers.get("accept-encoding", "")
            )
            out["Age"] = str(int(time.monotonic() - entry.created))
            out["Warning"] = '110 - "Response is Stale"'
            out["Cache-Status"] = "dtm-geo; hit; detail=database-unreachable"
            raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in out.items()]
            raw.append((b"content-length", str(len(body)).encode()))
            if self.outermost:
                raw += _own_headers(entry)
        else:
            status, raw, body = _encoded(
                entry,
                if_none_match.decode("latin-1") if if_none_match else None,
                b"gzip" in accept_encoding,
                self.outermost,
            )
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


def _changed_inside(scope, accept: bytes) -> bool:
    """Requests the inner middleware answer otherwise than the cache would: a browser
    asking an OGC page for HTML by Accept alone (redirected), a NUL character (refused)."""
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query or "\x00" in scope["path"]:
        return True
    if scope["path"].startswith("/ogc") and b"html" in accept:
        from app.web.ogc_html import wants_html  # the redirect's own test

        asked = dict(parse_qsl(query.decode("latin-1")))
        return wants_html({**scope, "method": "GET"}) and "f" not in asked
    return False


def _key(scope, host: bytes) -> str:
    if not host and scope.get("server"):
        return scope_key(scope)
    origin = f"{scope.get('scheme', 'http')}://{host.decode('latin-1')}{scope.get('root_path', '')}"
    query = scope.get("query_string", b"").decode("latin-1")
    return origin + request_key(scope["path"], query)


def _own_headers(entry: Entry) -> list[tuple[bytes, bytes]]:
    from app.web.headers import EVERY_ANSWER, HTML_HEADERS

    if entry.rendered.media_type.startswith("text/html"):
        return EVERY_ANSWER + HTML_HEADERS
    return EVERY_ANSWER


def _encoded(entry: Entry, if_none_match: str | None, gzip: bool, outermost: bool):
    """(status, raw headers, body) of a fresh entry, its header lists encoded once."""
    if _matches(if_none_match, entry.etag):
        variant = "304"
    else:
        variant = "gzip" if gzip and len(entry.rendered.body) >= GZIP_MIN_BYTES else "plain"
    cached = entry.encoded.get((variant, outermost))
    if cached is None:
        status, out, body = _answer(
            entry, if_none_match if variant == "304" else None, "gzip" if gzip else ""
        )
        raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in out.items()]
        raw.append((b"content-length", str(len(body)).encode()))
        if outermost:
            raw += _own_headers(entry)
        cached = entry.encoded[(variant, outermost)] = (status, raw, body)
    return cached
