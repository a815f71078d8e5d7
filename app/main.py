"""The FastAPI application factory."""

from __future__ import annotations

import ctypes
import gc

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __doc__ as description
from app import web
from app.api import (
    areas,
    dtm_compat,
    errors,
    events,
    flows,
    health,
    hotspots,
    indicators,
    ingest,
    maps,
    ogc,
    openapi,
    reports,
    rounds,
    sources,
    stats,
    tiles,
)
from app.api.caching import CacheMiddleware, ResponseCache, VersionClock
from app.api.ratelimit import Limiter, ReadRateLimit
from app.api.writers import JSONResponse
from app.db import get_sessionmaker, timeouts
from app.replica import ReadSessions
from app.settings import Settings, get_settings

# Rendered answers and remembered rows are many long-lived objects; with the interpreter's
# default thresholds its full collections walk them all every few thousand allocations,
# which put 200 ms pauses in the 99th percentile of uncached requests (p99 236 -> 52 ms
# for new baladiya pages at 16 clients with these thresholds, same throughput).
GC_THRESHOLDS = (20_000, 20, 20)


def _tune_malloc() -> None:
    """Answers of a few hundred KB are made and dropped all the time. glibc raises its mmap
    threshold after each such free, after which they come from the heap and leave it
    fragmented: a 64 MB response cache then held ~100 MB above the baseline. A fixed
    threshold keeps them mmapped, so freeing one returns it to the system, and two arenas
    bound what the worker threads keep."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return
    m_mmap_threshold, m_arena_max = -3, -8
    libc.mallopt(m_mmap_threshold, 128 * 1024)
    libc.mallopt(m_arena_max, 2)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (default: the environment's)."""
    settings = settings or get_settings()
    gc.set_threshold(*GC_THRESHOLDS)
    _tune_malloc()
    app = FastAPI(
        title="DTM Geo",
        version="0.1.0",
        description=(description or "")
        + "\n\nIOM DTM Libya figures by mantika and baladiya, for partners and GIS analysts.",
        default_response_class=JSONResponse,
        docs_url=None,  # served by app.web from vendored assets
        redoc_url=None,
    )
    app.state.settings = settings
    url, wait = settings.effective_database_url, settings.write_lock_timeout
    primary = get_sessionmaker(url, timeouts(settings, write=False), wait, reads=True)
    app.state.primary_sessionmaker = primary  # keys and the data-version check
    app.state.sessionmaker = primary  # reads
    if settings.database_replica_url:
        replica = get_sessionmaker(
            settings.database_replica_url, timeouts(settings, write=False), reads=True
        )
        app.state.sessionmaker = ReadSessions(primary, replica, settings.data_version_ttl)
    app.state.write_sessionmaker = get_sessionmaker(url, timeouts(settings), wait)
    app.state.response_cache = ResponseCache(settings.response_cache_bytes)
    app.state.version_clock = VersionClock(primary, settings.data_version_ttl)
    # Middleware added last runs first: NUL guard, then CORS (so cached answers get its
    # headers too), then the response cache, then routing. Without CORS, read keys or rate
    # limits the cache goes first of all (added last, below): a hit runs nothing else.
    app.state.limiter = Limiter(settings)
    outermost = not (settings.cors_origins or settings.read_key_required or app.state.limiter.any)
    if not outermost:
        app.add_middleware(CacheMiddleware, state=app.state)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET"],
            allow_headers=["*"],
            expose_headers=["ETag", "Last-Modified", "X-Total-Count"],
        )
    if settings.read_key_required:
        app.add_middleware(
            errors.ReadKeyGuard,
            sessions=primary,
            seconds=settings.key_cache_seconds,
        )
    if app.state.limiter.any:  # off by default: no cost at all
        app.add_middleware(
            ReadRateLimit,
            limiter=app.state.limiter,
            sessions=primary,
            seconds=settings.key_cache_seconds,
        )
    app.add_middleware(errors.RejectNulCharacters)
    errors.install(app)
    # Routing tries routers in order, and no two share a path: the busiest (tiles, then
    # items and statistics) go first.
    for module in (
        tiles,
        ogc,
        stats,
        health,
        areas,
        rounds,
        ingest,
        flows,
        events,
        hotspots,
        indicators,
        maps,
        reports,
        sources,
        dtm_compat,
    ):
        app.include_router(module.router)
    web.install(app)
    if outermost:
        app.add_middleware(CacheMiddleware, state=app.state, outermost=True)
    openapi.install(app)
    return app
