"""`dtm-geo sync`: progress bars per source and a summary; `--every` keeps syncing."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app import db
from app.errors import DtmGeoError
from app.settings import Settings
from app.sync import run, state
from app.sync.http import SourceError

Say = Callable[[str], None]


@contextmanager
def source_bars():
    """A progress callback (source, done, total): one bar per source's rounds or files."""
    console = Console(stderr=True)
    bars = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    tasks: dict[str, int] = {}

    def update(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = bars.add_task(name, total=total)
        bars.update(tasks[name], completed=done, total=total)

    with bars:
        yield update


def sync_once(
    url: str,
    settings: Settings,
    sources: tuple[str, ...],
    operations: list[str] | None,
    from_round: int | None,
    wait: bool,
    echo: Say,
) -> int:
    """One sync of `sources`; the exit status (1 when a round or file was refused)."""
    outcomes, failed = [], []
    with run.sync_lock(url, wait), source_bars() as progress:
        if "dtm-api" in sources:
            try:
                outcomes += run.sync_dtm_api(url, settings, operations, from_round, progress)
            except SourceError as exc:
                if len(sources) == 1:
                    raise
                failed.append(str(exc))  # the other sources still run
        if "hdx" in sources:
            outcomes += run.sync_hdx(url, settings, operations, progress)
    for line in failed:
        echo(f"error: {' '.join(line.split())}")
    for o in outcomes:
        if o.status in ("changed", "held", "refused", "skipped"):
            where = f"{o.source} {o.round_code}" if o.round_code else o.source
            echo(f"{where}: {o.status}: {o.message}")
    written = sum(o.status in ("added", "changed") for o in outcomes)
    echo(
        f"sync: {run.summary(outcomes)}" + ("; nothing new, nothing written" if not written else "")
    )
    return 1 if failed or any(o.status == "refused" for o in outcomes) else 0


def sync_every(url, settings, sources, operations, from_round, every: str, echo: Say, say: Say):
    """Sync now and then after each interval, until interrupted; a failed sync is reported
    and the next one still runs."""
    period = run.interval(every)
    while True:
        try:
            sync_once(url, settings, sources, operations, from_round, wait=True, echo=echo)
        except DtmGeoError as exc:
            say(f"error: {' '.join(str(exc).split())}")
        when = run.next_run_at(period)
        with db.session_scope(url) as session:
            state.next_run(session, when)
        say(f"next sync at {when:%Y-%m-%d %H:%M:%S} UTC")
        run.sleep_until(when)
