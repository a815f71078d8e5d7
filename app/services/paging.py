"""A page of results: limit and offset, as services apply them in SQL."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    limit: int | None  # None: no limit
    offset: int = 0


EVERY_ROW = Page(None, 0)


@dataclass
class Paged:
    """The rows of one page and how many rows match in all."""

    rows: list[dict]
    total: int
