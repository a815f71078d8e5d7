"""Calendar dates as the API and the loaders read them: the one parser.

A date is written YYYY-MM-DD (ISO 8601's calendar date, four-digit year). Where a
standard also allows a date-time (OGC API's `datetime`, RFC 3339; the DTM API's
`2014-04-01T00:00:00`), `times=True` also takes one and keeps its date, in UTC when it
names an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EXPECTED = "expected a date written YYYY-MM-DD, e.g. 2023-09-10"
EXPECTED_OR_TIME = "expected a date (YYYY-MM-DD) or an RFC 3339 date-time within 0001-9999"


def parse_date(text: str, times: bool = False) -> date:
    """The date `text` writes; ValueError (saying what is expected) otherwise."""
    text = text.strip()
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
        if times and _DATE.match(text):
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return (moment.astimezone(UTC) if moment.tzinfo else moment).date()
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved across UTC
        pass
    raise ValueError(EXPECTED_OR_TIME if times else EXPECTED)
