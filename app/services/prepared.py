"""Hot read statements, prepared once per database connection.

PostgreSQL parses and plans a statement sent as text each time it runs: for a page of
100 baladiyas that is 0.3 of its 0.8 ms of CPU, for their map 0.7 of 1.7 ms
(bench/prepared.py). A `Prepared` statement is PREPAREd on a connection the first time it
runs there, and only EXECUTEd after. It runs on the driver's cursor and returns plain
tuples, which also skips SQLAlchemy's result set-up (0.07-0.12 ms of Python per statement).

Only statements of a fixed text are prepared (one per filter combination, see
`app.services.stats._statement`), so a connection holds a bounded set of them. They live
as long as the connection: PostgreSQL re-plans them itself after a schema change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from sqlalchemy.orm import Session

_DOLLAR = PGDialect_psycopg2(paramstyle="numeric_dollar")  # $1, $2: what PREPARE takes
_KNOWN = "dtm_geo.prepared"  # names prepared on a connection, in its `info`


@dataclass
class Rows:
    """A statement's column names and its rows as tuples."""

    columns: list[str]
    rows: list[tuple]

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def one(self) -> dict:
        (row,) = self.rows
        return dict(zip(self.columns, row, strict=True))


class Prepared:
    """A `text()` statement run as a prepared statement, its named parameters bound by
    name as `Session.execute` binds them."""

    def __init__(self, statement: TextClause):
        self.statement = statement
        compiled = statement.compile(dialect=_DOLLAR)
        self.name = "dtm_" + hashlib.blake2b(compiled.string.encode(), digest_size=8).hexdigest()
        self._prepare = f"PREPARE {self.name} AS {compiled.string}"
        arguments = ", ".join(f"%({name})s" for name in compiled.positiontup or ())
        self._execute = f"EXECUTE {self.name}({arguments})" if arguments else f"EXECUTE {self.name}"

    def run(self, session: Session, params: dict) -> Rows:
        connection = session.connection().connection  # the pool's proxy of the DBAPI one
        known = connection.info.setdefault(_KNOWN, set())
        with connection.cursor() as cursor:
            if self.name not in known:
                cursor.execute(self._prepare)
                known.add(self.name)
            cursor.execute(self._execute, params)
            return Rows([column.name for column in cursor.description], cursor.fetchall())
