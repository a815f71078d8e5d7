"""`dtm-geo`: bring the database up, migrate, load data, serve.

Errors print one line to stderr and exit with status 1; no tracebacks for users.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated

import pydantic
import sqlalchemy.exc
import typer

from app.errors import DtmGeoError
from app.settings import Settings, get_settings

cli = typer.Typer(
    help="DTM Geo: Libya displacement data in PostGIS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(
    help="The database: bring it up, migrate, inspect, remove.", no_args_is_help=True
)
cli.add_typer(db_cli, name="db")


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _one_line_errors(func):
    """Turn expected failures into one clear line on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except DtmGeoError as exc:
            _say(f"error: {' '.join(str(exc).split())}")  # always one line
            raise typer.Exit(1) from None
        except pydantic.ValidationError as exc:  # settings validation
            first = str(exc).strip().splitlines()
            _say(f"error: invalid configuration: {' '.join(first[:3])}")
            raise typer.Exit(1) from None
        except sqlalchemy.exc.OperationalError as exc:  # server down, refused, wrong password
            first = (str(exc.orig or exc).strip().splitlines() or [""])[0]
            hint = " (start it with `dtm-geo db up`)" if get_settings().uses_local_db else ""
            _say(f"error: cannot connect to the database: {first}{hint}")
            raise typer.Exit(1) from None
        except Exception as exc:
            if os.environ.get("DTM_GEO_DEBUG"):
                raise
            first = (str(exc).splitlines() or [""])[0]
            _say(f"internal error: {type(exc).__name__}: {first} (DTM_GEO_DEBUG=1 shows more)")
            raise typer.Exit(2) from None

    return wrapper


def database_up(settings: Settings, migrate: bool = True) -> str:
    """Make the configured database reachable and (optionally) migrated; return its URL."""
    from app import db

    if settings.uses_local_db:
        from app.localdb import LocalCluster

        LocalCluster(settings, say=_say).ensure_running()
        db.create_database(settings.local_database_url)
    url = settings.effective_database_url
    db.require_postgis(url)
    if migrate:
        db.migrate(url)
    return url


@db_cli.command("up")
@_one_line_errors
def db_up(
    migrate: Annotated[bool, typer.Option(help="Apply migrations to head.")] = True,
) -> None:
    """Start the embedded PostGIS when DATABASE_URL is unset, then migrate to head."""
    url = database_up(get_settings(), migrate=migrate)
    _say(f"database ready: {_safe(url)}" + (" (migrated to head)" if migrate else ""))


@db_cli.command("status")
@_one_line_errors
def db_status() -> None:
    """Print the database URL and its migration revision against the code's head."""
    from app import db

    url = get_settings().effective_database_url
    current, head = db.migration_state(url)
    typer.echo(f"database: {_safe(url)}\nrevision: {current or 'none'} (head: {head})")


@db_cli.command("stop")
@_one_line_errors
def db_stop() -> None:
    """Stop the embedded PostGIS (nothing to do with DATABASE_URL set)."""
    from app.localdb import LocalCluster

    LocalCluster(get_settings(), say=_say).stop()


@db_cli.command("destroy")
@_one_line_errors
def db_destroy(yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False) -> None:
    """Stop the embedded PostGIS and delete its folder and every database in it."""
    from app.localdb import LocalCluster

    settings = get_settings()
    if not yes:
        typer.confirm(f"Delete {settings.local_db_dir} and all its databases?", abort=True)
    LocalCluster(settings, say=_say).destroy()


data_cli = typer.Typer(help="The source data directory.", no_args_is_help=True)
cli.add_typer(data_cli, name="data")


