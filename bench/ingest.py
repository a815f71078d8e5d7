"""Ingest throughput: the Round 54 and Round 39 workbooks end to end (parse, validate,
write), and a bulk synthetic CSV beside a raw COPY of the same rows into a bare table, in
the same run.

Usage: .venv/bin/python bench/ingest.py [--rows 1000000]

Runs in a scratch database (`<name>_bench`, created, migrated, loaded, dropped) on the
configured server. A round's observations hold at most 123 areas x 3 population types x
6 reasons = 2,214 rows, so the bulk measurement posts migrant nationality rows (baladiya x
synthetic nationality), which go through the same pipeline: parse, COPY into staging,
set-based validation, comparison and apply. The same round is then posted again with every
value changed (the re-submission: comparison against a million stored rows, updates and
their history).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from sqlalchemy import text

    from app import db
    from app.db import get_sessionmaker
    from app.ingest import parse, service
    from app.ingest.pipeline import Submission
    from app.ingest.specs import SPECS
    from app.settings import get_settings

    settings = get_settings()
    with scratch_database() as url:
        sessions = get_sessionmaker(url)

        workbook = (
            settings.data_dir
            / "dtm_libya_r54_migrants"
            / ("DTM_Libya_R54_Migrant_Dataset_PUBLIC.xlsx")
        )
        raw = workbook.read_bytes()
        started = time.perf_counter()
        datasets = parse.xlsx_datasets(raw)
        parts = [
            Submission(
                spec=SPECS[name],
                round_code="R54",
                rows=rows,
                source="bench",
                payload_sha256="bench",
            )
            for name, rows in datasets.items()
        ]
        status, body = service.submit(sessions, parts)
        seconds = time.perf_counter() - started
        assert status == 200, body
        print(
            f"R54 workbook end to end: {body['rows']} rows ({body['updated']} updated) in "
            f"{seconds:.2f} s = {body['rows'] / seconds:,.0f} rows/s"
        )
        r39_workbook(settings, sessions, parse, service, Submission, SPECS)

        with sessions() as session:
            pcodes = list(
                session.execute(
                    text("SELECT pcode FROM admin_areas WHERE level = 2 ORDER BY pcode")
                ).scalars()
            )
            session.execute(
                text("""INSERT INTO rounds (code, kind, title, source)
                                    VALUES ('BENCH', 'mobility_tracking', 'bench', 'bench')""")
            )
            session.commit()
        data, written = synthetic_csv(pcodes, args.rows, change=0)
        print(f"synthetic CSV: {written:,} rows, {len(data) / 1e6:.1f} MB")

        engine = db.get_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text("CREATE TABLE bare (pcode text, nationality text, individuals bigint)")
            )
        started = time.perf_counter()
        with engine.begin() as conn:
            cursor = conn.connection.cursor()
            cursor.copy_expert("COPY bare FROM STDIN WITH (FORMAT csv, HEADER)", io.BytesIO(data))
        copy_seconds = time.perf_counter() - started

        timings: dict[str, float] = {}
        current = ["parse", time.perf_counter()]

        def step(message: str) -> None:
            """Charge the time since the last message to the stage it announced."""
            now = time.perf_counter()
            timings[current[0]] = now - current[1]
            current[:] = [message.split(" ")[0], now]

        def timed_import(payload: bytes) -> tuple[dict, float, str]:
            timings.clear()
            started = time.perf_counter()
            current[:] = ["parse", started]
            sub = Submission(
                spec=SPECS["nationalities"],
                round_code="BENCH",
                rows=list(parse.csv_rows("nationalities", payload)),
                source="bench",
                payload_sha256="bench",
            )
            status, body = service.submit(sessions, [sub], progress=step)
            step("end")
            assert status == 200, body
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
            return body, time.perf_counter() - started, steps

        body, pipeline_seconds, steps = timed_import(data)
        assert body["inserted"] == written, body
        print(
            f"raw COPY into a bare table: {copy_seconds:.2f} s = "
            f"{written / copy_seconds:,.0f} rows/s"
        )
        print(
            f"DTM Geo import ({steps}): {pipeline_seconds:.2f} s "
            f"= {written / pipeline_seconds:,.0f} rows/s"
        )
        print(f"ratio: {copy_seconds / pipeline_seconds:.2f} of the raw COPY rate")
        changed, _ = synthetic_csv(pcodes, args.rows, change=1)
        del data
        body, again_seconds, steps = timed_import(changed)
        assert body["updated"] == written and body["inserted"] == 0, body
        print(
            f"re-submission of the same round, every value changed ({steps}): "
            f"{again_seconds:.2f} s = {written / again_seconds:,.0f} rows/s, "
            f"{again_seconds / pipeline_seconds:.2f} x the first import"
        )
        data = synthetic_csv(pcodes, args.rows, change=0)[0]
        floors(engine, written, copy_seconds)
        partition_ceiling(engine, data, written, copy_seconds)


def r39_workbook(settings, sessions, parse, service, submission, specs) -> None:
    """The Round 39 IDP and returnee workbook (663 muhallas) end to end: parse and
    validate it whole, then stage, check and write its 1,326 observations."""
    from app.loaders import dtm_r39

    raw = (settings.data_dir / dtm_r39.FILE).read_bytes()
    started = time.perf_counter()
    datasets = parse.xlsx_datasets(raw)
    parsed = time.perf_counter()
    parts = [
        submission(
            spec=specs[name], round_code="R39", rows=rows, source="bench", payload_sha256="b39"
        )
        for name, rows in datasets.items()
    ]
    status, body = service.submit(sessions, parts)
    seconds = time.perf_counter() - started
    assert status == 200, body
    print(
        f"R39 workbook end to end: {body['rows']} rows ({body['updated']} updated) in "
        f"{seconds:.2f} s (parse and validate {parsed - started:.2f} s) = "
        f"{body['rows'] / seconds:,.0f} rows/s"
    )


def synthetic_csv(pcodes: list[str], rows: int, change: int) -> tuple[bytes, int]:
    """`rows` nationality rows (baladiya x synthetic nationality); `change` shifts values."""
    per_area = -(-rows // len(pcodes))
    csv_text = io.StringIO()
    csv_text.write("pcode,nationality,individuals\n")
    written = 0
    for n in range(per_area):
        for pcode in pcodes:
            if written == rows:
                break
            csv_text.write(f"{pcode},Synthetic-{n:06d},{(n * 7 + written) % 5000 + change}\n")
            written += 1
    return csv_text.getvalue().encode(), written


def floors(engine, rows: int, copy_seconds: float) -> None:
    """What inserting the same rows costs in the target table's shape, without the pipeline:
    no indexes; with its unique and primary key indexes and checks; and with its two
    foreign keys too (whose checks PostgreSQL runs once per row)."""
    from sqlalchemy import text

    shapes = [
        ("no indexes", "INCLUDING DEFAULTS", ""),
        ("+ unique/primary key indexes, checks", "INCLUDING ALL", ""),
        (
            "+ foreign keys (the real table)",
            "INCLUDING ALL",
            "ALTER TABLE {t} ADD FOREIGN KEY (round_id) REFERENCES rounds(id), "
            "ADD FOREIGN KEY (pcode) REFERENCES admin_areas(pcode)",
        ),
    ]
    for i, (label, like, extra) in enumerate(shapes):
        table = f"floor_{i}"
        with engine.begin() as conn:
            round_id = conn.execute(text("SELECT id FROM rounds WHERE code = 'BENCH'")).scalar()
            conn.execute(text(f"CREATE TABLE {table} (LIKE migrant_nationalities {like})"))
            if extra:
                conn.execute(text(extra.format(t=table)))
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO {table} (round_id, pcode, nationality, nationality_provider, "
                    "individuals, source, quality) SELECT :r, pcode, nationality, nationality, "
                    "individuals, 'bench', 'published' FROM bare"
                ),
                {"r": round_id},
            )
        seconds = time.perf_counter() - started
        print(
            f"floor, INSERT ... SELECT {label}: {seconds:.2f} s = {rows / seconds:,.0f} "
            f"rows/s, {copy_seconds / seconds:.2f} of the raw COPY rate"
        )


def partition_ceiling(engine, data: bytes, rows: int, copy_seconds: float) -> None:
    """The best a per-round partition load could do: COPY the file straight into a fresh
    table shaped like the target (constant columns from defaults, no parsing in Python, no
    validation), then build its keys and check its foreign keys set-based, as attaching it
    would need. Each step is timed; the ratio is of the sum."""
    from sqlalchemy import text

    with engine.begin() as conn:
        round_id = conn.execute(text("SELECT id FROM rounds WHERE code = 'BENCH'")).scalar()
        conn.execute(text("CREATE TABLE ceiling (LIKE migrant_nationalities INCLUDING DEFAULTS)"))
        conn.execute(
            text(
                f"ALTER TABLE ceiling ALTER round_id SET DEFAULT {int(round_id)}, "
                "ALTER source SET DEFAULT 'bench', ALTER quality SET DEFAULT 'published', "
                "ALTER nationality_provider SET DEFAULT ''"
            )
        )
    steps = [
        ("COPY into the typed table", None),
        ("unique natural key", "ALTER TABLE ceiling ADD UNIQUE (round_id, pcode, nationality)"),
        ("primary key", "ALTER TABLE ceiling ADD PRIMARY KEY (id)"),
        (
            "foreign keys",
            "ALTER TABLE ceiling ADD FOREIGN KEY (round_id) REFERENCES rounds(id), "
            "ADD FOREIGN KEY (pcode) REFERENCES admin_areas(pcode)",
        ),
    ]
    spent: list[tuple[str, float]] = []
    for label, sql in steps:
        started = time.perf_counter()
        with engine.begin() as conn:
            if sql is None:
                conn.connection.cursor().copy_expert(
                    "COPY ceiling (pcode, nationality, individuals) FROM STDIN "
                    "WITH (FORMAT csv, HEADER)",
                    io.BytesIO(data),
                )
            else:
                conn.execute(text(sql))
        spent.append((label, time.perf_counter() - started))
    seconds = sum(s for _, s in spent)
    parts = ", ".join(f"{label} {s:.2f} s" for label, s in spent)
    print(
        f"ceiling, per-round partition load ({parts}): {seconds:.2f} s = "
        f"{rows / seconds:,.0f} rows/s, {copy_seconds / seconds:.2f} of the raw COPY rate "
        f"(the typed COPY alone: {copy_seconds / spent[0][1]:.2f})"
    )


if __name__ == "__main__":
    main()
