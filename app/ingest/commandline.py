"""`dtm-geo import`: a file into a round, with progress and a summary, no HTTP involved."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import text

from app.db import get_sessionmaker, session_scope
from app.errors import DtmGeoError
from app.ingest import parse, service
from app.ingest.specs import QUALITIES
from app.services import operations
from app.weburl import web_url

SHOWN_ERRORS = 20


def _read(path: Path, progress: Progress) -> bytes:
    task = progress.add_task(f"reading {path.name}", total=path.stat().st_size)
    chunks = []
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            chunks.append(chunk)
            progress.advance(task, len(chunk))
    return b"".join(chunks)


def _round_code(url: str, given: str, operation: str | None) -> str:
    """A DTM round number (55) names its operation's mobility-tracking round (R55); the
    default operation's unless `operation` (an ISO3 code or slug) says otherwise."""
    with session_scope(url) as session:
        op = operations.resolve(session, operation)
        if not re.fullmatch(r"[0-9]{1,6}", given):
            return given
        code = session.execute(
            text(
                "SELECT code FROM rounds WHERE number = :n AND kind = 'mobility_tracking' "
                "AND operation = :op ORDER BY reporting_date LIMIT 1"
            ),
            {"n": int(given), "op": op.iso3},
        ).scalar()
    if code is None:
        raise DtmGeoError(
            f"no mobility-tracking round of {op.name_en} has number {given}; list rounds first"
        )
    return code


def import_file(
    url: str,
    path: Path,
    round_code: str,
    source: str,
    source_url: str | None,
    quality: str,
    replace: bool,
    dry_run: bool,
    say: Callable[[str], None],
    echo: Callable[[str], None],
    operation: str | None = None,
) -> int:
    """Returns the exit status: 0 on success, 1 when the file has invalid rows."""
    if quality not in QUALITIES:
        raise DtmGeoError(f"--quality must be one of {', '.join(QUALITIES)}")
    if not path.is_file():
        raise DtmGeoError(f"{path}: no such file")
    try:
        source_url = web_url(source_url)
    except ValueError as exc:
        raise DtmGeoError(f"--source-url: {exc}") from None
    round_code = _round_code(url, round_code, operation)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise DtmGeoError(f"{path.name}: expected an .xlsx or .csv file")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as progress:
        raw = _read(path, progress)
        try:
            # rows are read from the file as the import consumes them
            datasets = (
                parse.xlsx_datasets(raw)
                if suffix == ".xlsx"
                else {"observations": parse.csv_rows("observations", raw)}
            )
        except parse.LayoutError as exc:
            raise DtmGeoError(f"{path.name}: {exc}") from None
        stage = progress.add_task("importing", total=None)

        def step(message: str) -> None:
            progress.update(stage, description=message)

        parts = service.file_parts(
            datasets,
            round_code,
            source=source,
            source_url=source_url,
            quality=quality,
            mode="replace" if replace else "upsert",
            dry_run=dry_run,
            payload_sha256=hashlib.sha256(raw).hexdigest(),
        )
        try:
            status, body = service.submit(get_sessionmaker(url), parts, progress=step)
        except parse.LayoutError as exc:  # found while reading the rows
            raise DtmGeoError(f"{path.name}: {exc}") from None
        progress.update(stage, total=1, completed=1, description="done")
    if status == 422:
        for error in body["errors"][:SHOWN_ERRORS]:
            echo(
                f"row {error['row']}, column {error['column']} ({error['value']!r}): "
                f"{error['message']}"
            )
        more = body["total_errors"] - min(len(body["errors"]), SHOWN_ERRORS)
        if more > 0:
            echo(f"... and {more} more")
        say(f"error: {body['total_errors']} problem(s) in {path.name}; nothing was written")
        return 1
    verb = "would change" if dry_run else "changed"
    echo(
        f"round {round_code}: {body['rows']} rows; {verb}: {body['inserted']} inserted, "
        f"{body['updated']} updated, {body['removed']} removed; {body['unchanged']} unchanged"
        + ("" if dry_run else f"; revision {body.get('round_revision')}")
    )
    return 0