@data_cli.command("check")
@_one_line_errors
def data_check(
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder of source data (default: DATA_DIR).")
    ] = None,
) -> None:
    """Compare the data directory with the manifest: every file present, checksums equal."""
    from app.loaders.manifest import check_data_dir

    folder = data_dir or get_settings().data_dir
    checks = check_data_dir(folder)
    for check in checks:
        typer.echo(f"{check.status:<8} {check.path}  [{check.licence}]")
    bad = [c for c in checks if c.status == "missing"]
    changed = [c for c in checks if c.status == "changed"]
    if changed:
        _say(f"note: {len(changed)} file(s) differ from the manifest (a newer copy?)")
    if bad:
        raise DtmGeoError(f"{len(bad)} expected file(s) missing from {folder}")


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def load_progress():
    """A progress callback for `load_default_data`: a bar of its steps on a terminal; one
    line per step otherwise (logs stay readable)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.loaders.default_data import STEPS

    console = _stderr_console()
    if not console.is_terminal:

        def plain(step: int, message: str) -> None:
            _say(f"[{step}/{STEPS}] {message}" if step else f"      {message}")

        yield plain
        return
    with Progress(
        TextColumn("loading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=STEPS)

        def update(step: int, message: str) -> None:
            if step:
                bar.update(task, completed=step - 1, description=message)
            else:
                bar.update(task, description=message)

        yield update
        bar.update(task, completed=STEPS)


def load_data(url: str, data_dir: Path):
    """Load the default data with a progress bar; return the report."""
    from app.loaders.default_data import load_default_data

    with load_progress() as progress:
        return load_default_data(url, data_dir, progress=progress)


@contextmanager
def fetch_progress():
    """A progress callback for `fetch_missing`: a bar per file (bytes, speed) on a
    terminal; one line per finished file otherwise."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    console = _stderr_console()
    if not console.is_terminal:
        done_paths: set[str] = set()

        def plain(path: str, done: int, total: int) -> None:
            if total and done >= total and path not in done_paths:
                done_paths.add(path)
                _say(f"fetched {path} ({done:,} bytes)")

        yield plain
        return
    tasks: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
    ) as bar:

        def update(path: str, done: int, total: int) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(f"fetching {path}", total=total or None)
            bar.update(tasks[path], completed=done, total=total or None)

        yield update


def fetch_data(settings: Settings, data_dir: Path | None = None, mirror: str | None = None):
    """Download the manifest's missing files into the data directory, with a progress bar."""
    from app.loaders.fetch import fetch_missing

    folder = data_dir or settings.data_dir
    with fetch_progress() as progress:
        results = fetch_missing(
            folder,
            mirror or settings.data_mirror_url,
            progress=progress,
            attempts=settings.data_fetch_attempts,
        )
    fetched = [r for r in results if r.status == "downloaded"]
    changed = [r for r in results if r.status == "changed"]
    for r in changed:
        _say(f"note: {r.path} differs from the manifest (kept as is: a newer copy?)")
    _say(
        f"data: {len(fetched)} file(s) downloaded into {folder}, "
        f"{len(results) - len(fetched)} already there"
    )
    return results


@data_cli.command("fetch")
@_one_line_errors
def data_fetch(
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder of source data (default: DATA_DIR).")
    ] = None,
    mirror: Annotated[
        str | None,
        typer.Option(help="Base URL of a mirror (default: DATA_MIRROR_URL, else publishers)."),
    ] = None,
) -> None:
    """Download the missing source files, verify every checksum, keep nothing that fails."""
    fetch_data(get_settings(), data_dir, mirror)


@cli.command("load")
@_one_line_errors
def load(
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder of source data (default: DATA_DIR).")
    ] = None,
) -> None:
    """Load the default data (boundaries, DTM Round 54, published figures, populations)."""
    settings = get_settings()
    url = database_up(settings)
    report = load_data(url, data_dir or settings.data_dir)
    typer.echo(report.summary())


keys_cli = typer.Typer(
    help="API keys for writing (and, if required, reading).", no_args_is_help=True
)
cli.add_typer(keys_cli, name="keys")


@keys_cli.command("create")
@_one_line_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key.")],
    scope: Annotated[
        list[str], typer.Option("--scope", help="read, ingest or admin; repeat for several.")
    ] = ["ingest"],  # noqa: B006
    operation: Annotated[
        str | None,
        typer.Option(help="Limit the key to one operation's writes (ISO3 code or slug)."),
    ] = None,
) -> None:
    """Create a key and print it once; only its digest is stored."""
    from app.auth import create_key
    from app.db import session_scope

    url = database_up(get_settings())
    with session_scope(url) as session:
        key = create_key(session, name, scope, operation)
    _say(
        f"created key '{name}' with scopes {', '.join(sorted(set(scope)))}; "
        "store it now, it is not shown again:"
    )
    typer.echo(key)


