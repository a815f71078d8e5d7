"""`dtm-geo sync`: every configured live source, one sync at a time per database."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app import db
from app.errors import DtmGeoError
from app.services import operations
from app.settings import Settings
from app.sync import dtm_api, hdx
from app.sync.http import Client, Retry, SourceError

LOCK = "dtm-geo-sync"
STATUSES = ("added", "changed", "unchanged", "held", "refused", "skipped")

Progress = Callable[[str, int, int], None]


class SyncBusy(DtmGeoError):
    """Another sync holds the database's sync lock."""


@contextmanager
def sync_lock(url: str, wait: bool) -> Iterator[None]:
    """The database's one sync lock (a session-level advisory lock), held while syncing;
    without `wait`, SyncBusy at once when another sync has it."""
    with db.get_engine(url).connect() as conn:
        conn.execute(text("SET lock_timeout = 0"))  # a wait here is for the other sync
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(hashtext(:n))"), {"n": LOCK})
        elif not conn.execute(
            text("SELECT pg_try_advisory_lock(hashtext(:n))"), {"n": LOCK}
        ).scalar():
            raise SyncBusy(
                "another `dtm-geo sync` is running against this database; nothing done "
                "(--wait waits for it)"
            )
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(hashtext(:n))"), {"n": LOCK})
            conn.commit()


def chosen_operations(url: str, wanted: list[str] | None) -> list[operations.Operation]:
    """The operations to sync: those named (ISO3 codes or slugs), else every one."""
    with db.session_scope(url) as session:
        if wanted:
            return [operations.resolve(session, w) for w in wanted]
        return list(operations.all_operations(session).values())


def retry_of(settings: Settings) -> Retry:
    return Retry(settings.sync_attempts, settings.sync_backoff, settings.sync_timeout)


def sync_dtm_api(
    url: str,
    settings: Settings,
    wanted: list[str] | None = None,
    from_round: int | None = None,
    progress: Progress = lambda *_: None,
) -> list[dtm_api.Outcome]:
    if settings.dtm_api_key is None or not settings.dtm_api_key.get_secret_value():
        raise SourceError(
            "DTM_API_KEY is not set: the DTM API needs a subscription key "
            "(https://dtm.iom.int/data-and-analysis/dtm-api); nothing written"
        )
    headers = {"Ocp-Apim-Subscription-Key": settings.dtm_api_key.get_secret_value()}
    sessions = db.get_sessionmaker(url)
    outcomes = []
    with Client(headers, retry_of(settings), auth_hint="DTM_API_KEY") as client:
        for op in chosen_operations(url, wanted):
            outcomes += dtm_api.sync_operation(
                client,
                sessions,
                op,
                settings.dtm_api_url,
                tuple(settings.sync_precedence),
                from_round,
                progress,
            )
    return outcomes


def sync_hdx(
    url: str,
    settings: Settings,
    wanted: list[str] | None = None,
    progress: Progress = lambda *_: None,
) -> list[dtm_api.Outcome]:
    """Every configured HDX dataset of the chosen operations (data/catalog/hdx_datasets.csv);
    a dataset whose package cannot be read is reported and the others still run."""
    sessions = db.get_sessionmaker(url)
    outcomes = []
    with Client(None, retry_of(settings)) as client:
        for op in chosen_operations(url, wanted):
            for dataset in hdx.datasets_of(op):
                try:
                    outcomes += hdx.sync_dataset(
                        client,
                        sessions,
                        op,
                        dataset,
                        settings.hdx_url,
                        tuple(settings.sync_precedence),
                        settings.max_upload_bytes,
                        progress,
                    )
                except SourceError as exc:
                    outcomes.append(
                        dtm_api.Outcome(hdx.source_name(dataset), None, "refused", str(exc))
                    )
    return outcomes


def summary(outcomes) -> str:
    counts = Counter(o.status for o in outcomes)
    return ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)


def interval(value: str) -> timedelta:
    """'6h', '30m', '90s', '1d' as a duration."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", value or "")
    if not found or float(found[1]) <= 0:
        raise DtmGeoError(f"--every {value!r}: expected a duration such as 6h, 30m or 90s")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[found[2]]
    return timedelta(**{unit: float(found[1])})


def next_run_at(every: timedelta) -> datetime:
    return datetime.now(UTC) + every


def sleep_until(when: datetime, sleep: Callable[[float], None] = time.sleep) -> None:
    while (left := (when - datetime.now(UTC)).total_seconds()) > 0:
        sleep(min(left, 60.0))
