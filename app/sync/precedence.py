"""Which source's figure stands when two sources hold one round: the order of precedence.

Every stored figure belongs to a family by its source text: the DTM API's records, files
synced from HDX, or `posted` (figures a DTM team posted or the default data loaded from a
workbook or a report). SYNC_PRECEDENCE lists the families, strongest first; a sync never
overwrites a round holding figures of a stronger family: it compares and reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

FAMILIES = ("posted", "hdx", "dtm-api")
DEFAULT_ORDER = ("posted", "hdx", "dtm-api")

# how each synced family's source text begins (app.sync.dtm_api, app.sync.hdx write them)
PREFIXES = {"dtm-api": "IOM DTM API", "hdx": "HDX "}


def family(source: str) -> str:
    for name, prefix in PREFIXES.items():
        if source.startswith(prefix):
            return name
    return "posted"


def stronger(holders: Iterable[str], incoming: str, order: Sequence[str]) -> list[str]:
    """The sources among `holders` whose family takes precedence over `incoming`'s."""
    rank = {name: i for i, name in enumerate(order)}
    mine = rank[incoming]
    return sorted({s for s in holders if rank[family(s)] < mine})
