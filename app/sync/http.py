"""The HTTP client of the live sources: retries with backoff, Retry-After, and errors as
one line that names the URL (never a key). (`dtm-geo data fetch` has its own urllib
downloader, app.loaders.fetch.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx
import orjson

from app.errors import DtmGeoError

MAX_RETRY_AFTER = 300.0  # seconds; a longer Retry-After ends the sync instead


class SourceError(DtmGeoError):
    """A source could not be read; the message is one line naming what and why."""


@dataclass(frozen=True)
class Retry:
    attempts: int = 4  # tries per request in all
    backoff: float = 1.0  # seconds before the second try; doubled after each
    timeout: float = 60.0  # seconds per request (connect, read)


def _retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


class Client:
    """GETs JSON or files; `auth_hint` says which setting to fix on a 401 or 403."""

    def __init__(
        self,
        headers: dict[str, str] | None = None,
        retry: Retry = Retry(),
        auth_hint: str = "",
    ):
        self.retry = retry
        self.auth_hint = auth_hint
        self.http = httpx.Client(
            headers={"User-Agent": "dtm-geo-sync", **(headers or {})},
            timeout=retry.timeout,
            follow_redirects=True,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def _send(self, url: str, params: dict | None, read: Callable[[httpx.Response], object]):
        """`read(response)` of a 200, after retrying what a retry may cure."""
        shown = str(httpx.URL(url, params=params or {}))
        wait, last = self.retry.backoff, ""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                with self.http.stream("GET", url, params=params) as response:
                    status = response.status_code
                    if status == 200:
                        return read(response)
                    if status in (401, 403):
                        raise SourceError(
                            f"{shown}: HTTP {status}, the key was refused"
                            + (f"; check {self.auth_hint}" if self.auth_hint else "")
                        )
                    if status == 429:
                        pause = _retry_after(response, wait)
                        if pause > MAX_RETRY_AFTER:
                            raise SourceError(
                                f"{shown}: HTTP 429, asked to wait {pause:.0f} s; try later"
                            )
                        last = "HTTP 429 (rate limited)"
                        if attempt < self.retry.attempts:
                            time.sleep(pause)
                            continue
                        break
                    if status < 500:
                        raise SourceError(f"{shown}: HTTP {status}")
                    last = f"HTTP {status}"
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                # refused, reset, timed out, or the body cut short mid-way
                last = f"{type(exc).__name__}: {exc}".rstrip(": ")
            if attempt < self.retry.attempts:
                time.sleep(wait)
                wait *= 2
        raise SourceError(f"{shown}: {last} after {self.retry.attempts} tries")

    def get_json(self, url: str, params: dict | None = None):
        def read(response: httpx.Response):
            body = response.read()
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                shown = str(httpx.URL(url, params=params or {}))
                raise SourceError(f"{shown}: the answer is not JSON") from None

        return self._send(url, params, read)

    def get_bytes(self, url: str, limit: int) -> bytes:
        """A file's bytes; SourceError once it passes `limit` bytes (never held whole)."""

        def read(response: httpx.Response) -> bytes:
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise SourceError(f"{url}: larger than {limit:,} bytes; refused")
                chunks.append(chunk)
            return b"".join(chunks)

        return self._send(url, None, read)