@keys_cli.command("revoke")
@_one_line_errors
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key at once."""
    from app.auth import revoke_key
    from app.db import session_scope

    with session_scope(database_up(get_settings())) as session:
        revoke_key(session, name)
    _say(f"revoked key '{name}'")


@keys_cli.command("list")
@_one_line_errors
def keys_list() -> None:
    """Names, scopes and state of the keys (never the keys themselves)."""
    from app.auth import list_keys
    from app.db import session_scope

    with session_scope(database_up(get_settings())) as session:
        for key in list_keys(session):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            typer.echo(f"{key.name:<24} {','.join(key.scopes):<20} {state}")


@cli.command("import")
@_one_line_errors
def import_file(
    file: Annotated[
        Path,
        typer.Argument(help="An XLSX (DTM Libya layouts) or long CSV."),
    ],
    round: Annotated[
        str, typer.Option("--round", help="Target round: its code (R55) or DTM number (55).")
    ],
    source: Annotated[str, typer.Option(help="The publication the figures come from.")] = (
        "IOM DTM Libya"
    ),
    source_url: Annotated[str | None, typer.Option(help="Its address.")] = None,
    quality: Annotated[str, typer.Option(help="published, modelled or synthetic.")] = ("published"),
    replace: Annotated[bool, typer.Option(help="Full resubmission: remove rows it lacks.")] = (
        False
    ),
    dry_run: Annotated[bool, typer.Option(help="Validate and report; write nothing.")] = False,
    operation: Annotated[
        str | None,
        typer.Option(help="Operation whose round number --round is (default: Libya)."),
    ] = None,
) -> None:
    """Import a round's file with the same validation as the API, in one transaction."""
    from app.ingest.commandline import import_file as run_import

    settings = get_settings()
    code = run_import(
        database_up(settings),
        file,
        round,
        source,
        source_url,
        quality,
        replace,
        dry_run,
        say=_say,
        echo=typer.echo,
        operation=operation,
    )
    if code:
        raise typer.Exit(code)


sync_cli = typer.Typer(
    help="Pull new rounds from the live sources: the DTM API and HDX.",
    invoke_without_command=True,
)
cli.add_typer(sync_cli, name="sync")

Operations = Annotated[
    list[str] | None,
    typer.Option("--operation", help="Operation to sync (ISO3 or slug; repeatable; default all)."),
]
Every = Annotated[
    str | None, typer.Option(help="Keep running: sync again after this long (6h, 30m).")
]
Wait = Annotated[bool, typer.Option(help="Wait for a sync already running instead of exiting.")]


def _sync(sources, operation, from_round, every, wait) -> None:
    from app.sync import commandline

    settings = get_settings()
    url = database_up(settings)
    if every:
        commandline.sync_every(
            url, settings, sources, operation, from_round, every, typer.echo, _say
        )
    code = commandline.sync_once(url, settings, sources, operation, from_round, wait, typer.echo)
    if code:
        raise typer.Exit(code)


@sync_cli.callback()
@_one_line_errors
def sync_all(
    ctx: typer.Context, operation: Operations = None, every: Every = None, wait: Wait = False
) -> None:
    """Sync every live source: the DTM API, then HDX."""
    if ctx.invoked_subcommand is None:
        _sync(("dtm-api", "hdx"), operation, None, every, wait)


@sync_cli.command("dtm-api")
@_one_line_errors
def sync_dtm_api(
    operation: Operations = None,
    from_round: Annotated[
        int | None, typer.Option(min=1, help="Read rounds from this number on.")
    ] = None,
    every: Every = None,
    wait: Wait = False,
) -> None:
    """Rounds from the DTM API v3 (DTM_API_URL, key DTM_API_KEY) for each operation."""
    _sync(("dtm-api",), operation, from_round, every, wait)


@sync_cli.command("hdx")
@_one_line_errors
def sync_hdx(operation: Operations = None, every: Every = None, wait: Wait = False) -> None:
    """New or changed workbooks of each operation's HDX datasets (HDX_URL;
    data/catalog/hdx_datasets.csv), through the upload's readers and pipeline."""
    _sync(("hdx",), operation, None, every, wait)


