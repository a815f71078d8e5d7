"""`/healthz` latency while a write waits for its round's lock, and during a large upload.

Usage: .venv/bin/python bench/write_stall.py --workbook FILE.xlsx

Runs `dtm-geo serve` (one uvicorn worker) on a scratch database (`<name>_bench`: created,
migrated, loaded, dropped). First another connection holds round R54's lock while a POST
to it waits (WRITE_LOCK_TIMEOUT=5), then `--workbook` is posted to R54 (a migrant baseline:
`bench/import_memory.py --rows 1000000 --keep FILE.xlsx` writes one of a million rows).
`/healthz` is probed every 100 ms meanwhile, each with a 2 s budget.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import scratch_database

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def probe(base: str, stop: threading.Event) -> list[float]:
    import httpx

    latencies = []
    with httpx.Client(timeout=2) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                client.get(base + "/healthz").raise_for_status()
                latencies.append(time.perf_counter() - started)
            except httpx.HTTPError:
                latencies.append(float("inf"))
            time.sleep(0.1)
    return latencies


def report(label: str, latencies: list[float], write: str) -> None:
    answered = sorted(x for x in latencies if x != float("inf"))
    missed = len(latencies) - len(answered)
    p99 = answered[int(len(answered) * 0.99) - 1] if answered else float("nan")
    print(
        f"{label}: {len(latencies)} probes, {missed} over 2 s; median "
        f"{statistics.median(answered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max "
        f"{answered[-1] * 1000:.1f} ms; the write: {write}"
    )


def while_writing(base: str, write) -> tuple[list[float], str]:
    stop, answer = threading.Event(), {}
    writer = threading.Thread(target=lambda: answer.update(r=write()))
    prober = threading.Thread(target=lambda: answer.update(p=probe(base, stop)))
    writer.start()
    time.sleep(0.3)  # the write is under way
    prober.start()
    writer.join()
    stop.set()
    prober.join()
    return answer["p"], answer["r"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workbook", type=Path, required=True)
    args = parser.parse_args()

    import httpx
    from sqlalchemy import text

    from app import db
    from app.auth import create_key
    from tests.conftest import serve

    with scratch_database() as url:
        with db.session_scope(url) as session:
            key = create_key(session, "bench", ["admin"])
        headers = {"X-API-Key": key}
        env = {"WRITE_LOCK_TIMEOUT": "5", "MAX_UPLOAD_BYTES": str(2**31)}
        running = serve(url, **env)
        base = next(running)
        engine = db.get_engine(url)
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_xact_lock(hashtext('dtm-geo-round:R54'))"))
            latencies, answer = while_writing(
                base,
                lambda: httpx.post(
                    f"{base}/api/v1/rounds/R54/observations",
                    json={
                        "source": "s",
                        "rows": [
                            {
                                "pcode": "LY010102",
                                "population_type": "migrant",
                                "individuals": 1,
                            }
                        ],
                    },
                    headers=headers,
                    timeout=60,
                ),
            )
        report(
            "while a write waits for its round",
            latencies,
            f"{answer.status_code} Retry-After {answer.headers.get('retry-after')}",
        )

        body = args.workbook.read_bytes()
        what = f"{args.workbook.name}, {len(body) / 1e6:.1f} MB"
        started = time.perf_counter()
        latencies, answer = while_writing(
            base,
            lambda: httpx.post(
                f"{base}/api/v1/rounds/R54/files",
                params={"source": "bench"},
                content=body,
                headers={**headers, "Content-Type": XLSX},
                timeout=1800,
            ),
        )
        seconds = time.perf_counter() - started
        report(
            f"during the upload of {what}",
            latencies,
            f"{answer.status_code} in {seconds:.1f} s",
        )
        next(running, None)  # stops the server


if __name__ == "__main__":
    main()
