"""Rate limits per API key and scope (as the DTM API limits its subscriptions), and per
client address for reads without a key.

A token bucket per (scope, key or address): `RATE_LIMIT_<SCOPE>` requests a minute,
refilled continuously, of which up to `RATE_LIMIT_BURST` seconds' worth may be spent at
once; `RATE_LIMIT_KEYS` sets other rates for named keys. Over the rate, a request is
answered 429 with `Retry-After` (the seconds until a token is back), as a problem.

The buckets live in each worker process (no shared state, no database round trip per
request): with N workers a client may get up to N times the rate, when its requests
spread over all of them. That is the documented bound; a limit that must hold across
workers and machines belongs in the proxy in front (see README, Deployment).
All limits are off by default (0).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time

import anyio
from cachetools import LRUCache, TTLCache

from app.api.errors import send_problem
from app.auth import KeyInfo, verify
from app.errors import TooManyRequests

SCOPES = ("read", "ingest", "admin")
UNLIMITED_PATHS = ("/healthz", "/readyz", "/static/", "/favicon.ico")


class Limiter:
    """Token buckets, thread-safe (writes take theirs in worker threads)."""

    def __init__(self, settings, clock=time.monotonic):
        self.rates = {
            "read": settings.rate_limit_read,
            "ingest": settings.rate_limit_ingest,
            "admin": settings.rate_limit_admin,
        }
        self.per_key = settings.rate_limit_keys
        self.burst = settings.rate_limit_burst
        self.clock = clock
        self._buckets: LRUCache = LRUCache(maxsize=100_000)
        self._lock = threading.Lock()

    @property
    def any(self) -> bool:
        return any(self.rates.values()) or any(
            rate for rates in self.per_key.values() for rate in rates.values()
        )

    def rate(self, scope: str, key_name: str | None = None) -> float:
        """Requests a minute for `scope` (and a key's own, if it has one); 0: no limit."""
        return self.per_key.get(key_name or "", {}).get(scope, self.rates[scope])

    def wait(self, scope: str, identity: str, key_name: str | None = None) -> float:
        """Take a token: 0 when there was one, else the seconds until there is."""
        rate = self.rate(scope, key_name)
        if rate <= 0:
            return 0.0
        per_second = rate / 60
        capacity = max(1.0, per_second * self.burst)
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get((scope, identity), (capacity, now))
            tokens = min(capacity, tokens + (now - last) * per_second)
            if tokens >= 1:
                self._buckets[(scope, identity)] = (tokens - 1, now)
                return 0.0
            self._buckets[(scope, identity)] = (tokens, now)
            return (1 - tokens) / per_second

    def take(self, scope: str, key: KeyInfo) -> None:
        """For a write by `key`: TooManyRequests when it is over its rate for `scope`."""
        seconds = self.wait(scope, f"key:{key.id}", key.name)
        if seconds:
            raise TooManyRequests(refusal(scope, f"the key '{key.name}'", self, key.name),
                                  retry_after=math.ceil(seconds))  # fmt: skip


def refusal(scope: str, who: str, limiter: Limiter, key_name: str | None = None) -> str:
    rate = limiter.rate(scope, key_name)
    return (
        f"{who} is over its rate of {rate:g} {scope} requests a minute; "
        "retry after the seconds in Retry-After"
    )


class ReadRateLimit:
    """Pure ASGI, before the response cache: GETs (and HEADs) of a verified key count
    against that key, others against the client's address (the proxy's X-Forwarded-For
    when uvicorn trusts it, see README)."""

    def __init__(self, app, limiter: Limiter, sessions, seconds: float = 1.0):
        self.app, self.limiter, self.sessions = app, limiter, sessions
        self._keys: TTLCache = TTLCache(maxsize=10_000, ttl=max(min(seconds, 1.0), 0.01))
        self._lock = threading.Lock()

    def _key(self, presented: str) -> KeyInfo | None:
        digest = hashlib.sha256(presented.encode()).hexdigest()
        with self._lock:
            if digest in self._keys:
                return self._keys[digest]
        with self.sessions() as session:
            key = verify(session, presented)
        with self._lock:
            self._keys[digest] = key
        return key

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or scope["path"].startswith(UNLIMITED_PATHS)
        ):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        presented = headers.get(b"x-api-key") or headers.get(b"ocp-apim-subscription-key")
        key = None
        if presented:
            text = presented.decode("latin-1")
            digest = hashlib.sha256(presented).hexdigest()
            with self._lock:
                known = digest in self._keys
                key = self._keys.get(digest)
            if not known:
                key = await anyio.to_thread.run_sync(self._key, text)
        if key is not None:
            identity, who, name = f"key:{key.id}", f"the key '{key.name}'", key.name
        else:
            address = (scope.get("client") or ("unknown", 0))[0]
            identity, who, name = f"address:{address}", f"the address {address}", None
        seconds = self.limiter.wait("read", identity, name)
        if seconds:
            await send_problem(
                send,
                429,
                refusal("read", who, self.limiter, name),
                {"Retry-After": str(math.ceil(seconds))},
            )
            return
        await self.app(scope, receive, send)
