"""`dtm-geo backup` and `dtm-geo restore`: pg_dump / pg_restore in their custom format.

The binaries are those of the server's PostgreSQL major version (the embedded cluster's
own, from app.localdb, or /usr/lib/postgresql/<major>/bin, else the PATH's if no older
than the server), so a dump is never written by an older pg_dump than its server. The
archive holds every table, the data version included (`data_version`: what caches and
ETags are keyed by), and is restored only into a database that is new or empty, never
over live data.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import db
from app.errors import ConfigError, DtmGeoError
from app.localdb import PG_ROOT, find_binaries

Progress = Callable[[str], None]  # called with each table as it is dumped or restored


@dataclass(frozen=True)
class Snapshot:
    """What a database holds, as the command line reports it."""

    database: str
    data_version: int | None
    revision: str | None
    tables: int
    server_major: int


def _libpq(url: str) -> tuple[str, dict]:
    """A libpq URL (no password in it) and the environment carrying the password."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def snapshot(url: str) -> Snapshot:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
            tables = conn.execute(
                text(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'spatial_ref_sys'"
                )
            ).scalar()
            version = revision = None
            if conn.execute(text("SELECT to_regclass('public.data_version')")).scalar():
                version = conn.execute(text("SELECT max(version) FROM data_version")).scalar()
            if conn.execute(text("SELECT to_regclass('public.alembic_version')")).scalar():
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    return Snapshot(make_url(url).database or "", version, revision, int(tables), major)


def binary(name: str, major: int) -> str:
    """`name` (pg_dump, pg_restore) of PostgreSQL `major`, or a newer one."""
    local = find_binaries()
    candidates = []
    if local and int(local.version) >= major:
        candidates.append(Path(local[name]))
    candidates.append(PG_ROOT / str(major) / "bin" / name)
    for path in candidates:
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if found:
        out = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
        numbers = re.search(r"(\d+)(?:\.\d+)?", out)
        if numbers and int(numbers.group(1)) >= major:
            return found
    raise ConfigError(
        f"{name} of PostgreSQL {major} or newer is not installed: apt-get install "
        f"postgresql-client-{major}"
    )


def _run(command: list[str], env: dict, progress: Progress, pattern: re.Pattern) -> None:
    """Run a pg_dump/pg_restore in verbose mode, reporting each table it reaches; its
    last error line becomes the one-line error."""
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    last_error = ""
    assert process.stderr is not None
    for line in process.stderr:
        found = pattern.search(line)
        if found:
            progress(found.group(1))
        if "error" in line.lower():
            last_error = line.strip()
    if process.wait() != 0:
        name = Path(command[0]).name
        raise DtmGeoError(
            f"{name} failed: {last_error or 'exit status ' + str(process.returncode)}"
        )


DUMPING = re.compile(r'dumping contents of table "?(?:public"?\.)?"?([\w.]+)')
RESTORING = re.compile(r'processing data for table "?(?:public"?\.)?"?([\w.]+)')


def backup(url: str, file: Path, progress: Progress = lambda _: None) -> Snapshot:
    """Dump the database at `url` into `file` (custom format; replaced atomically)."""
    before = snapshot(url)
    address, env = _libpq(url)
    partial = file.with_name(file.name + ".partial")
    command = [
        binary("pg_dump", before.server_major),
        "--format=custom",
        "--verbose",
        "--file",
        str(partial),
        "--dbname",
        address,
    ]
    try:
        _run(command, env, progress, DUMPING)
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)
    return before


def restore(url: str, file: Path, database: str, progress: Progress = lambda _: None) -> Snapshot:
    """Restore `file` into `database` on `url`'s server: created when missing, refused
    when it holds tables already."""
    if not file.is_file():
        raise DtmGeoError(f"{file}: no such file")
    target = empty_target(url, database)
    if not db.database_exists(target):
        db.create_database(target)
    major = snapshot(target).server_major
    address, env = _libpq(target)
    command = [
        binary("pg_restore", major),
        "--verbose",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--dbname",
        address,
        str(file),
    ]
    _run(command, env, progress, RESTORING)
    return snapshot(target)


def empty_target(url: str, database: str) -> str:
    """The URL of `database` on `url`'s server, refused when it holds tables already."""
    target = make_url(url).set(database=database).render_as_string(hide_password=False)
    if db.database_exists(target):
        existing = snapshot(target)
        if existing.tables:
            raise DtmGeoError(
                f"database '{database}' holds {existing.tables} table(s) already: restore into "
                "a new or empty one (--database NAME)"
            )
    return target


def tables_in(file: Path, major: int) -> int:
    """How many tables' data the archive holds (for the progress bar's total)."""
    listed = subprocess.run(
        [binary("pg_restore", major), "--list", str(file)], capture_output=True, text=True
    )
    if listed.returncode != 0:
        tail = (listed.stderr.strip().splitlines() or ["not a pg_dump archive"])[-1]
        raise DtmGeoError(f"{file}: {tail}")
    return sum(1 for line in listed.stdout.splitlines() if " TABLE DATA " in line)
