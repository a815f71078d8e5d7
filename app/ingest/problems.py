"""A refused submission's problems, bounded: the first MAX_LISTED in full, every one
counted, and counts by column and kind of message.

A 49 MB file can hold millions of bad rows; listing them all made a 422 of hundreds of
MB and a worker of 1.5 GB. The answer lists the first 1,000 (by row), says how many
there are in all, and groups them by column and message, with what varies from row to
row (a quoted value, a number) written as `'...'` and `N`, so the groups stay few.
"""

from __future__ import annotations

import re
from collections import Counter

MAX_LISTED = 1000
MAX_GROUPS = 100
# What varies between rows in a message, as POSIX and Python regular expressions alike
# (the same two patterns group the problems found by SQL, in app.ingest.pipeline).
QUOTED = r"'[^']*'"
NUMBER = r"[0-9]+"
_QUOTED, _NUMBER = re.compile(QUOTED), re.compile(NUMBER)


def kind_of(message: str) -> str:
    """A message with its row's values taken out (`'...'`, `N`), for counting."""
    return _NUMBER.sub("N", _QUOTED.sub("'...'", message))


class Problems:
    """Problems found while reading rows: the first MAX_LISTED kept, all counted."""

    def __init__(self) -> None:
        self.listed: list[dict] = []
        self.total = 0
        self.groups: Counter = Counter()

    def append(self, problem: dict) -> None:
        self.total += 1
        key = (problem.get("column", ""), kind_of(problem.get("message", "")))
        if key in self.groups or len(self.groups) < 10 * MAX_GROUPS:
            self.groups[key] += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(problem)

    def __iter__(self):
        return iter(self.listed)

    def __len__(self) -> int:
        return self.total

    def __bool__(self) -> bool:
        return self.total > 0


def summary(groups: Counter) -> list[dict]:
    """The largest groups, most frequent first: {column, message, count}."""
    return [
        {"column": column, "message": message, "count": count}
        for (column, message), count in sorted(groups.items(), key=lambda g: (-g[1], g[0]))[
            :MAX_GROUPS
        ]
    ]