def _table_bar(total: int, verb: str):
    """A progress bar over the tables of a dump or restore (rich, on stderr)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(verb, total=total or None)

    def advance(table: str) -> None:
        bar.update(task, advance=1, description=f"{verb} {table}")

    return bar, advance


@cli.command("backup")
@_one_line_errors
def backup(
    file: Annotated[Path, typer.Argument(help="The archive to write (pg_dump custom format).")],
) -> None:
    """Dump the database (every table, its data version included) into FILE."""
    from app import backup as backups

    url = database_up(get_settings(), migrate=False)
    state = backups.snapshot(url)
    bar, advance = _table_bar(state.tables, "dumping")
    with bar:
        backups.backup(url, file, progress=advance)
    size = file.stat().st_size / 1e6
    _say(
        f"backup of '{state.database}' in {file}: {state.tables} tables, data version "
        f"{state.data_version}, migration {state.revision}, {size:.1f} MB"
    )


@cli.command("restore")
@_one_line_errors
def restore(
    file: Annotated[Path, typer.Argument(help="An archive written by `dtm-geo backup`.")],
    database: Annotated[
        str,
        typer.Option(
            help="The database to restore into, on the configured server: a new or "
            "empty one (created when missing)."
        ),
    ],
) -> None:
    """Restore FILE into a new or empty database (never over live data)."""
    from app import backup as backups

    url = database_up(get_settings(), migrate=False)
    if not file.is_file():
        raise DtmGeoError(f"{file}: no such file")
    backups.empty_target(url, database)  # refused before anything is shown or done
    total = backups.tables_in(file, backups.snapshot(url).server_major)
    bar, advance = _table_bar(total, "restoring")
    with bar:
        state = backups.restore(url, file, database, progress=advance)
    _say(
        f"restored {file} into '{database}': {state.tables} tables, data version "
        f"{state.data_version}, migration {state.revision}; point DATABASE_URL at it to serve it"
    )


@cli.command("serve")
@_one_line_errors
def serve(
    port: Annotated[int | None, typer.Option(help="Port (default: PORT or 8000).")] = None,
    host: Annotated[str | None, typer.Option(help="Interface (default: HOST).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="uvicorn worker processes (default: WORKERS).")
    ] = None,
) -> None:
    """Serve the API (the database must be up; see `dtm-geo run`).

    uvicorn workers under gunicorn's pre-fork master (app.server): the application is
    imported once and every worker forked from it, so a replaced worker serves at once."""
    from app import server

    settings = get_settings()
    if settings.uses_local_db:
        # Workers read their settings from the environment; pin them to the local cluster.
        os.environ["DATABASE_URL"] = settings.local_database_url
        settings = Settings()
    server.run(
        settings,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
    )


@cli.command("run")
@_one_line_errors
def run(
    port: Annotated[int | None, typer.Option(help="Port (default: PORT or 8000).")] = None,
) -> None:
    """Everything `make run` promises: missing data fetched, database up, migrated, default
    data loaded, serving."""
    from app.localdb import ensure_typesetting

    settings = get_settings()
    fetch_data(settings)
    ensure_typesetting(_say)
    url = database_up(settings)
    report = load_data(url, settings.data_dir)
    _say(report.summary())
    serve(port=port, host=None, workers=None)


@cli.command("report")
@_one_line_errors
def report(
    round_code: Annotated[str, typer.Argument(metavar="ROUND", help="Round code (R39, IRQ-R132).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    operation: Annotated[
        str | None, typer.Option(help="Operation (ISO3 or slug); by default the round's.")
    ] = None,
    lang: Annotated[str, typer.Option(help="en or ar.")] = "en",
    format: Annotated[
        str | None, typer.Option(help="pdf or html (default: from the file's suffix, else pdf).")
    ] = None,
) -> None:
    """Write a round report (PDF or HTML, English or Arabic) to a file."""
    from app.db import session_scope
    from app.errors import InvalidParameter
    from app.reports import build

    chosen = format or ("html" if output.suffix.lower() in (".html", ".htm") else "pdf")
    if lang not in ("en", "ar"):
        raise InvalidParameter("--lang", "expected en or ar", lang)
    if chosen not in ("pdf", "html"):
        raise InvalidParameter("--format", "expected pdf or html", chosen)
    with session_scope(database_up(get_settings(), migrate=False)) as session:
        body, _ = build(session, round_code, operation, lang, chosen)
    output.write_bytes(body)
    _say(f"wrote {output} ({len(body):,} bytes)")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
