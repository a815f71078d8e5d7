"""A page of results: limit and offset, as services apply them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def slice(self, rows: list) -> list:
        return rows[self.offset : self.offset + self.limit]
