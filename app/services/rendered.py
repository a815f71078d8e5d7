"""A rendered response body, ready to cache (gzip computed once, on first need)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field

from starlette.datastructures import URL


@dataclass
class Rendered:
    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    _gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6)
        return self._gzipped

    @property
    def size(self) -> int:
        return len(self.body) + len(self._gzipped or b"")


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def slice(self, rows: list) -> list:
        return rows[self.offset : self.offset + self.limit]

    def links(self, url: URL, total: int, returned: int) -> dict:
        following = self.offset + self.limit
        previous = max(self.offset - self.limit, 0)
        return {
            "total": total,
            "limit": self.limit,
            "offset": self.offset,
            "returned": returned,
            "next": str(url.include_query_params(offset=following)) if following < total else None,
            "prev": str(url.include_query_params(offset=previous)) if self.offset > 0 else None,
        }
